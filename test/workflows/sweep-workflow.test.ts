// The sweep and trial workflows with fake activities (test/workflows/fake-activities.ts) on a local
// Temporal dev server started by the test from the installed CLI: the DAG's order, a failed trial,
// cancellation, the training lease and reuse. No MinIO (an in-memory object store), no training;
// seconds, not minutes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker, WorkflowBundleWithSourceMap, bundleWorkflowCode } from '@temporalio/worker';
import { REPO_ROOT } from '../../platform/config';
import { MemoryObjectStore } from '../../platform/memory-store';
import { setObjectStore } from '../../platform/storage';
import { TrialInput } from '../../lib/sweep-types';
import { SEARCH_ATTRIBUTES, progressQuery, sweepWorkflow } from '../../workflows';
import { CLASSES, Fakes, fakeActivities } from './fake-activities';

const TEMPORAL = process.env.SWEEP_TEMPORAL_BIN ?? path.join(REPO_ROOT, '.stack', 'bin', 'temporal');

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let queueCount = 0;

before(async () => {
  assert.ok(fs.existsSync(TEMPORAL), `no Temporal CLI at ${TEMPORAL}: run \`npm run setup\` (or set SWEEP_TEMPORAL_BIN)`);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  setObjectStore(new MemoryObjectStore());
  [env, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: TEMPORAL }, searchAttributes: Object.values(SEARCH_ATTRIBUTES) },
    }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') }),
  ]);
});

after(async () => {
  await env?.teardown();
});

function spec(patch: Record<string, unknown> = {}) {
  queueCount++;
  return {
    name: 'wf-test',
    data: { source: './nowhere', classes: CLASSES },
    backbone: { uri: 'file:///models/fake/model.json' },
    grid: { hidden_units: [8, 16], n_epochs: [1] },
    augmentation: { enabled: false },
    taskQueues: { cpu: `wf-cpu-${process.pid}-${queueCount}`, gpu: `wf-gpu-${process.pid}-${queueCount}` },
    ...patch,
  };
}

/** Runs `body` with a CPU worker (workflows + CPU fakes) and a GPU worker (GPU fakes) on the spec's queues. */
async function withWorkers<T>(raw: ReturnType<typeof spec>, fakes: Fakes, body: () => Promise<T>): Promise<T> {
  const connection = env.nativeConnection;
  const cpu = await Worker.create({ connection, taskQueue: raw.taskQueues.cpu, workflowBundle: bundle, activities: fakes.cpu });
  // Heartbeats reach the server at once, so a cancel reaches a running fake within a second.
  const gpu = await Worker.create({ connection, taskQueue: raw.taskQueues.gpu, activities: fakes.gpu, maxHeartbeatThrottleInterval: '100ms' });
  return cpu.runUntil(gpu.runUntil(body));
}

const startSweep = (raw: ReturnType<typeof spec>, id: string) =>
  env.client.workflow.start(sweepWorkflow, { taskQueue: raw.taskQueues.cpu, workflowId: `${id}-${process.pid}-${queueCount}`, args: [raw] });

/** Index of the first and last call of `activity` in the log; -1 when never called. */
function span(calls: string[], activity: string): [number, number] {
  const hits = calls.flatMap((c, i) => (c.endsWith(`:${activity}`) ? [i] : []));
  return hits.length ? [hits[0], hits[hits.length - 1]] : [-1, -1];
}

