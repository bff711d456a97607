// The sweep and trial workflows with fake activities (test/workflows/fake-activities.ts) on a local
// Temporal dev server started by the test from the installed CLI: the DAG's order, a failed trial,
// cancellation, the training lease and reuse; random search, ASHA and best epochs. No MinIO (an in-memory object store), no training;
// seconds, not minutes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker, WorkflowBundleWithSourceMap, bundleWorkflowCode } from '@temporalio/worker';
import { stackDir } from '../../platform/config';
import { MemoryObjectStore } from '../../platform/memory-store';
import { getJson, putJson, setObjectStore } from '../../platform/storage';
import { artifactKeys } from '../../lib/artifact-keys';
import { FailureType } from '../../lib/errors';
import { Leaderboard, TrialInput } from '../../lib/sweep-types';
import { AshaConfig, EarlyStopping, StopDecision, TrialHistory, decisionEpochs, stopDecision } from '../../lib/search/early-stopping';
import { DEFAULT_OBJECTIVE } from '../../lib/search/objective';
import { SearchSpace, sampleConfig } from '../../lib/search/space';
import { SEARCH_ATTRIBUTES, SuggestActivities, SweepProgress, progressQuery, releaseLeaseSignal, sweepWorkflow, trainingLeaseWorkflow } from '../../workflows';
import { trainingLeaseId } from '../../workflows/training-lease';
import { SuggestRequest } from '../../lib/search/bayesian';
import { CLASSES, Fakes, busyUntilCancelled, fakeActivities, fakeValAccuracy, milestone } from './fake-activities';
import { waitFor } from '../waiting';
import { sweepEntries } from '../../cli/list';
import { trialWorkflowId } from '../../lib/live-leaderboard';

const TEMPORAL = process.env.SWEEP_TEMPORAL_BIN ?? path.join(stackDir(), 'bin', 'temporal');

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
    taskQueues: { cpu: `wf-cpu-${process.pid}-${queueCount}`, gpu: `wf-gpu-${process.pid}-${queueCount}`, suggest: `wf-suggest-${process.pid}-${queueCount}` },
    ...patch,
  };
}

/**
 * Runs `body` with a CPU worker (workflows + CPU fakes), a GPU worker (GPU fakes) and a suggest
 * worker (the fake TPE below, standing in for the Python one) on the spec's queues.
 */
async function withWorkers<T>(raw: ReturnType<typeof spec>, fakes: Fakes, body: () => Promise<T>, suggest: SuggestActivities = fakeSuggest([])): Promise<T> {
  const connection = env.nativeConnection;
  const cpu = await Worker.create({ connection, taskQueue: raw.taskQueues.cpu, workflowBundle: bundle, activities: fakes.cpu });
  // Heartbeats reach the server at once, so a cancel reaches a running fake within a second.
  const gpu = await Worker.create({ connection, taskQueue: raw.taskQueues.gpu, activities: fakes.gpu, maxHeartbeatThrottleInterval: '100ms' });
  const suggester = await Worker.create({ connection, taskQueue: raw.taskQueues.suggest, activities: suggest });
  return cpu.runUntil(gpu.runUntil(suggester.runUntil(body)));
}

/** A stand-in for TPE: random draws indexed by how many trials have finished; records each request. */
function fakeSuggest(requests: SuggestRequest[]): SuggestActivities {
  return {
    suggestTrials: async (request) => {
      requests.push(request);
      return Array.from({ length: request.count }, (_, i) => sampleConfig(request.space, request.seed, request.finished.length + i));
    },
  };
}

/** `trialsPerRun`: continue as new after that many trials (lib/sweep-continuation.ts). */
const startSweep = (raw: ReturnType<typeof spec>, id: string, trialsPerRun?: number) =>
  env.client.workflow.start(sweepWorkflow, { taskQueue: raw.taskQueues.cpu, workflowId: `${id}-${process.pid}-${queueCount}`, args: trialsPerRun ? [raw, { trialsPerRun }] : [raw] });

/** Fakes whose second planTrials (a later batch or run) is busy until cancelled, and the moment it starts. */
function busyAtSecondPlan(): { fakes: Fakes; reached: Promise<void> } {
  const { reached, reach } = milestone();
  let plans = 0;
  const base = fakeActivities();
  const fakes = fakeActivities({
    planTrials: async (input) => {
      if (++plans === 1) return base.cpu.planTrials(input);
      reach();
      return busyUntilCancelled();
    },
  });
  return { fakes, reached };
}

/** Cancels the sweep once `reached`; asserts that it ends cancelled, and returns the partial leaderboard it wrote and its last progress. */
async function cancelledOnceAt(started: ReturnType<typeof startSweep>, reached: Promise<void>): Promise<{ board: Leaderboard; progress: SweepProgress }> {
  const handle = await started;
  await reached;
  await handle.cancel();
  await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure);
  const board = await getJson<Leaderboard>(artifactKeys.sweepResults(handle.workflowId, 'leaderboard.json'));
  assert.equal(board.status, 'cancelled');
  const progress = await handle.query(progressQuery);
  assert.equal(progress.stage, 'cancelled');
  return { board, progress };
}

/** Index of the first and last call of `activity` in the log; -1 when never called. */
function span(calls: string[], activity: string): [number, number] {
  const hits = calls.flatMap((c, i) => (c.endsWith(`:${activity}`) ? [i] : []));
  return hits.length ? [hits[0], hits[hits.length - 1]] : [-1, -1];
}

