// A whole sweep on the real Temporal dev server and MinIO: the DAG completes, results are complete
// and ranked, a second run of the same spec and seed is identical, and bad input fails fast.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { getJson, getObject, objectExists, parseS3Url } from '../../platform/storage';
import { evaluateHeadOnSplit } from '../../activities/evaluate';
import { artifactKeys } from '../../lib/artifact-keys';
import { trialWorkflowId } from '../../lib/live-leaderboard';
import { testEvaluationInput } from '../../lib/trial-input';
import { Leaderboard, TrainResult } from '../../lib/sweep-types';
import { SplitManifest } from '../../lib/manifest';
import { MisclassifiedImage } from '../../lib/misclassified';
import { trialInputOf } from './fault-figures';
import { layersToGraphModel } from './graph-model-fixture';
import { TestWorkers, sparseFlowerDataset, startTestWorkers, tinyBackbone, tinySpec, uniqueId } from './harness';
import { sweepWorkflow, trialWorkflow } from '../../workflows';

let env: TestWorkers;
before(async () => { env = await startTestWorkers('sweep'); });
after(async () => { await env.stop(); });

async function runSweep(spec: unknown, id = uniqueId('it-sweep')): Promise<Leaderboard> {
  return env.client.workflow.execute(sweepWorkflow, { taskQueue: env.cpuQueue, workflowId: id, args: [spec], workflowExecutionTimeout: '10m' });
}

async function trialWorkflowsOf(sweepId: string): Promise<number> {
  let count = 0;
  for await (const _ of env.client.workflow.list({ query: `WorkflowType = '${trialWorkflow.name}' AND WorkflowId STARTS_WITH '${sweepId}.'` })) count++;
  return count;
}

async function csvOf(board: Leaderboard): Promise<string[][]> {
  const { bucket, key } = parseS3Url(board.artifacts.resultsCsv);
  return (await getObject(key, bucket)).toString('utf8').trim().split('\n').map((line) => line.split(','));
}

