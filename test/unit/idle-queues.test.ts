// cli/idle-queues.ts: which queues a sweep needs workers on, and the warning `sweep start` prints for
// those no worker polls, with a command that starts workers on exactly those queues.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleQueue, idleQueuesWarning, pendingStepQueue, sweepQueues } from '../../cli/idle-queues';

const DEFAULTS = { cpuQueue: 'sweep-cpu', gpuQueue: 'sweep-gpu', suggestQueue: 'sweep-suggest' };

test('a grid or random sweep needs the cpu queue\'s workflow workers and the gpu queue\'s activity workers; a bayesian one the suggest queue too', () => {
  assert.deepEqual(sweepQueues({ cpu: 'c', gpu: 'g' }).map((q) => [q.role, q.name, q.type]), [['cpu', 'c', 'workflow'], ['gpu', 'g', 'activity']]);
  assert.deepEqual(sweepQueues({ cpu: 'c', gpu: 'g', suggest: 's' }).map((q) => [q.role, q.name, q.type]), [['cpu', 'c', 'workflow'], ['gpu', 'g', 'activity'], ['suggest', 's', 'activity']]);
});

test('no warning when every queue is polled', () => {
  assert.equal(idleQueuesWarning([], DEFAULTS), undefined);
});

test('a missing suggest worker on the default queue: that queue named, and the roles to start', () => {
  const [, , suggest] = sweepQueues({ cpu: 'sweep-cpu', gpu: 'sweep-gpu', suggest: 'sweep-suggest' });
  const warning = idleQueuesWarning([suggest], DEFAULTS)!;
  assert.match(warning, /^warning: no running worker serves this queue of the sweep \(none polled it in the last minutes, or those that did have stopped\), so it waits there until one does:\n  suggest queue "sweep-suggest": bayesian suggestions/);
  assert.match(warning, /`npm run workers` on this machine/);
  assert.match(warning, /`infra\/node\.sh --import tsx workers\/run-workers\.ts suggest` where they should run/);
  assert.doesNotMatch(warning, /SWEEP_/);
});

test('queues other than the ones this environment\'s workers poll: the command sets the variables that point workers at them', () => {
  const idle = sweepQueues({ cpu: 'sweep-cpu', gpu: 'big-gpus', suggest: 'sweep-suggest' });
  const warning = idleQueuesWarning(idle, DEFAULTS)!;
  assert.equal(warning.split('\n').filter((line) => line.startsWith('  ')).length, 3);
  assert.match(warning, /`SWEEP_GPU_QUEUE=big-gpus npm run workers`/);
  assert.match(warning, /`SWEEP_GPU_QUEUE=big-gpus infra\/node\.sh --import tsx workers\/run-workers\.ts cpu,gpu,suggest`/);
});

test('a pending step\'s queue as the role that polls it, told by the activity, whatever the queues are named', () => {
  const role = (step: { activity?: string; taskQueue: string }) => { const q = pendingStepQueue(step); return [q.role, q.name, q.type]; };
  assert.deepEqual(role({ taskQueue: 'c' }), ['cpu', 'c', 'workflow']);
  assert.deepEqual(role({ activity: 'ingestDataset', taskQueue: 'c' }), ['cpu', 'c', 'activity']);
  assert.deepEqual(role({ activity: 'rankSweep', taskQueue: 'x' }), ['cpu', 'x', 'activity']);
  for (const gpu of ['extractFeatures', 'trainTrial', 'evaluateTrial', 'exportModel']) assert.deepEqual(role({ activity: gpu, taskQueue: 'c' }), ['gpu', 'c', 'activity']);
  assert.deepEqual(role({ activity: 'suggestTrials', taskQueue: 's' }), ['suggest', 's', 'activity']);
});

test('the CPU queue\'s steps waiting while its workflows are served: said to be a CPU worker that has lost S3', () => {
  const steps = pendingStepQueue({ activity: 'ingestDataset', taskQueue: 'sweep-cpu' });
  assert.deepEqual([steps.role, steps.type], ['cpu', 'activity']);
  const warning = idleQueuesWarning([steps], DEFAULTS)!;
  assert.match(warning, /\n {2}cpu queue "sweep-cpu": ingest, balance, split, ranking; its CPU workers run the sweep but take none of its steps: a CPU worker that has lost S3 takes none until S3 answers \(its log says so\)\n/);
  assert.match(idleQueuesWarning([pendingStepQueue({ taskQueue: 'sweep-cpu' })], DEFAULTS)!, /cpu queue "sweep-cpu": the sweep and its trials \(workflows\)/, 'no CPU worker at all: the whole role');
});

test('the workers a queue had and lost: the last heard first, what each kind of end may mean, at most three named', () => {
  const at = Date.UTC(2026, 11, 5, 13, 40, 12);
  const [cpu, gpu, suggest] = sweepQueues({ cpu: 'sweep-cpu', gpu: 'sweep-gpu', suggest: 'sweep-suggest' });
  const gone = (hows: ReadonlyArray<'shut down' | 'silent'>) => hows.map((how, i) => ({ identity: `${i + 1}@h`, at: at - i * 1000, how }));
  const linesOf = (queue: IdleQueue) => idleQueuesWarning([queue], DEFAULTS)!.split('\n').filter((l) => l.startsWith('    '));
  assert.deepEqual(linesOf({ ...gpu, gone: gone(['silent']) }), ['    its last worker: 1@h silent since 2026-12-05 13:40:12 UTC (killed, or cut off from Temporal)']);
  assert.deepEqual(linesOf({ ...gpu, gone: gone(['shut down']) }), ['    its last worker: 1@h shut down at 2026-12-05 13:40:12 UTC (stopped, redeployed, or shut down until S3 answers it again: its log says which)']);
  const steps = pendingStepQueue({ activity: 'ingestDataset', taskQueue: 'sweep-cpu' });
  assert.match(linesOf({ ...steps, gone: gone(['shut down']) })[0], /\(stopped, redeployed, or shut down until S3 answers it again: its log says which\)$/);
  // A workflow worker and the suggest worker never shut down for S3.
  assert.match(linesOf({ ...cpu, gone: gone(['shut down']) })[0], /1@h shut down at 2026-12-05 13:40:12 UTC \(stopped or redeployed\)$/);
  assert.match(linesOf({ ...suggest, gone: gone(['shut down']) })[0], /\(stopped or redeployed\)$/);
  assert.deepEqual(linesOf({ ...gpu, gone: gone(['shut down', 'silent', 'shut down', 'silent', 'silent']) }), [
    '    its last workers: 1@h shut down at 2026-12-05 13:40:12 UTC; 2@h silent since 2026-12-05 13:40:11 UTC; 3@h shut down at 2026-12-05 13:40:10 UTC; and 2 more ' +
    '(shut down: stopped, redeployed, or shut down until S3 answers it again: its log says which; silent: killed, or cut off from Temporal)',
  ]);
  assert.deepEqual(linesOf(gpu), [], 'none known: no line');
});