describe('sweep workflow with fake activities', () => {
  test('runs the DAG in order, each step on its own queue', async () => {
    const raw = spec();
    const fakes = fakeActivities();
    const { board, scheduled } = await withWorkers(raw, fakes, async () => {
      const handle = await startSweep(raw, 'dag');
      const result = await handle.result();
      const events = (await handle.fetchHistory()).events ?? [];
      return { board: result, scheduled: events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []) };
    });
    // The backbone's check is scheduled beside ingestion, before balancing (which does not wait for it).
    assert.deepEqual(scheduled.slice(0, 3), ['checkBackbone', 'ingestDataset', 'balanceDataset']);
    // The test split is scored by trainTrial itself: no evaluateTrial.
    const order = ['ingestDataset', 'balanceDataset', 'splitDataset', 'extractFeatures', 'planTrials', 'writeTensorboardExperiment', 'trainTrial', 'exportModel', 'rankSweep', 'writeReport'];
    for (let i = 1; i < order.length; i++) {
      const [, lastBefore] = span(fakes.calls, order[i - 1]);
      const [first] = span(fakes.calls, order[i]);
      assert.ok(lastBefore >= 0 && first > lastBefore, `${order[i - 1]} before ${order[i]}: ${fakes.calls.join(', ')}`);
    }
    // 2 train shards + val + test, one activity each; two trials, each trained (and scored on test) once.
    assert.equal(fakes.calls.filter((c) => c.endsWith(':extractFeatures')).length, 4);
    assert.equal(fakes.calls.filter((c) => c.endsWith(':trainTrial')).length, 2);
    assert.equal(fakes.calls.filter((c) => c.endsWith(':evaluateTrial')).length, 0);
    assert.ok(board.ranked.every((t) => t.test?.accuracy === 0.6), 'every trial carries the test scores its training returned');
    for (const call of fakes.calls) {
      const gpuStep = /:(checkBackbone|extractFeatures|trainTrial|evaluateTrial|exportModel)$/.test(call);
      assert.ok(call.startsWith(gpuStep ? raw.taskQueues.gpu : raw.taskQueues.cpu), call);
    }
    assert.equal(board.status, 'completed');
    assert.deepEqual(board.ranked.map((t) => t.run), [2, 1]);
    assert.equal(board.model?.run, 2);
    assert.match(board.artifacts.report ?? '', /report\.html$/);
  });

  test('a spec started without the CLI (as `temporal workflow start` does) is checked as strictly: a misspelt field, an oversized head (the second generation of checks) or a queue named for two roles (the third) fails the sweep before any work', async () => {
    const base = spec();
    for (const [i, [raw, refusal]] of ([
      [{ ...base, concurency: 2 }, /concurency: not a field of the spec; did you mean "concurrency"\?/],
      [{ ...base, grid: { ...base.grid, hidden_units: [8, 20_000] } }, /grid\.hidden_units: 20000 hidden units is more than/],
      [{ ...base, taskQueues: { ...base.taskQueues, gpu: base.taskQueues.cpu } }, /taskQueues\.gpu: "[^"]+" is also taskQueues\.cpu/],
    ] as const).entries()) {
      const fakes = fakeActivities();
      await withWorkers(base, fakes, async () => {
        const handle = await startSweep(raw as typeof base, `strict-spec-${i}`);
        await assert.rejects(handle.result(), (error: unknown) => {
          const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
          return error instanceof WorkflowFailedError && cause.type === FailureType.spec && cause.nonRetryable && refusal.test(cause.message);
        });
      });
      assert.deepEqual(fakes.calls, []);
    }
  });

  test('a sweep whose workflow id has a "/" (its artifacts would land in another sweep\'s folder) fails before any work', async () => {
    const raw = spec();
    const fakes = fakeActivities();
    await withWorkers(raw, fakes, async () => {
      const handle = await env.client.workflow.start(sweepWorkflow, { taskQueue: raw.taskQueues.cpu, workflowId: `demo/model-${process.pid}-${queueCount}`, args: [raw] });
      await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError &&
        ((error.cause as ApplicationFailure).type === FailureType.sweepId) && /sweep id "demo\/model-\d+-\d+" is not valid/.test((error.cause as ApplicationFailure).message));
    });
    assert.deepEqual(fakes.calls, []);
  });

  test('features computed by GPU workers with different copies of the backbone fail the sweep at the first shard of the second copy, before any trial, naming the copies, their nodes and shards; one copy on every worker trains', async () => {
    // 12 train shards, then val and test: the second copy computes train shard 1.
    const shards = 14;
    for (const copies of [2, 1]) {
      const raw = spec();
      const base = fakeActivities();
      const fakes = fakeActivities({
        splitDataset: async () => ({ splitId: 's', splitKey: 'splits/s.json', classes: CLASSES, counts: { train: 256 * 12, val: 50, test: 50 } }),
        extractFeatures: async (request) => {
          const other = copies === 2 && request.split === 'train' && request.shard === 1;
          return { ...await base.gpu.extractFeatures(request), backboneId: (other ? 'b' : 'a').repeat(64), node: other ? 'gpu-b' : 'gpu-a' };
        },
      });
      await withWorkers(raw, fakes, async () => {
        const handle = await startSweep(raw, 'wf-backbones');
        if (copies === 1) return assert.equal((await handle.result()).status, 'completed');
        await assert.rejects(handle.result(), (error: unknown) => {
          const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
          return error instanceof WorkflowFailedError && cause.type === FailureType.backboneMismatch && cause.nonRetryable &&
            /2 different copies of backbone file:\/\/\/models\/fake\/model\.json/.test(cause.message) &&
            /aaaaaaaaaaaa on gpu-a \(train shard \d+/.test(cause.message) && /bbbbbbbbbbbb on gpu-b \(train shard 1\)/.test(cause.message);
        });
      });
      const extracted = fakes.calls.filter((c) => c.endsWith(':extractFeatures')).length;
      if (copies === 2) assert.ok(extracted <= 4, `${extracted} of the ${shards} shards asked for: it failed as the second copy's shard came in`);
      else assert.equal(extracted, shards);
      assert.equal(fakes.calls.filter((c) => c.endsWith(':trainTrial')).length, copies === 2 ? 0 : 2);
    }
  });

  test('a backbone that cannot be loaded fails the sweep while its data is still being ingested, as a BackboneError; nothing after ingestion runs', async () => {
    const raw = spec();
    let ingesting = true;
    const fakes = fakeActivities({
      // An ingestion that takes a while (a large data set): the check's failure must not wait for it.
      ingestDataset: async () => {
        await new Promise((resolve) => setTimeout(resolve, 3000));
        ingesting = false;
        return { datasetId: 'd', manifestKey: 'datasets/d.json', classes: CLASSES, counts: { daisy: 200, rose: 200 }, skipped: 0, skippedByReason: {} };
      },
      checkBackbone: async () => {
        throw ApplicationFailure.nonRetryable('loading backbone.uri file:///models/fake/model.json (format layers) on worker w failed: backbone.featureLayer "no_such_layer" is not a layer of it', FailureType.backbone);
      },
    });
    await withWorkers(raw, fakes, async () => {
      const handle = await startSweep(raw, 'wf-bad-backbone');
      await assert.rejects(handle.result(), (error: unknown) => {
        const cause = (error as WorkflowFailedError).cause?.cause as ApplicationFailure;
        return cause?.type === FailureType.backbone && /featureLayer "no_such_layer"/.test(cause.message);
      });
      assert.equal(ingesting, true, 'the sweep failed before its ingestion ended');
    });
    assert.deepEqual(fakes.calls.filter((c) => /:(balanceDataset|splitDataset|extractFeatures|trainTrial)$/.test(c)), []);
  });

  test('a trial whose training returned no test scores (an older GPU worker) is scored by evaluateTrial', async () => {
    const raw = spec();
    const base = fakeActivities();
    const fakes = fakeActivities({
      trainTrial: async (input) => {
        const { test: _scored, ...trained } = await base.gpu.trainTrial(input);
        return trained;
      },
    });
    const board = await withWorkers(raw, fakes, async () => (await startSweep(raw, 'older-gpu-worker')).result());
    assert.equal(fakes.calls.filter((c) => c.endsWith(':evaluateTrial')).length, 2);
    assert.ok(board.ranked.every((t) => t.test?.accuracy === 0.6));
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
    const { reached: training, reach: started } = milestone();
    const fakes = fakeActivities({
      trainTrial: async () => {
        started();
        return busyUntilCancelled();
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

  test('cancelled while the best trial is exported: ends cancelled, every trial ranked into its partial leaderboard, no model', async () => {
    const raw = spec();
    const { reached: exporting, reach: reached } = milestone();
    const fakes = fakeActivities({
      exportModel: async () => {
        reached();
        return busyUntilCancelled();
      },
    });
    await withWorkers(raw, fakes, async () => {
      const { board } = await cancelledOnceAt(startSweep(raw, 'cancel-export'), exporting);
      assert.deepEqual(board.ranked.map((t) => t.run), [2, 1]);
      // The export was cancelled with the sweep: no model, and no export "failure" to report.
      assert.equal(board.model, undefined);
      assert.equal(board.modelError, undefined);
    });
  });

  test('the report step: storage errors are retried past its old 3 attempts, and the report is written; a report that cannot be made leaves the sweep completed without one', async () => {
    const raw = spec();
    const base = fakeActivities();
    let attempts = 0;
    const outage = fakeActivities({
      writeReport: async (input) => {
        // An S3 outage of a few seconds (the fake's error is retryable, as a storage error is).
        if (++attempts <= 3) throw ApplicationFailure.retryable('connect ECONNREFUSED 127.0.0.1:9000', 'Error');
        return base.cpu.writeReport(input);
      },
    });
    const board = await withWorkers(raw, outage, async () => (await startSweep(raw, 'report-outage')).result());
    assert.equal(attempts, 4);
    assert.match(board.artifacts.report ?? '', /report\.html$/);
    const broken = fakeActivities({ writeReport: async () => { throw ApplicationFailure.nonRetryable('writing the report failed: boom', FailureType.reportFailed); } });
    const unreported = await withWorkers(raw, broken, async () => (await startSweep(raw, 'report-broken')).result());
    assert.equal(unreported.status, 'completed');
    assert.equal(unreported.artifacts.report, undefined);
    assert.equal(broken.calls.filter((c) => c.endsWith(':writeReport')).length, 1);
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
        await sleep(1500);
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

  test('trials whose result is stored run beside the concurrency bound; those that train stay within it', async () => {
    const fakes = fakeActivities();
    const first = spec();
    await withWorkers(first, fakes, async () => (await startSweep(first, 'found-first')).result());
    // What a real trainTrial leaves: the result planTrials looks for.
    for (const trialId of fakes.trained.keys()) await putJson(artifactKeys.trialResult(trialId), { trialId });
    let running = 0;
    let most = 0;
    const inputs: TrialInput[] = [];
    const timed = fakeActivities({
      trainTrial: async (input) => {
        inputs.push(input);
        most = Math.max(most, ++running);
        await Context.current().sleep(input.trial.resultFound ? 200 : 1000);
        running--;
        return fakes.gpu.trainTrial(input);
      },
    });
    // The two trials of the first sweep and a new one, one at a time.
    const raw = spec({ grid: { hidden_units: [8, 16, 32], n_epochs: [1] }, concurrency: 1 });
    const board = await withWorkers(raw, timed, async () => (await startSweep(raw, 'found-again')).result());
    assert.deepEqual(inputs.map((i) => [i.trial.run, i.trial.resultFound ?? false]).sort(), [[1, true], [2, true], [3, false]]);
    assert.equal(most, 3, 'the found trials ran beside the one that trained');
    assert.equal(board.reusedTrials, 2);
    assert.deepEqual(board.ranked.map((t) => t.run).sort(), [1, 2, 3]);
  });
});

const SPACE = {
  lr: { type: 'loguniform', low: 1e-4, high: 1e-2 },
  hidden_units: { type: 'int', low: 8, high: 64, step: 8 },
} as const;
const ASHA: AshaConfig = { gracePeriod: 1, reductionFactor: 2, maxEpochs: 4 };

/** The rule run as it says, one trial after another in plan order: what any timing must decide. */
function sequentialDecisions(runs: number, rule: EarlyStopping, nEpochs: number): Map<number, StopDecision | undefined> {
  const histories: TrialHistory[] = [];
  const stops = new Map<number, StopDecision | undefined>();
  for (let run = 1; run <= runs; run++) {
    const values: number[] = [];
    histories.push({ trialId: `run-${run}`, values });
    stops.set(run, undefined);
    for (let epoch = 1; epoch <= nEpochs; epoch++) {
      values.push(fakeValAccuracy({ run }, epoch));
      if (!decisionEpochs(rule, nEpochs).includes(epoch)) continue;
      const decision = stopDecision(`run-${run}`, epoch, histories, rule, DEFAULT_OBJECTIVE);
      if (decision.stop) {
        stops.set(run, decision);
        break;
      }
    }
  }
  return stops;
}

/** Runs `raw` with trainTrial taking `delayMs(run)` per call, and returns the board and the trainTrial inputs. */
async function sweepWithDelays(raw: ReturnType<typeof spec>, id: string, delayMs: (run: number) => number, fakes?: Fakes, suggest?: SuggestActivities, trialsPerRun?: number) {
  const base = fakes ?? fakeActivities();
  const inputs: TrialInput[] = [];
  const timed = fakeActivities({
    trainTrial: async (input) => {
      inputs.push(input);
      await Context.current().sleep(delayMs(input.trial.run));
      return base.gpu.trainTrial(input);
    },
  });
  let runs = 0;
  let sweep: { workflowId: string; startTime: Date } | undefined;
  const board: Leaderboard = await withWorkers(raw, timed, async () => {
    const handle = await startSweep(raw, id, trialsPerRun);
    const result = await handle.result();
    sweep = { workflowId: handle.workflowId, startTime: (await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe()).startTime };
    // Follow the chain of runs from the first, each continued as new by the one before.
    for (let runId: string | undefined = handle.firstExecutionRunId; runId; runs++) {
      const events: temporal.api.history.v1.IHistoryEvent[] = (await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory()).events ?? [];
      runId = events[events.length - 1].workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    return result;
  }, suggest);
  return { board, inputs, calls: timed.calls, runs, sweep: sweep! };
}

describe('search with fake activities', () => {
  test('random search: budget trials drawn by (seed, index), each trained once and ranked', async () => {
    const space = { ...SPACE, n_epochs: { type: 'choice', values: [1] } };
    const raw = spec({ grid: undefined, seed: 11, search: { method: 'random', budget: 5, space, objective: { metric: 'valLoss' } } });
    const { board, inputs } = await sweepWithDelays(raw, 'random', () => 0);
    assert.deepEqual(inputs.map((i) => i.trial.run).sort(), [1, 2, 3, 4, 5]);
    for (const input of inputs) assert.deepEqual(input.trial.params, sampleConfig(space as unknown as SearchSpace, 11, input.trial.run - 1));
    assert.equal(board.ranked.length, 5);
    // valLoss = 1 - valAccuracy in the fakes, so lower loss is higher accuracy.
    const expected = [1, 2, 3, 4, 5].sort((a, b) => fakeValAccuracy({ run: b }, 1) - fakeValAccuracy({ run: a }, 1));
    assert.deepEqual(board.ranked.map((t) => t.run), expected);
    assert.deepEqual(board.objective, { metric: 'valLoss', direction: 'minimize' });
  });

  test('ASHA, concurrency 2: the same stops and leaderboard whatever the timing, as the rule run trial by trial decides', async () => {
    const search = { method: 'random', budget: 6, space: SPACE, earlyStopping: { rule: 'asha', ...ASHA } };
    const later = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), 'asha-a', (run) => 60 * (7 - run));
    const earlier = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), 'asha-b', (run) => 60 * run);
    const outcome = (board: Leaderboard) => board.ranked.map((t) => [t.run, t.status, t.epochsDone, t.stopped?.reason]);
    assert.deepEqual(outcome(later.board), outcome(earlier.board));
    const expected = sequentialDecisions(6, { rule: 'asha', ...ASHA }, ASHA.maxEpochs);
    for (const trial of later.board.ranked) {
      const stop = expected.get(trial.run);
      assert.equal(trial.status, stop ? 'stopped' : 'completed', `run ${trial.run}`);
      assert.equal(trial.epochsDone, stop ? stop.epoch : ASHA.maxEpochs, `run ${trial.run}`);
      assert.equal(trial.stopped?.reason, stop?.reason, `run ${trial.run}`);
    }
    assert.ok([...expected.values()].some((d) => d), 'some trial was stopped');
    assert.ok([...expected.values()].some((d) => !d), 'some trial was promoted to the end');
    // Training went rung by rung: a stopped trial was never trained past its rung.
    for (const input of later.inputs) {
      const stop = expected.get(input.trial.run);
      if (stop) assert.ok((input.untilEpoch ?? ASHA.maxEpochs) <= stop.epoch, `run ${input.trial.run} trained to ${input.untilEpoch}`);
    }
    assert.equal(later.board.failed.length, 0, 'stopped trials are not failures');
    assert.ok(later.board.ranked.every((t) => !t.resumedFromEpoch), 'training rung by rung is not reported as resuming');
  });

  test('the median rule, concurrency 2: every epoch judged against the earlier trials, the same under two timings', async () => {
    const rule: EarlyStopping = { rule: 'median', minEpochs: 1, minTrials: 1 };
    const search = { method: 'random', budget: 5, space: { ...SPACE, n_epochs: { type: 'choice', values: [3] } }, earlyStopping: rule };
    const boards = await Promise.all([(run: number) => 60 * (6 - run), (run: number) => 60 * run].map(async (delay, i) =>
      (await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), `median-${i}`, delay)).board));
    const expected = sequentialDecisions(5, rule, 3);
    for (const board of boards) {
      assert.deepEqual(board.ranked.map((t) => t.run).sort(), [1, 2, 3, 4, 5]);
      for (const trial of board.ranked) {
        const stop = expected.get(trial.run);
        assert.deepEqual([trial.status, trial.epochsDone, trial.stopped?.reason], [stop ? 'stopped' : 'completed', stop ? stop.epoch : 3, stop?.reason], `run ${trial.run}`);
      }
    }
    assert.ok([...expected.values()].some((d) => d?.rule === 'median'), 'the median rule stopped a trial');
  });

  test('the median rule every 2 epochs: trials train in segments to epochs 1, 3 and 5 of 6, and stop only there, as the rule run trial by trial decides', async () => {
    const rule: EarlyStopping = { rule: 'median', minEpochs: 1, minTrials: 1, intervalEpochs: 2 };
    const search = { method: 'random', budget: 7, space: { ...SPACE, n_epochs: { type: 'choice', values: [6] } }, earlyStopping: rule };
    const { board, inputs } = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), 'median-every-2', (run) => 40 * run);
    assert.deepEqual([...new Set(inputs.map((input) => input.untilEpoch))].sort(), [1, 3, 5, undefined]);
    const expected = sequentialDecisions(7, rule, 6);
    for (const trial of board.ranked) {
      const stop = expected.get(trial.run);
      assert.deepEqual([trial.status, trial.epochsDone, trial.stopped?.reason], [stop ? 'stopped' : 'completed', stop ? stop.epoch : 6, stop?.reason], `run ${trial.run}`);
    }
    assert.ok([...expected.values()].some((d) => d && d.epoch > 1), 'a trial stopped at a later decision epoch');
  });

  test('a stopped trial says where and why, in the progress query and the leaderboard', async () => {
    const raw = spec({ grid: undefined, concurrency: 2, search: { method: 'random', budget: 3, space: SPACE, earlyStopping: { rule: 'asha', ...ASHA } } });
    const fakes = fakeActivities();
    await withWorkers(raw, fakes, async () => {
      const handle = await startSweep(raw, 'asha-stopped');
      const board = await handle.result();
      const progress = await handle.query(progressQuery);
      const stopped = progress.trials.find((t) => t.run === 3)!;
      assert.equal(stopped.status, 'stopped');
      assert.deepEqual({ epoch: stopped.stopped!.epoch, rule: stopped.stopped!.rule }, { epoch: 1, rule: 'asha' });
      assert.match(stopped.stopped!.reason, /^stopped at epoch 1 by ASHA rung 0 \(value 0\.51, cutoff 0\.58\): rank 3 of 3 reported at this rung, the top 1 continue$/);
      assert.equal(stopped.epochsDone, 1);
      assert.ok(stopped.test, 'a stopped trial is tested like a completed one');
      assert.ok(board.ranked.some((t) => t.run === 3 && t.status === 'stopped'));
    });
  });

  test('the progress query names the runs waiting at a rung for the decision, with the epoch and their last', async () => {
    const raw = spec({ grid: undefined, concurrency: 2, search: { method: 'random', budget: 2, space: SPACE, earlyStopping: { rule: 'asha', ...ASHA } } });
    // Run 1's first segment waits until released, so run 2, at rung 1 first, waits for its report there.
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    const base = fakeActivities();
    const fakes = fakeActivities({
      trainTrial: async (input) => {
        if (input.trial.run === 1 && input.untilEpoch === 1) await released;
        return base.gpu.trainTrial(input);
      },
    });
    await withWorkers(raw, fakes, async () => {
      const handle = await startSweep(raw, 'asha-waiting');
      try {
        // 200 queries 50 ms apart, as the loop this replaced: at least 10 s.
        const progress = await waitFor('a run waiting at a rung', async () => {
          const answer = await handle.query(progressQuery);
          return answer.waiting?.length ? answer : undefined;
        }, 10_000, 50);
        assert.deepEqual(progress.waiting, [{ run: 2, epoch: 1, of: ASHA.maxEpochs }]);
        assert.deepEqual(progress.running.slice().sort(), [1, 2]);
      } finally {
        release();
      }
      await handle.result();
      assert.deepEqual((await handle.query(progressQuery)).waiting, [], 'none once the sweep is done');
    });
  });

  test('a rerun of an ASHA sweep with the same spec and seed reuses every trial', async () => {
    const search = { method: 'random', budget: 4, space: SPACE, earlyStopping: { rule: 'asha', ...ASHA } };
    const fakes = fakeActivities();
    const first = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), 'asha-first', () => 0, fakes);
    const again = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), 'asha-again', () => 0, fakes);
    assert.equal(again.board.reusedTrials, 4);
    assert.deepEqual(again.board.ranked.map((t) => [t.run, t.status, t.epochsDone]), first.board.ranked.map((t) => [t.run, t.status, t.epochsDone]));
  });

  test('bayesian: batches of `concurrency` trials, each suggested from exactly the earlier batches in run order, whatever the timing', async () => {
    const search = { method: 'bayesian', budget: 5, space: { ...SPACE, n_epochs: { type: 'choice', values: [1] } } };
    const runs = await Promise.all([[(run: number) => 80 * (6 - run)], [(run: number) => 80 * run]].map(async ([delay], i) => {
      const requests: SuggestRequest[] = [];
      const { board, calls } = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), `bayes-${i}`, delay, undefined, fakeSuggest(requests));
      return { board, requests, calls };
    }));
    for (const { board, requests, calls } of runs) {
      assert.deepEqual(requests.map((r) => [r.count, r.finished.length]), [[2, 0], [2, 2], [1, 4]]);
      // The experiment declares the space, which later batches do not change.
      assert.equal(calls.filter((c) => c.endsWith(':writeTensorboardExperiment')).length, 1, 'the HParams experiment is written once, not per batch');
      // Each request lists the finished trials in run order, with their objective at the kept epoch.
      const byRun = board.ranked.slice().sort((a, b) => a.run - b.run);
      assert.deepEqual(requests[2].finished, byRun.slice(0, 4).map((t) => ({ params: t.params, value: t.valAccuracy })));
      assert.equal(board.ranked.length, 5);
    }
    assert.deepEqual(runs[0].requests, runs[1].requests);
    assert.deepEqual(runs[0].board.ranked.map((t) => [t.run, t.trialId]), runs[1].board.ranked.map((t) => [t.run, t.trialId]));
  });

  test('the class names are in a sweep run\'s history a fixed number of times, not once per trial and batch, and in no trial\'s (10,000 long names passed Temporal\'s history limit about 65 trials in)', async () => {
    const classes = Array.from({ length: 50 }, (_, i) => `class ${i} of a data set with long names`);
    const counts = Object.fromEntries(classes.map((c) => [c, 10]));
    const fakes = fakeActivities({
      ingestDataset: async () => ({ datasetId: 'd', manifestKey: 'datasets/d.json', classes, counts, skipped: 0, skippedByReason: {} }),
      balanceDataset: async (input) => ({ balancedKey: 'balanced/b.json', classes, perClass: input.perClass, oversampledClasses: [] }),
      splitDataset: async () => ({ splitId: 's', splitKey: 'splits/s.json', classes, counts: { train: 300, val: 50, test: 50 } }),
    });
    // Listed in the spec too, as users may: the sweep's input and its ingestion's name them then.
    const raw = spec({ data: { source: './nowhere', classes }, grid: undefined, concurrency: 1, search: { method: 'bayesian', budget: 6, space: { ...SPACE, n_epochs: { type: 'choice', values: [1] } } } });
    const handle = await withWorkers(raw, fakes, async () => {
      const started = await startSweep(raw, 'class-names');
      await started.result();
      return started;
    });
    // The events whose payloads name a class (JSON inside the protobuf-encoded event, as Temporal stores and limits it).
    const naming = async (workflowId: string) => {
      const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const activityOf = (id: unknown) => events.find((e) => String(e.eventId) === String(id))?.activityTaskScheduledEventAttributes?.activityType?.name;
      return events.filter((e) => Buffer.from(temporal.api.history.v1.HistoryEvent.encode(e).finish()).toString('utf8').includes(classes[7])).map((e) =>
        e.activityTaskScheduledEventAttributes ? `${e.activityTaskScheduledEventAttributes.activityType?.name} input`
          : e.activityTaskCompletedEventAttributes ? `${activityOf(e.activityTaskCompletedEventAttributes.scheduledEventId)} result`
            : e.startChildWorkflowExecutionInitiatedEventAttributes ? `${e.startChildWorkflowExecutionInitiatedEventAttributes.workflowType?.name} start`
              : e.workflowExecutionStartedEventAttributes ? 'sweep input'
              : e.workflowExecutionCompletedEventAttributes ? 'sweep result' : `event type ${e.eventType}`);
    };
    // Before: also every batch's planTrials input and every trial workflow's start (6 + 6 here).
    assert.deepEqual(await naming(handle.workflowId), ['sweep input', 'ingestDataset input', 'ingestDataset result', 'balanceDataset result', 'splitDataset result', 'exportModel input', 'rankSweep input', 'rankSweep result', 'sweep result']);
    assert.deepEqual(await naming(trialWorkflowId(handle.workflowId, 6)), []);
  });

  test('bayesian: a suggestion lost with its worker (no heartbeat, no answer) is asked again after 20 s, not after the 5-minute start-to-close', async () => {
    const raw = spec({ grid: undefined, concurrency: 1, seed: 3, search: { method: 'bayesian', budget: 2, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-2 }, n_epochs: { type: 'choice', values: [1] } } } });
    const requests: SuggestRequest[] = [];
    const suggest = fakeSuggest(requests);
    let attempts = 0;
    const firstLost: SuggestActivities = {
      suggestTrials: async (request) => {
        // The first attempt's worker is gone: it neither heartbeats nor answers (until this test's worker shuts down).
        if (++attempts === 1) return Context.current().cancelled;
        return suggest.suggestTrials(request);
      },
    };
    const started = Date.now();
    const board = await withWorkers(raw, fakeActivities(), async () => (await startSweep(raw, 'bayes-lost-suggestion')).result(), firstLost);
    assert.equal(board.ranked.length, 2);
    assert.equal(attempts, 3, 'the lost first suggestion was asked again, then the second batch\'s');
    assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
  });

  test('bayesian: while a suggestion is asked for, the stage (query and SweepStatus) says so; with no suggest worker it said "extracting features"', async () => {
    const raw = spec({ grid: undefined, concurrency: 1, seed: 3, search: { method: 'bayesian', budget: 2, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-2 }, n_epochs: { type: 'choice', values: [1] } } } });
    const suggest = fakeSuggest([]);
    const { reached: asked, reach: ask } = milestone();
    const { reached: answered, reach: answer } = milestone();
    let calls = 0;
    // The first suggestion waits for the test to look, as a sweep with no suggest worker waits.
    const held: SuggestActivities = {
      suggestTrials: async (request) => {
        if (++calls === 1) {
          ask();
          await answered;
        }
        return suggest.suggestTrials(request);
      },
    };
    await withWorkers(raw, fakeActivities(), async () => {
      const handle = await startSweep(raw, 'bayes-suggesting-stage');
      await asked;
      try {
        assert.equal((await handle.query(progressQuery)).stage, 'suggesting trials');
        assert.equal((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.status), 'suggesting trials');
      } finally {
        // Answered whatever the checks found: the worker cannot shut down while the suggestion waits.
        answer();
      }
      assert.equal((await handle.result()).ranked.length, 2);
    }, held);
    assert.equal(calls, 2);
  });

  test('keepBestEpoch: trials rank by their best epoch, which the summary reports', async () => {
    const space = { hidden_units: { type: 'choice', values: [8, 16, 32, 64] }, n_epochs: { type: 'choice', values: [3] } };
    const last = await sweepWithDelays(spec({ grid: undefined, search: { method: 'grid', space } }), 'last-epoch', () => 0);
    const best = await sweepWithDelays(spec({ grid: undefined, search: { method: 'grid', space, keepBestEpoch: true } }), 'best-epoch', () => 0);
    assert.deepEqual(last.board.ranked.map((t) => t.run), [4, 2, 3, 1]);
    assert.deepEqual(best.board.ranked.map((t) => t.run), [4, 2, 1, 3]);
    assert.deepEqual(best.board.ranked.map((t) => t.bestEpoch), [3, 1, 1, 1]);
    assert.equal(best.board.ranked[1].valAccuracy, fakeValAccuracy({ run: 2 }, 1));
    assert.ok(best.inputs.every((i) => i.keepBest), 'training is told to keep the best epoch');
    assert.equal(best.board.model?.run, 4);
  });
});

