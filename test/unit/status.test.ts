// cli/status.ts: what `sweep status` says of a running sweep that does not answer its query (from its
// search attributes and pending trial workflows), and its text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TypedSearchAttributes } from '@temporalio/common';
import { attributeProgress, progressFields, statusText } from '../../cli/status';
import { trialRunOf, trialWorkflowId } from '../../lib/live-leaderboard';
import type { Objective } from '../../lib/search/objective';
import type { TrialSummary } from '../../lib/sweep-types';
import { STOP_REASONS_SHOWN } from '../../views/stop-reasons';
import { SEARCH_ATTRIBUTES, trainingLeaseWorkflow, trialWorkflow } from '../../workflows';

const child = (workflowId: string, type: string) => ({ workflowId, workflowTypeName: type });

describe('attributeProgress', () => {
  test('stage, counts and best from the search attributes; running trials from the pending trial workflows (not leases, not other ids)', () => {
    const sweep = {
      workflowId: 's1',
      typedSearchAttributes: new TypedSearchAttributes([
        { key: SEARCH_ATTRIBUTES.status, value: 'training' },
        { key: SEARCH_ATTRIBUTES.done, value: 3 },
        { key: SEARCH_ATTRIBUTES.running, value: 2 },
        { key: SEARCH_ATTRIBUTES.failed, value: 1 },
        { key: SEARCH_ATTRIBUTES.best, value: 0.75 },
      ]),
      raw: { pendingChildren: [child('s1.trial-012', trialWorkflow.name), child('s1.trial-004', trialWorkflow.name), child('s1.trial-004.lease', trainingLeaseWorkflow.name), child('s10.trial-001', trialWorkflow.name)] },
    };
    assert.deepEqual(attributeProgress(sweep as never), { stage: 'training', trialsCompleted: 3, trialsRunning: [4, 12], trialsFailed: 1, bestValAccuracy: 0.75 });
  });

  test('before the sweep\'s first update: nothing', () => {
    assert.deepEqual(attributeProgress({ workflowId: 's1', typedSearchAttributes: new TypedSearchAttributes([]), raw: {} } as never), {});
  });
});

test('trialRunOf is trialWorkflowId\'s inverse, and undefined for any other id', () => {
  for (const run of [1, 12, 999, 1000]) assert.equal(trialRunOf('s.1', trialWorkflowId('s.1', run)), run);
  for (const id of ['s.1.trial-', 's.1.trial-01', 's.1.trial-001x', 'x.trial-001', 's.1.trial-001.lease']) assert.equal(trialRunOf('s.1', id), undefined, id);
});

