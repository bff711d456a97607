// The sweep's CPU worker (its workflow worker) killed with kill -9 while trials train on the GPU worker:
// the server lists its polls for minutes, so at first nothing looks missing, and a query waits ~30 s for
// it. `sweep status` answers within its 10 s patience from what the server knows (stage, running
// trials, their activities) and says why; `sweep watch` keeps showing the trials' epochs and says the
// sweep does not answer (one started after the kill shows the trials the server lists); within about
// 30 s of the kill, by the worker's heartbeats, status says no running worker serves the sweep's queue;
// with a CPU worker back, the sweep completes, and watch says it answers again (or that it completed).
// The sweep is a grid search ranked by val loss, which status reads from its spec when it does not answer.
// Runs on a private stack (its own Temporal dev server and MinIO), workers as separate processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../../platform/config';
import { Leaderboard } from '../../lib/sweep-types';
import { progressQuery } from '../../workflows';
import type { StatusDocument } from '../../cli/status';
import type { SweepListEntry } from '../../cli/list';
import { tinyFlowerDataset, tinySpec, uniqueId } from './harness';
import { waitFor } from '../waiting';
import { PrivateStack, WorkerProcess, startPrivateStack } from './private-stack';

const queues = { cpuQueue: 'cpu-down-cpu', gpuQueue: 'cpu-down-gpu' };
// Batch size 2 on the tiny set: 800 epochs took 25 s here, too close to the ~15 s from the kill to
// watch's notice and an epoch after it on a faster machine. 2000 leave a margin of about 3x.
const EPOCHS = 2000;

let stack: PrivateStack;
let cpuWorker: WorkerProcess;

before(async () => {
  await tinyFlowerDataset();
  stack = await startPrivateStack();
  cpuWorker = stack.spawnWorker('cpu', queues);
  const gpuWorker = stack.spawnWorker('gpu', queues);
  await Promise.all([cpuWorker.ready, gpuWorker.ready]);
});

after(async () => { await stack?.destroy(); });