describe('a cancelled bayesian search', () => {

  test('stops suggesting and writes its partial leaderboard, as grid and random sweeps do', async () => {
    const raw = spec({ grid: undefined, concurrency: 1, seed: 3, search: { method: 'bayesian', budget: 4, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-2 }, n_epochs: { type: 'choice', values: [1] } } } });
    const { reached: atRun2, reach: reached } = milestone();
    const base = fakeActivities();
    const fakes = fakeActivities({
      trainTrial: async (input) => {
        if (input.trial.run !== 2) return base.gpu.trainTrial(input);
        reached();
        return busyUntilCancelled();
      },
    });
    const requests: SuggestRequest[] = [];
    await withWorkers(raw, fakes, async () => {
      const { board } = await cancelledOnceAt(startSweep(raw, 'bayes-cancel'), atRun2);
      assert.deepEqual(board.ranked.map((t) => t.run), [1]);
      assert.deepEqual(board.failed.map((t) => [t.run, t.status]), [[2, 'cancelled']]);
    }, fakeSuggest(requests));
    assert.equal(requests.length, 2, 'no suggestion asked once cancelled');
  });

  test('cancelled while a suggestion is asked for: ranks what finished into its partial leaderboard', async () => {
    const raw = spec({ grid: undefined, concurrency: 1, seed: 3, search: { method: 'bayesian', budget: 4, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-2 }, n_epochs: { type: 'choice', values: [1] } } } });
    const { reached: atSecondSuggestion, reach: reached } = milestone();
    const requests: SuggestRequest[] = [];
    const suggest = fakeSuggest(requests);
    const slowSecond: SuggestActivities = {
      suggestTrials: async (request) => {
        if (requests.length === 0) return suggest.suggestTrials(request);
        requests.push(request);
        reached();
        // Busy until the worker shuts down (its own cancellation; the sweep's does not reach an
        // activity that does not heartbeat).
        return Context.current().cancelled;
      },
    };
    await withWorkers(raw, fakeActivities(), async () => {
      const { board } = await cancelledOnceAt(startSweep(raw, 'bayes-cancel-suggesting'), atSecondSuggestion);
      assert.deepEqual(board.ranked.map((t) => t.run), [1]);
    }, slowSecond);
    assert.equal(requests.length, 2);
  });

  test('cancelled while a later batch is planned: ranks the earlier batches into its partial leaderboard', async () => {
    const raw = spec({ grid: undefined, concurrency: 1, seed: 3, search: { method: 'bayesian', budget: 4, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-2 }, n_epochs: { type: 'choice', values: [1] } } } });
    const { fakes, reached: planningBatch2 } = busyAtSecondPlan();
    await withWorkers(raw, fakes, async () => {
      const { board } = await cancelledOnceAt(startSweep(raw, 'bayes-cancel-planning'), planningBatch2);
      assert.deepEqual(board.ranked.map((t) => t.run), [1]);
      assert.deepEqual(board.failed, []);
    });
  });
});