describe('a sweep end to end', () => {
  let first: Leaderboard;

  test('completes every trial of the grid and ranks them by validation accuracy', async () => {
    first = await runSweep(await tinySpec(env, { reuse: false }));
    assert.equal(first.status, 'completed');
    assert.equal(first.ranked.length, 4);
    assert.equal(first.failed.length, 0);
    const accuracies = first.ranked.map((t) => t.valAccuracy!);
    assert.deepEqual(accuracies, [...accuracies].sort((a, b) => b - a));
    assert.ok(first.best?.test, 'the best trial has test-set scores');
    assert.equal(first.best!.test!.confusion!.flat().reduce((a, b) => a + b, 0), first.best!.test!.perClass!.reduce((n, c) => n + c.support, 0));
    for (const trial of first.ranked) {
      assert.ok(trial.valAccuracy! > 0 && trial.valAccuracy! <= 1);
      assert.equal(trial.epochsDone, 3);
    }
  });

  test('training scores the test split itself: no evaluateTrial, and the same scores as evaluating the kept head apart', async () => {
    const best = first.best!;
    const trial = env.client.workflow.getHandle(trialWorkflowId(first.sweepId, best.run));
    const activities = ((await trial.fetchHistory()).events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    assert.deepEqual(activities, ['trainTrial']);
    const input = await trialInputOf(trial);
    const trained = await getJson<TrainResult>(artifactKeys.trialResult(best.trialId));
    const apart = await evaluateHeadOnSplit(testEvaluationInput(input, trained));
    assert.deepEqual(best.test, apart);
    // The split's manifests are kept per process between evaluations: another split's rows are not the test split's.
    const val = await evaluateHeadOnSplit({ ...testEvaluationInput(input, trained), split: 'val', features: input.val });
    const listed = await getJson<{ split: string; of: number; images: MisclassifiedImage[] }>(parseS3Url(val.misclassified.list).key);
    const manifest = await getJson<SplitManifest>(input.splitKey);
    assert.deepEqual([listed.split, listed.of], ['val', manifest.val.length]);
    assert.ok(listed.images.every((image) => manifest.val[image.row].sha256 === image.sha256), 'every misclassified image is the val row it names');
    // A training attempt presumed dead while it scored stores no scores (its guard throws before the writes).
    const headKey = `${trained!.headKey.replace(/weights\.bin$/, '')}guard-${uniqueId('t')}/weights.bin`;
    const stale = { ...testEvaluationInput(input, trained), trained: { ...trained!, headKey } };
    await assert.rejects(evaluateHeadOnSplit(stale, undefined, await getObject(trained!.headKey), () => { throw new Error('presumed dead'); }), /presumed dead/);
    for (const key of [artifactKeys.headEvaluation(headKey, 'test'), artifactKeys.headMisclassified(headKey, 'test')]) assert.equal(await objectExists(key), false, key);
  });

  test('results.csv has one row per (trial, epoch) with every hyperparameter', async () => {
    const [header, ...rows] = await csvOf(first);
    assert.deepEqual(header.slice(0, 9), ['run', 'trial_id', 'epoch', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'epoch_duration', 'run_duration']);
    assert.deepEqual(header.slice(9), ['hidden_units', 'dropout', 'num_classes', 'lr', 'batch_size', 'n_epochs']);
    assert.equal(rows.length, 4 * 3);
    const pairs = new Set(rows.map((r) => `${r[0]}/${r[2]}`));
    assert.equal(pairs.size, 12);
    const json = await getJson<Array<Record<string, unknown>>>(parseS3Url(first.artifacts.resultsJson).key);
    assert.equal(json.length, 12);
    assert.equal(json[0].hidden_units, 16);
  });

  test('the same spec and seed give the same splits and the same metrics', async () => {
    const again = await runSweep(await tinySpec(env, { reuse: false }));
    const byRun = (board: Leaderboard) => board.ranked.slice().sort((a, b) => a.run - b.run);
    assert.deepEqual(byRun(again).map((t) => t.trialId), byRun(first).map((t) => t.trialId));
    assert.deepEqual(byRun(again).map((t) => [t.trainLoss, t.valLoss, t.valAccuracy, t.test?.accuracy]), byRun(first).map((t) => [t.trainLoss, t.valLoss, t.valAccuracy, t.test?.accuracy]));
    assert.ok(byRun(again).every((t) => !t.reused), 'reuse: false retrains every trial');
    const strip = (rows: string[][]) => rows.map((r) => [...r.slice(0, 7), ...r.slice(9)]);
    assert.deepEqual(strip(await csvOf(again)), strip(await csvOf(first)), 'per-epoch metrics identical, durations aside');
  });

  test('a different seed gives a different split', async () => {
    const other = await runSweep(await tinySpec(env, { seed: 8, grid: { hidden_units: [16], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [1] } }));
    assert.notEqual(other.ranked[0].trialId, first.ranked.find((t) => t.params.hidden_units === 16)?.trialId);
  });

  test('a batch_size beyond the training split trains on the whole split in one batch (no buffer of a billion rows)', { timeout: 120_000 }, async () => {
    const board = await runSweep(await tinySpec(env, { reuse: false, grid: { hidden_units: [16], dropout: [0.5], num_classes: [4], lr: [0.01], batch_size: [100_000, 1_000_000_000], n_epochs: [2] } }));
    // Before, the billion-row trial's buffer failed to allocate, and its retries never ended.
    assert.deepEqual(board.ranked.map((t) => [t.status, t.epochsDone]), [['completed', 2], ['completed', 2]]);
    assert.ok(board.ranked.every((t) => Number.isFinite(t.trainLoss) && t.test !== undefined));
  });
});

describe('a GraphModel backbone', () => {
  test('a sweep on it trains and ranks every trial; the export says why it cannot merge backbone and head', async () => {
    const graphJson = await layersToGraphModel(await tinyBackbone(), fs.mkdtempSync(path.join(os.tmpdir(), 'graph-backbone-')));
    const board = await runSweep(await tinySpec(env, { backbone: { uri: graphJson, format: 'graph', featureLayer: 'features' } }));
    assert.equal(board.status, 'completed');
    assert.equal(board.ranked.length, 4);
    assert.ok(board.best?.test, 'the best trial has test-set scores');
    assert.equal(board.model, undefined);
    assert.match(board.modelError ?? '', /only a LayersModel backbone can be exported together with its head; .* is a graph model\. The trained head of run \d+ is at s3:\/\//);
  });
});

describe('two sweeps that share trials', () => {
  test('train each shared trial once: one sweep trains it, the other waits for its lease and reuses it', async () => {
    // A seed no earlier run used, so that no result of these trials exists yet.
    const seed = 1000 + Math.floor(Math.random() * 1e6);
    const spec = await tinySpec(env, { seed });
    const [a, b] = await Promise.all([runSweep(spec), runSweep(spec)]);
    assert.equal(a.ranked.length, 4);
    for (const trial of a.ranked) {
      const twin = b.ranked.find((t) => t.trialId === trial.trialId);
      assert.ok(twin, `run ${trial.run} is in both sweeps`);
      assert.equal([trial, twin].filter((t) => !t.reused).length, 1, `seed ${seed}, run ${trial.run}: trained by exactly one of the sweeps`);
      assert.deepEqual([twin.valLoss, twin.valAccuracy, twin.test?.accuracy], [trial.valLoss, trial.valAccuracy, trial.test?.accuracy]);
    }
  });
});

describe('bad input fails before any training', () => {
  async function expectFailure(spec: unknown, ...patterns: RegExp[]): Promise<void> {
    const id = uniqueId('it-bad');
    await assert.rejects(runSweep(spec, id), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError, `expected a failed workflow, got ${error}`);
      let message = '';
      for (let e: any = error; e; e = e.cause) message += ` ${e.message}`;
      for (const pattern of patterns) assert.match(message, pattern);
      return true;
    });
    assert.equal(await trialWorkflowsOf(id), 0, 'no trial was started');
  }

  test('an invalid spec names the field and the fix', async () => {
    await expectFailure(await tinySpec(env, { split: { train: 0.8, val: 0.15, test: 0.15 }, grid: { dropout: [1.5] } }), /split: train \+ val \+ test must add up to 1/, /grid\.dropout: 1\.5 must be a number in \[0, 1\)/);
  });

  test('a missing data source says which path', async () => {
    await expectFailure(await tinySpec(env, { data: { source: '/nonexistent/flowers' } }), /\/nonexistent\/flowers/);
  });

  test('a listed class with no images is named', async () => {
    await expectFailure(await tinySpec(env, { data: { classes: ['daisy', 'rose', 'orchid'] }, grid: { num_classes: [3] } }), /orchid/);
  });

  test('a class of two distinct images is named, before any features are extracted (the train split would have had none of it)', async () => {
    await expectFailure(await tinySpec(env, { data: { source: await sparseFlowerDataset('rose', 2) } }), /class "rose" has 2 distinct images, so the train split has none of it/, /at least 3 distinct images/);
  });

  test('num_classes that disagrees with the data is refused', async () => {
    // No data.classes: the classes come from the data (4 folders), so only the data can say 5 is wrong.
    const spec = await tinySpec(env, { grid: { hidden_units: [16], num_classes: [5], n_epochs: [1] } });
    delete spec.data.classes;
    await expectFailure(spec, /num_classes \[5\] disagrees with the data, which has 4 classes/);
  });
});