describe('sweep workflow with fake activities', () => {
  test('runs the DAG in order, each step on its own queue', async () => {
    const raw = spec();
    const fakes = fakeActivities();
    const board = await withWorkers(raw, fakes, async () => (await startSweep(raw, 'dag')).result());
    const order = ['ingestDataset', 'balanceDataset', 'splitDataset', 'extractFeatures', 'planTrials', 'writeTensorboardExperiment', 'trainTrial', 'evaluateTrial', 'exportModel', 'rankSweep', 'writeReport'];
    for (let i = 1; i < order.length; i++) {
      const [, lastBefore] = span(fakes.calls, order[i - 1]);
      const [first] = span(fakes.calls, order[i]);
      assert.ok(lastBefore >= 0 && first > lastBefore, `${order[i - 1]} before ${order[i]}: ${fakes.calls.join(', ')}`);
    }
    // 2 train shards + val + test, one activity each; two trials, each trained and evaluated once.
    assert.equal(fakes.calls.filter((c) => c.endsWith(':extractFeatures')).length, 4);
    assert.equal(fakes.calls.filter((c) => c.endsWith(':trainTrial')).length, 2);
    for (const call of fakes.calls) {
      const gpuStep = /:(extractFeatures|trainTrial|evaluateTrial|exportModel)$/.test(call);
      assert.ok(call.startsWith(gpuStep ? raw.taskQueues.gpu : raw.taskQueues.cpu), call);
    }
    assert.equal(board.status, 'completed');
    assert.deepEqual(board.ranked.map((t) => t.run), [2, 1]);
    assert.equal(board.model?.run, 2);
    assert.match(board.artifacts.report ?? '', /report\.html$/);
  });

  test('a failed trial is reported and not retried; the others finish', async () => {
    const raw = spec();
    const base = fakeActivities();
    const fakes = fakeActivities({
      trainTrial: async (input) => {
        if (input.trial.run === 1) throw ApplicationFailure.nonRetryable('the head diverged', 'DataError');
        return base.gpu.trainTrial(input);
      },
    });
    const board = await withWorkers(raw, fakes, async () => (await startSweep(raw, 'failed')).result());
    assert.deepEqual(board.ranked.map((t) => t.run), [2]);
    assert.deepEqual(board.failed.map((t) => [t.run, t.status, t.error]), [[1, 'failed', 'the head diverged']]);
    assert.equal(fakes.calls.filter((c) => c.endsWith(':trainTrial')).length, 2, 'a DataError is not retried');
  });

  test('cancelling stops training, skips the export and still writes the results', async () => {
    const raw = spec({ grid: { hidden_units: [8], n_epochs: [1] } });
    let started!: () => void;
    const training = new Promise<void>((resolve) => { started = resolve; });
    const fakes = fakeActivities({
      trainTrial: async () => {
        started();
        for (;;) {
          Context.current().heartbeat();
          await Context.current().sleep(100); // rejects with CancelledFailure once the cancel arrives
        }
      },
    });
    await withWorkers(raw, fakes, async () => {
      const handle = await startSweep(raw, 'cancel');
      await training;
      await handle.cancel();
      await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure);
      const progress = await handle.query(progressQuery);
      assert.equal(progress.stage, 'cancelled');
      assert.deepEqual(progress.trials.map((t) => t.status), ['cancelled']);
    });
    assert.ok(fakes.calls.some((c) => c.endsWith(':rankSweep')));
    assert.ok(!fakes.calls.some((c) => c.endsWith(':exportModel')));
  });

  test('two sweeps sharing a trial train it one at a time (the lease), the second reuses it', async () => {
    const raw = spec({ grid: { hidden_units: [8], n_epochs: [1] } });
    let running = 0;
    let most = 0;
    const inputs: TrialInput[] = [];
    const base = fakeActivities();
    const fakes = fakeActivities({
      trainTrial: async (input) => {
        inputs.push(input);
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        running--;
        return base.gpu.trainTrial(input);
      },
    });
    const [first, second] = await withWorkers(raw, fakes, async () => {
      const handles = [await startSweep(raw, 'lease-a'), await startSweep(raw, 'lease-b')];
      return Promise.all(handles.map((h) => h.result()));
    });
    assert.equal(most, 1, 'never trained twice at once');
    assert.equal(inputs.length, 2);
    assert.equal(inputs[0].trial.trialId, inputs[1].trial.trialId, 'the same trial');
    assert.ok(inputs.every((i) => i.reuse), 'reuse is on by default');
    assert.deepEqual([first.reusedTrials, second.reusedTrials].sort(), [0, 1]);
  });

  test('with reuse off, a finished trial is trained again', async () => {
    const raw = spec({ grid: { hidden_units: [8], n_epochs: [1] }, reuse: false });
    const fakes = fakeActivities();
    const boards = await withWorkers(raw, fakes, async () => [
      await (await startSweep(raw, 'noreuse-a')).result(),
      await (await startSweep(raw, 'noreuse-b')).result(),
    ]);
    assert.deepEqual(boards.map((b) => b.reusedTrials), [0, 0]);
    assert.equal(fakes.calls.filter((c) => c.endsWith(':trainTrial')).length, 2);
  });
});