describe('a configuration drawn twice', () => {
  // Seeds whose first two random draws from this space are the same configuration (seed 13: runs 1, 2 and 4).
  const space = { hidden_units: { type: 'choice', values: [8, 16, 24] }, dropout: { type: 'choice', values: [0.1, 0.2] } };
  const search = { method: 'random', budget: 4, space, earlyStopping: { rule: 'asha', ...ASHA } };

  test('ASHA, concurrency 2: runs once, its repeats share its outcome; the sweep ends (the two runs waited on each other for ever) and a rerun reuses it', async () => {
    for (const seed of [2, 8, 13]) {
      const raw = spec({ grid: undefined, concurrency: 2, seed, search });
      const fakes = fakeActivities();
      const sweep = sweepWithDelays(raw, `repeat-${seed}`, (run) => (run === 1 ? 300 : 0), fakes);
      const outcome = await Promise.race([sweep, new Promise<'hung'>((resolve) => { setTimeout(() => resolve('hung'), 30_000).unref(); })]);
      assert.notEqual(outcome, 'hung', `seed ${seed}: the sweep did not end in 30 s`);
      const { board, inputs } = outcome as Awaited<typeof sweep>;
      const all = [...board.ranked, ...board.failed].sort((a, b) => a.run - b.run);
      assert.equal(all.length, 4);
      const firstRun = new Map<string, number>();
      for (const trial of all) {
        const first = firstRun.get(trial.trialId);
        if (first === undefined) {
          firstRun.set(trial.trialId, trial.run);
          assert.equal(trial.sameAs, undefined);
          continue;
        }
        const original = all.find((t) => t.run === first)!;
        assert.equal(trial.sameAs, first, `seed ${seed}: run ${trial.run} shares run ${first}'s trial`);
        assert.deepEqual({ ...trial, run: first, sameAs: undefined }, { ...original, sameAs: undefined });
        assert.ok(inputs.every((input) => input.trial.run !== trial.run), `seed ${seed}: run ${trial.run} trained nothing of its own`);
      }
      assert.ok(firstRun.size < 4);
      const again = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, seed, search }), `repeat-${seed}-again`, () => 0, fakes);
      assert.equal(again.board.reusedTrials, 4, 'a rerun reuses every trial');
      assert.deepEqual(again.board.ranked.map((t) => [t.run, t.status, t.epochsDone, t.sameAs]), board.ranked.map((t) => [t.run, t.status, t.epochsDone, t.sameAs]));
    }
  });
});