test('with its CPU worker killed, status answers within its patience from the server and watch keeps showing the training; the sweep completes once a CPU worker is back', { timeout: 300_000 }, async () => {
  // A grid search ranked by val loss: status of a sweep that does not answer reads the objective from its spec.
  const choice = (...values: number[]) => ({ type: 'choice', values });
  const spec = await tinySpec(queues, {
    reuse: false, concurrency: 2, grid: undefined,
    search: {
      method: 'grid', objective: { metric: 'valLoss' },
      space: { hidden_units: choice(8, 16), dropout: choice(0.5), lr: choice(0.01), batch_size: choice(2), n_epochs: choice(EPOCHS) },
    },
  });
  const id = uniqueId('it-cpu-down');
  const handle = await stack.client.workflow.start('sweepWorkflow', { taskQueue: queues.cpuQueue, workflowId: id, args: [spec], workflowExecutionTimeout: '10m' });
  const watch = watchPlain(id);
  let late: ReturnType<typeof watchPlain> | undefined;
  try {
    await waitFor('both trials training', async () => {
      const progress = await handle.query(progressQuery);
      return progress.stage === 'training' && progress.running.length === 2;
    }, 120_000, 200);
    await waitFor('watch to show an epoch', async () => / epoch \d+\/\d+ done/.test(watch.output), 60_000, 200);
    // Its heartbeats (every 10 s) must name their interval, as its second does: the first, 10 s after
    // the start, names none, and leaves the CLI the SDKs' default of 60 s to judge by.
    await waitFor('the CPU worker\'s second heartbeat', async () => {
      const { workersInfo } = await stack.client.workflowService.listWorkers({ namespace: stack.client.options.namespace, query: `TaskQueue = '${queues.cpuQueue}'` });
      return workersInfo?.some((w) => w.workerHeartbeat?.elapsedSinceLastHeartbeat);
    }, 60_000, 1_000);
    cpuWorker.kill('SIGKILL');
    const killedAt = Date.now();
    await cpuWorker.exited;

    const began = Date.now();
    const status = await stack.cli(['status', id, '--json']);
    const took = Date.now() - began;
    assert.equal(status.code, 0, status.stderr);
    // Without its own deadline the query waited ~30 s and status showed no stage at all.
    assert.ok(took < 20_000, `status took ${took} ms`);
    const doc = JSON.parse(status.stdout) as StatusDocument;
    assert.equal(doc.stage, 'training');
    assert.deepEqual(doc.trialsRunning, [1, 2]);
    assert.equal(doc.trialsCompleted, 0);
    // It waits out the 10 s, or the server, having seen no poll for a while, refuses the query at once.
    assert.match(doc.unanswered ?? '', /^the sweep did not answer(?: within 10 s: no workflow worker is taking its tasks|: no poller seen for task queue recently, worker may be down)/);
    assert.deepEqual(doc.pendingActivities?.map((a) => a.activity), ['trainTrial', 'trainTrial']);
    // The search attributes do not hold it; before, an unanswered status left it out.
    assert.deepEqual(doc.objective, { metric: 'valLoss', direction: 'minimize' });
    // Nor does list ask the sweep: its memo says what it is ranked by.
    const listed = await stack.cli(['list', '--json']);
    assert.deepEqual((JSON.parse(listed.stdout) as SweepListEntry[]).find((e) => e.sweepId === id)?.objective, { metric: 'valLoss', direction: 'minimize' });
    assert.match((await stack.cli(['list'])).stdout, new RegExp(`best_val_acc +ranked_by[\\s\\S]*^ *${id} +RUNNING( +\\S+){5} +valLoss minimize `, 'm'));
    const text = await stack.cli(['status', id]);
    // Each trial's epoch, read from its activity's heartbeat as watch reads it, under the counts.
    assert.match(text.stdout, new RegExp(`^sweep ${id}: RUNNING \\(training\\)\ntrials: 0 done, running 2 \\(runs 1, 2\\), failed 0\n  run 1: epoch +\\d+/${EPOCHS}.*\n  run 2: epoch +\\d+/${EPOCHS}.*\nnote: the sweep did not answer`));

    // A watch started now has no answer at all: it shows the trials the server lists, and their epochs.
    late = watchPlain(id);
    const listedRun = (run: number) => new RegExp(`\\] run ${run} running: .*hidden_units=\\d+`);
    await waitFor('a late watch to show both trials and an epoch', async () => {
      const after = late!.output.split(listedRun(2))[1];
      return listedRun(1).test(late!.output) && after !== undefined && / epoch \d+\/\d+ done/.test(after);
    }, 60_000, 200);
    late.kill();

    // Once its last heartbeat is two intervals and 10 s old (about 30 s), status names the CPU queue as
    // one no running worker serves, and asks no query (before, the server's list of pollers kept the
    // killed worker for about 5 minutes).
    const idle = await waitFor('status to say no running worker serves the CPU queue', async () => {
      const doc = JSON.parse((await stack.cli(['status', id, '--json'])).stdout) as StatusDocument;
      const cpu = doc.waitingForWorkers?.find((w) => w.role === 'cpu' && w.taskQueue === queues.cpuQueue);
      return cpu && /^the sweep was not asked/.test(doc.unanswered ?? '') ? cpu : undefined;
    }, 60_000, 1_000);
    const detectedAfter = Date.now() - killedAt;
    assert.ok(detectedAfter < 60_000, `detected after ${detectedAfter} ms`);
    // The killed worker is named as gone, silent since its last heartbeat (a kill sends no shutdown).
    assert.deepEqual(idle.gone?.map((w) => [w.identity.split('@')[0], w.how]), [[String(cpuWorker.pid), 'silent']]);
    assert.ok(killedAt - Date.parse(idle.gone![0].at) < 15_000, `its last heartbeat ${idle.gone![0].at}, killed at ${new Date(killedAt).toISOString()}`);
    assert.match((await stack.cli(['status', id])).stdout, new RegExp(`\\n {4}its last worker: ${cpuWorker.pid}@\\S+ silent since [-\\d]+ [:\\d]+ UTC \\(killed, or cut off from Temporal\\)\\n`));

    // watch says so, and goes on showing epochs read from the trials' heartbeats.
    const notice = /\] the sweep has not answered for \d+ s: no workflow worker is taking its tasks/;
    await waitFor('watch to say the sweep does not answer, then show an epoch', async () => {
      const after = watch.output.split(notice)[1];
      return after !== undefined && / epoch \d+\/\d+ done/.test(after);
    }, 60_000, 200);

    const back = stack.spawnWorker('cpu', queues);
    await back.ready;
    const board = await handle.result() as Leaderboard;
    assert.equal(board.ranked.length, 2);
    assert.equal(await watch.ended, 0, watch.output);
    const output = watch.output;
    const lines = output.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const noticeAt = at(notice);
    const completedAt = at(new RegExp(`\\] sweep ${id} COMPLETED$`));
    // A poll between the CPU worker's return and the sweep's end says it answers again; a sweep that
    // ends first (its trials had finished training) says so by completing.
    const answersAt = at(/\] the sweep answers again$/);
    const againAt = answersAt >= 0 ? answersAt : completedAt;
    assert.ok(noticeAt > 0 && againAt > noticeAt && completedAt >= againAt, `notice (line ${noticeAt}), answers again (${answersAt}), completed (${completedAt}):\n${output}`);
    assert.ok(lines.slice(noticeAt, againAt).some((l) => / epoch \d+\/\d+ done/.test(l)), `epochs shown while the sweep did not answer:\n${output}`);
    assert.equal(lines.filter((l) => notice.test(l)).length, 1, 'the notice is said once');
  } finally {
    watch.kill();
    late?.kill();
    await handle.terminate('test over').catch(() => undefined);
  }
});

/** `sweep watch <id> --plain`, its output so far (stdout and stderr) and its exit code once it ends. */
function watchPlain(id: string) {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'sweep.js'), 'watch', id, '--plain', '--interval', '0.5'], { env: stack.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const watch = {
    output: '',
    ended: new Promise<number | null>((resolve) => child.on('exit', resolve)),
    kill: () => { child.kill('SIGKILL'); },
  };
  child.stdout.on('data', (chunk: Buffer) => { watch.output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { watch.output += chunk.toString(); });
  return watch;
}