describe('statusText', () => {
  test('a sweep that did not answer: its stage, the counts it has (no total), and why', () => {
    const text = statusText({ sweepId: 's1', status: 'RUNNING', stage: 'training', trialsCompleted: 3, trialsRunning: [4, 12], trialsFailed: 0, unanswered: 'the sweep did not answer: x' });
    assert.equal(text, 'sweep s1: RUNNING (training)\ntrials: 3 done, running 2 (runs 4, 12), failed 0\nnote: the sweep did not answer: x');
  });

  test('an answered one as before: done of the total', () => {
    const text = statusText({ sweepId: 's1', status: 'RUNNING', stage: 'training', trialsTotal: 8, trialsCompleted: 3, trialsRunning: [4], trialsFailed: 0, bestValAccuracy: 0.5 });
    assert.equal(text, 'sweep s1: RUNNING (training)\ntrials: 3 of 8 done, running 1, failed 0\nbest val accuracy so far: 50.0%');
  });

  test('the trial table is in rank order, by the objective, whatever order the trials finished in; failed ones last', () => {
    const trial = (run: number, valAccuracy: number, valLoss: number, status: TrialSummary['status'] = 'completed') =>
      ({ trialId: `t${run}`, run, params: { lr: 0.1 }, status, epochsDone: 2, ...(status === 'failed' ? {} : { valAccuracy, valLoss, trainAccuracy: 0.5, trainLoss: 1 }) }) as TrialSummary;
    const finished = [trial(1, 0.5, 0.2), trial(2, 0.7, 0.9), trial(3, 0, 0, 'failed'), trial(4, 0.9, 0.5)];
    const runsInTable = (objective?: Objective) => statusText({ sweepId: 's1', status: 'RUNNING', stage: 'training', trials: finished, ...(objective ? { objective } : {}) })
      .split('\n').filter((line) => /^ +\d+ +\d+ /.test(line)).map((line) => line.trim().split(/ +/).slice(0, 2).join(':'));
    assert.deepEqual(runsInTable(), ['1:4', '2:2', '3:1', '4:3'], 'rank:run, by val accuracy');
    assert.deepEqual(runsInTable({ metric: 'valLoss', direction: 'minimize' }), ['1:1', '2:4', '3:2', '4:3'], 'by val loss');
  });

  test('a search ranked by another objective says so beside the best trial\'s val accuracy, which need not be the highest', () => {
    const doc = { sweepId: 's1', status: 'RUNNING', stage: 'training' as const, trialsTotal: 8, trialsCompleted: 3, trialsRunning: [4], trialsFailed: 0, bestValAccuracy: 0.5 };
    assert.match(statusText({ ...doc, objective: { metric: 'valLoss', direction: 'minimize' } }), /^best val accuracy so far: 50\.0%, ranked by validation loss \(lower is better\)$/m);
    assert.match(statusText({ ...doc, objective: { metric: 'valAccuracy', direction: 'maximize' } }), /^best val accuracy so far: 50\.0%$/m);
    assert.deepEqual(progressFields({ stage: 'training', trialsTotal: 8, trials: [], running: [], objective: { metric: 'valLoss', direction: 'minimize' } }).objective, { metric: 'valLoss', direction: 'minimize' });
  });

  test('stop reasons under the table, the first STOP_REASONS_SHOWN, and where the rest are: --json', () => {
    const stopped = (run: number) => ({ trialId: `t${run}`, run, params: { lr: 0.1 }, status: 'stopped', epochsDone: 1, valAccuracy: run / 100, valLoss: 1, trainAccuracy: 0.5, trainLoss: 1,
      stopped: { epoch: 1, rule: 'asha', reason: `reason of run ${run}` } }) as TrialSummary;
    const lines = statusText({ sweepId: 's1', status: 'RUNNING', stage: 'training', trials: Array.from({ length: STOP_REASONS_SHOWN + 25 }, (_, i) => stopped(i + 1)) }).split('\n');
    assert.equal(lines.filter((line) => /^run \d+ reason of run \d+$/.test(line)).length, STOP_REASONS_SHOWN);
    assert.equal(lines.at(-1), 'and 25 more stopped early: `sweep status s1 --json` has every reason (trials[].stopped.reason)');
  });

  test('each running trial\'s training under the counts, as watch words it', () => {
    const text = statusText({ sweepId: 's1', status: 'RUNNING', stage: 'training', trialsTotal: 8, trialsCompleted: 3, trialsRunning: [4, 5], trialsFailed: 0, trialsTraining: [
      { run: 4, epochsDone: 6, of: 20, batch: 3, attempt: 2, metrics: { epoch: 6, trainLoss: 0.5, trainAccuracy: 0.8, valLoss: 0.25, valAccuracy: 0.9, epochDuration: 1, runDuration: 6 } },
      { run: 5, epochsDone: 0, of: 20, attempt: 1, queued: true }, { run: 6, epochsDone: 3, of: 20, attempt: 1, waiting: true }] });
    assert.deepEqual(text.split('\n').slice(2), [
      '  run 4: epoch  7/20 batch 3 · epoch 6 val acc 90.0% loss 0.2500 · attempt 2 (resumed)',
      '  run 5: queued for a free GPU worker slot',
      '  run 6: at epoch 3/20, waiting for the early-stopping decision',
    ]);
  });

  test('a step waiting for a free slot: the queue, its workers and their slots, one line each', () => {
    const text = statusText({ sweepId: 's1', status: 'RUNNING', stage: 'training', waitingForSlots: [
      { role: 'gpu', taskQueue: 'big-gpus', workers: 2, slots: 8 }, { role: 'suggest', taskQueue: 'sweep-suggest', workers: 1, slots: 1 }] });
    assert.deepEqual(text.split('\n').slice(1), [
      'waiting for a free slot on the gpu queue "big-gpus": its 2 workers have all 8 slots taken (as of their last heartbeats); the step starts when one frees, or on a worker started for the queue',
      'waiting for a free slot on the suggest queue "sweep-suggest": its worker has its 1 slot taken (as of its last heartbeat); the step starts when one frees, or on a worker started for the queue',
    ]);
  });
  test('a GPU queue whose only worker shut down: the warning names it, when, and what a shutdown may mean', () => {
    const text = statusText({ sweepId: 's1', status: 'RUNNING', stage: 'training', waitingForWorkers: [
      { role: 'gpu', taskQueue: 'sweep-gpu', type: 'activity', gone: [{ identity: '7823@node-3', at: '2026-12-05T13:40:12.345Z', how: 'shut down' }] }] });
    const lines = text.split('\n');
    const queueLine = lines.findIndex((l) => l.startsWith('  gpu queue "sweep-gpu"'));
    assert.ok(queueLine > 0, text);
    assert.equal(lines[queueLine + 1], '    its last worker: 7823@node-3 shut down at 2026-12-05 13:40:12 UTC (stopped, redeployed, or shut down until S3 answers it again: its log says which)');
  });
});