describe('two early-stopped sweeps that share trials in opposite orders', () => {
  const search = (values: number[]) => ({ method: 'grid', space: { hidden_units: { type: 'choice', values } }, earlyStopping: { rule: 'asha', ...ASHA } });
  const sleepMs = (ms: number) => sleep(Math.max(0, ms));
  /** When a lease waiter started at `from` checks again (trainingLease's backoff: 1, 2, 4, 8, 16 s). */
  const checks = (from: number) => [1, 3, 7, 15, 31].map((s) => from + s * 1000);

  // A plans T8 then T16, B plans T16 then T8. The cycle: A's run 2 holds T16 at its first rung and
  // waits for A's run 1, which waits for T8, held by B's run 2 at its rung, waiting for B's run 1,
  // which waits for T16. Two leases held by the test hand T8 to B's run 2 and T16 to A's run 2: each
  // is given back just before that run's next check and well before its rival's (the backoff above).
  test('end: a trial that waits long at a rung gives its lease back and takes it again to train on', async () => {
    const a = spec({ grid: undefined, concurrency: 2, search: search([8, 16]) });
    const b = spec({ grid: undefined, concurrency: 2, search: search([16, 8]), taskQueues: a.taskQueues });
    const ids = new Map((await sweepWithDelays(a, 'cycle-ids', () => 0)).inputs.map((i) => [i.trial.params.hidden_units, i.trial.trialId]));
    const trials = new Map([...ids].map(([units, id]) => [id, `T${units}`]));
    const trained: string[] = [];
    const planned = new Map<string, number>();
    const base = fakeActivities();
    const fakes = fakeActivities({
      trainTrial: async (input) => {
        trained.push(`${input.sweepId.split('-')[1]}:${trials.get(input.trial.trialId)}`);
        return base.gpu.trainTrial(input);
      },
      // Trial workflows start, and take or wait for their leases, as this returns.
      writeTensorboardExperiment: async (input) => {
        planned.set(input.sweepId.split('-')[1], Date.now());
        return `tensorboard/${input.sweepId}`;
      },
    });
    const outcome = await withWorkers(a, fakes, async () => {
      const held = await Promise.all([8, 16].map((units) => env.client.workflow.start(trainingLeaseWorkflow, { taskQueue: a.taskQueues.cpu, workflowId: trainingLeaseId(ids.get(units)!) })));
      const sweeps = [await startSweep(b, 'cycle-b')];
      while (!planned.has('b')) await sleepMs(50);
      await sleepMs(planned.get('b')! + 4000 - Date.now());
      sweeps.push(await startSweep(a, 'cycle-a'));
      while (!planned.has('a')) await sleepMs(50);
      const [fromA, fromB] = [planned.get('a')!, planned.get('b')!];
      // T8 after A's third check, before B's fourth (A's fourth comes later); T16 after that, before A's fourth.
      await sleepMs(checks(fromA)[2] + 1500 - Date.now());
      await held[0].signal(releaseLeaseSignal);
      await sleepMs(checks(fromB)[3] + 1500 - Date.now());
      await held[1].signal(releaseLeaseSignal);
      const outcome = await Promise.race([Promise.all(sweeps.map((h) => h.result())), sleepMs(60_000).then(() => 'hung' as const)]);
      if (outcome === 'hung') await Promise.all(sweeps.map((h) => h.terminate('the test gave up on it')));
      return outcome;
    });
    const first = (name: string) => (trained.includes(name) ? trained.indexOf(name) : Infinity);
    assert.ok(first('b:T8') < first('a:T8') && first('a:T16') < first('b:T16'),
      `the timing set up the cycle (each sweep's run 2 took its lease first): ${trained.join(', ')}`);
    assert.notEqual(outcome, 'hung', `the two sweeps waited on each other for ever: ${trained.join(', ')}`);
    for (const board of outcome as Leaderboard[]) {
      assert.equal(board.status, 'completed');
      assert.deepEqual(board.ranked.map((t) => t.trialId).sort(), [...ids.values()].sort());
    }
  });
});

describe('a long sweep continues as new', () => {
  const search = { method: 'random', budget: 9, space: SPACE, earlyStopping: { rule: 'asha', ...ASHA } };
  const outcome = (board: Leaderboard) => board.ranked.map((t) => [t.run, t.trialId, t.status, t.epochsDone, t.stopped?.reason, t.valAccuracy]);

  test('ASHA, 4 trials per run: three runs, every trial ranked, the same decisions as one run; a rerun reuses them all', async () => {
    const fakes = fakeActivities();
    const chunked = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), 'can-asha', (run) => 30 * (run % 3), fakes, undefined, 4);
    assert.equal(chunked.runs, 3);
    assert.equal(chunked.calls.filter((c) => c.endsWith(':ingestDataset')).length, 1, 'later runs reuse the prepared data');
    assert.equal(chunked.calls.filter((c) => c.endsWith(':writeTrialPart')).length, 2);
    assert.equal(chunked.board.ranked.length + chunked.board.failed.length, 9);
    // sweep list: one entry, started when its first run was (its current run started at the last continue-as-new), with its memo.
    const listed = await waitFor('the sweep in the list', async () => (await sweepEntries(env.client, 100)).find((e) => e.sweepId === chunked.sweep.workflowId));
    assert.equal(listed.startTime, chunked.sweep.startTime.toISOString());
    assert.deepEqual(listed.objective, DEFAULT_OBJECTIVE, 'the memo set again by the last run');
    const single = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search, reuse: false }), 'can-asha-single', () => 0);
    assert.equal(single.runs, 1);
    assert.deepEqual(outcome(chunked.board), outcome(single.board));
    assert.ok(chunked.board.ranked.some((t) => t.status === 'stopped') && chunked.board.ranked.some((t) => t.status === 'completed'));
    // Trial workflow ids are the sweep's id and the run, whichever run of the sweep started them.
    assert.deepEqual(chunked.inputs.map((i) => i.trial.run).filter((r, i, all) => all.indexOf(r) === i).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), 'can-asha-again', () => 0, fakes, undefined, 4);
    assert.equal(again.board.reusedTrials, 9);
    assert.deepEqual(outcome(again.board), outcome(chunked.board));
  });

  test('the median rule every 2 epochs, 3 trials per run: the ledger carried at decision epochs decides as one run does', async () => {
    const rule: EarlyStopping = { rule: 'median', minEpochs: 1, minTrials: 1, intervalEpochs: 2 };
    const search = { method: 'random', budget: 9, space: { ...SPACE, n_epochs: { type: 'choice', values: [6] } }, earlyStopping: rule };
    const chunked = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search }), 'can-median', (run) => 30 * (run % 3), undefined, undefined, 3);
    const single = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search, reuse: false }), 'can-median-single', () => 0);
    assert.deepEqual([chunked.runs, single.runs], [3, 1]);
    assert.deepEqual(outcome(chunked.board), outcome(single.board));
    const expected = sequentialDecisions(9, rule, 6);
    assert.ok([...expected.entries()].some(([run, d]) => run > 3 && d && d.epoch > 1), 'a trial of a later run stopped at a later decision epoch');
  });

  test('a configuration drawn again after the sweep continued as new shares its first run\'s outcome: trained once, reported once, decided as in one run', async () => {
    // Nine configurations, nine draws with replacement (a budget above the space's size is refused):
    // with seed 13, repeats within a run (run 4 draws run 2's) and across runs (runs 7 to 9).
    const space = { hidden_units: { type: 'int', low: 8, high: 24, step: 8 }, dropout: { type: 'choice', values: [0.1, 0.2, 0.3] } };
    const drawn = { method: 'random', budget: 9, space, earlyStopping: { rule: 'asha', ...ASHA } };
    const raw = () => spec({ grid: undefined, concurrency: 2, seed: 13, search: drawn, reuse: false });
    const chunked = await sweepWithDelays(raw(), 'can-repeat', (run) => 30 * (run % 3), undefined, undefined, 4);
    const single = await sweepWithDelays(raw(), 'can-repeat-single', () => 0);
    assert.deepEqual([chunked.runs, single.runs], [3, 1]);
    const all = (board: Leaderboard) => [...board.ranked, ...board.failed].sort((a, b) => a.run - b.run)
      .map((t) => [t.run, t.trialId, t.status, t.epochsDone, t.stopped?.reason, t.valAccuracy, t.sameAs]);
    assert.deepEqual(all(chunked.board), all(single.board));
    const crossing = chunked.board.ranked.filter((t) => t.sameAs !== undefined && t.sameAs <= 4 && t.run > 4);
    assert.ok(crossing.length > 0, 'a configuration of the first run was drawn again in a later one');
    const runsByTrial = new Map<string, Set<number>>();
    for (const input of chunked.inputs) runsByTrial.set(input.trial.trialId, (runsByTrial.get(input.trial.trialId) ?? new Set()).add(input.trial.run));
    for (const [trialId, runs] of runsByTrial) assert.equal(runs.size, 1, `trial ${trialId} trained by runs ${[...runs].join(', ')}`);
  });

  test('bayesian, 2 trials per run: each batch suggested from the same finished trials as in one run', async () => {
    const bayes = { method: 'bayesian', budget: 5, space: { ...SPACE, n_epochs: { type: 'choice', values: [1] } } };
    const [chunked, single] = await Promise.all([2, undefined].map(async (perRun, i) => {
      const requests: SuggestRequest[] = [];
      const run = await sweepWithDelays(spec({ grid: undefined, concurrency: 2, search: bayes }), `can-bayes-${i}`, () => 0, undefined, fakeSuggest(requests), perRun);
      return { ...run, requests };
    }));
    assert.equal(chunked.runs, 3);
    assert.equal(chunked.calls.filter((c) => c.endsWith(':writeTensorboardExperiment')).length, 1, 'the HParams experiment is written once, not per run');
    assert.deepEqual(chunked.requests, single.requests);
    assert.deepEqual(chunked.requests.map((r) => [r.count, r.finished.length]), [[2, 0], [2, 2], [1, 4]]);
    assert.deepEqual(outcome(chunked.board), outcome(single.board));
  });

  test('the live leaderboard, search attributes and cancellation work in a later run; partial results include earlier runs', async () => {
    const raw = spec({ grid: { hidden_units: [8, 16, 24, 32, 40], n_epochs: [1] } });
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const { reached: reachedRun5, reach: reached } = milestone();
    const base = fakeActivities();
    const fakes = fakeActivities({
      trainTrial: async (input) => {
        if (input.trial.run === 5) {
          reached();
          await held;
          return busyUntilCancelled();
        }
        return base.gpu.trainTrial(input);
      },
    });
    await withWorkers(raw, fakes, async () => {
      const handle = await startSweep(raw, 'can-cancel', 2);
      await reachedRun5;
      const progress = await handle.query(progressQuery);
      assert.deepEqual(progress.unlisted, { ranked: 0, failed: 0, cancelled: 0, stopped: 0 });
      assert.deepEqual(progress.trials.map((t) => t.run).sort(), [1, 2, 3, 4], 'earlier runs\' trials are carried');
      assert.equal(progress.trialsTotal, 5);
      const attributes = (await handle.describe()).typedSearchAttributes;
      assert.equal(attributes.get(SEARCH_ATTRIBUTES.done), 4);
      assert.equal(attributes.get(SEARCH_ATTRIBUTES.status), 'training');
      release();
      await handle.cancel();
      await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure);
      const board = await getJson<Leaderboard>(artifactKeys.sweepResults(handle.workflowId, 'leaderboard.json'));
      assert.equal(board.status, 'cancelled');
      assert.deepEqual(board.ranked.map((t) => t.run).sort(), [1, 2, 3, 4]);
      assert.deepEqual(board.failed.map((t) => [t.run, t.status]), [[5, 'cancelled']]);
    });
  });

  test('cancelled while a later run plans its trials: ranks the earlier runs\' trials into its partial leaderboard', async () => {
    const raw = spec({ grid: { hidden_units: [8, 16, 24, 32, 40], n_epochs: [1] } });
    const { fakes, reached: planningRun2 } = busyAtSecondPlan();
    await withWorkers(raw, fakes, async () => {
      const { board, progress } = await cancelledOnceAt(startSweep(raw, 'can-cancel-planning', 2), planningRun2);
      assert.deepEqual(board.ranked.map((t) => t.run).sort(), [1, 2]);
      assert.deepEqual(board.failed, []);
      assert.equal(progress.trialsTotal, 5, 'the sweep\'s trials, not the 0 a continued run showed until it had planned');
    });
    assert.equal(fakes.calls.filter((c) => c.endsWith(':trainTrial')).length, 2, 'no trial of the later run started');
  });

  test('a trialsPerRun that is not a positive integer is refused before any work', async () => {
    const raw = spec();
    const fakes = fakeActivities();
    await withWorkers(raw, fakes, async () => {
      const handle = await env.client.workflow.start(sweepWorkflow, { taskQueue: raw.taskQueues.cpu, workflowId: `can-bad-${process.pid}-${queueCount}`, args: [raw, { trialsPerRun: 0 }] });
      await assert.rejects(handle.result(), (error: unknown) => error instanceof WorkflowFailedError && /trialsPerRun .* must be a positive integer, got 0/.test((error.cause as ApplicationFailure).message));
    });
    assert.deepEqual(fakes.calls, []);
  });
});
