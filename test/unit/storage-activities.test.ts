// Activity logic that depends on storage, on the in-memory object store (platform/memory-store.ts):
// the store's contract, balancing and splitting (idempotent, content-keyed), the feature cache, and
// planning (which marks the trials whose result is stored).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { balanceDataset, splitDataset } from '../../activities/dataset-steps';
import { planTrials, trialPlans } from '../../activities/plan';
import { leaderboardKey } from '../../activities/leaderboard-file';
import { buildSweepReport, reportKey, writeReport } from '../../activities/report';
import { rankSweep } from '../../activities/results';
import { fullLeaderboard } from '../../cli/full-leaderboard';
import { TEMPORAL_LIMITS } from '../../lib/workflow-limits';
import { storeResult } from '../../activities/trial-result';
import { EvaluateInput, Evaluation, Leaderboard, TrainResult, TrialInput, TrialSummary } from '../../lib/sweep-types';
import { testScores } from '../../lib/test-scores';
import { TrialEvents, writeReusedTrialEvents, writeSessionEnds } from '../../activities/tensorboard-events';
import { SCALAR_TAGS, trialRunName } from '../../formats/tensorboard-layout';
import { readEventFile } from '../../formats/tensorboard';
import { HeadArrays, initHeadArrays } from '../../model/head';
import { artifactKeys } from '../../lib/artifact-keys';
import { DatasetManifest, SplitManifest } from '../../lib/manifest';
import { parseSweepSpec } from '../../lib/sweep-spec';
import { encodeFeatureShard } from '../../formats/feature-shard';
import { decodeProbabilities, encodeProbabilities } from '../../formats/probabilities';
import { evaluateHeadOnSplit } from '../../activities/evaluate';
import { encodeHeadWeights } from '../../model/checkpoint';
import { openFeatureSet } from '../../platform/feature-cache';
import { MemoryObjectStore } from '../../platform/memory-store';
import { MissingObjectError, ObjectStore, PreconditionFailedError, PutOptions } from '../../platform/object-store';
import {
  deleteObject, getJson, getJsonIfExists, getObject, getObjectVersion, listKeys, objectExists, putJson, putObject, putObjectIf, s3Url, setObjectStore,
} from '../../platform/storage';

const store = new MemoryObjectStore();
let previous: ObjectStore;
before(() => { previous = setObjectStore(store); });
after(() => { setObjectStore(previous); });

describe('the in-memory object store', () => {
  test('stores, reads (whole or a byte range), lists by prefix in key order and deletes', async () => {
    await putObject('a/2', 'second');
    await putObject('a/1', new Uint8Array([1, 2, 3, 4]));
    await putJson('b/x.json', { x: 1 });
    assert.deepEqual([...(await getObject('a/1', undefined, 'bytes=1-2'))], [2, 3]);
    assert.deepEqual(await getJson('b/x.json'), { x: 1 });
    const keys: string[] = [];
    for await (const { key } of listKeys('a/')) keys.push(key);
    assert.deepEqual(keys, ['a/1', 'a/2']);
    await deleteObject('a/2');
    assert.equal(await objectExists('a/2'), false);
  });

  test('a missing object: undefined where asked for, MissingObjectError where required', async () => {
    assert.equal(await getJsonIfExists('nope.json'), undefined);
    await assert.rejects(getObject('nope.bin'), (error: unknown) => error instanceof MissingObjectError && /nope\.bin/.test(error.message));
  });

  test('conditional writes: If-None-Match creates once, If-Match needs the version read', async () => {
    const etag = await putObjectIf('c.json', '1', { ifNoneMatch: '*' });
    await assert.rejects(putObjectIf('c.json', '2', { ifNoneMatch: '*' }), PreconditionFailedError);
    const read = await getObjectVersion('c.json');
    assert.equal(read.etag, etag);
    const next = await putObjectIf('c.json', '3', { ifMatch: etag });
    await assert.rejects(putObjectIf('c.json', '4', { ifMatch: etag }), PreconditionFailedError, 'a stale version loses');
    assert.deepEqual(await getObjectVersion('c.json'), { body: Buffer.from('3'), etag: next });
  });
});

describe('balance and split on the store', () => {
  const classes = ['daisy', 'rose'];
  const images = classes.flatMap((label, c) => Array.from({ length: 10 + c * 5 }, (_, i) => ({ sha256: `${label}-${i}`.padEnd(64, '0'), label, source: `${label}/${i}.jpg` })));
  const dataset: DatasetManifest = { datasetId: 'ds1', source: './flowers', classes, images, skipped: [] };
  const datasetKey = artifactKeys.dataset(dataset.datasetId);

  test('balancing writes one content-keyed manifest and reports oversampled classes', async () => {
    await putJson(datasetKey, dataset);
    const input = { datasetKey, perClass: 12, seed: 7, numClassesInGrid: [2] };
    const first = await balanceDataset(input);
    assert.deepEqual(first.oversampledClasses, ['daisy']);
    const balanced = await getJson<{ samples: unknown[] }>(first.balancedKey);
    assert.equal(balanced.samples.length, 24);
    const objects = store.objects.size;
    assert.deepEqual(await balanceDataset(input), first, 'the same inputs give the same key');
    assert.equal(store.objects.size, objects, 'and write nothing new');
  });

  test('a grid num_classes that disagrees with the data is a non-retryable SpecError', async () => {
    await assert.rejects(balanceDataset({ datasetKey, perClass: 12, seed: 7, numClassesInGrid: [3] }),
      (error: unknown) => error instanceof ApplicationFailure && error.type === 'SpecError' && error.nonRetryable);
  });

  test('a perClass whose balanced set no manifest can hold is a non-retryable SpecError before anything is built (30M ran the worker out of memory)', async () => {
    const objects = store.objects.size;
    await assert.rejects(balanceDataset({ datasetKey, perClass: 30_000_000, seed: 7, numClassesInGrid: [] }),
      (error: unknown) => error instanceof ApplicationFailure && error.type === 'SpecError' && error.nonRetryable &&
        /^balance\.perClass: 30,000,000 images for each of \d classes is [\d,]+ samples, more than the 3,000,000 a sweep's manifests can hold; use a perClass of at most [\d,]+$/.test(error.message));
    assert.equal(store.objects.size, objects, 'nothing written');
  });

  test('splitting is stratified, complete and keyed by its inputs', async () => {
    const { balancedKey } = await balanceDataset({ datasetKey, perClass: 12, seed: 7, numClassesInGrid: [] });
    const summary = await splitDataset({ balancedKey, fractions: { train: 0.5, val: 0.25, test: 0.25 }, seed: 7 });
    const manifest = await getJson<SplitManifest>(summary.splitKey);
    assert.equal(summary.splitKey, artifactKeys.split(summary.splitId));
    assert.equal(manifest.train.length + manifest.val.length + manifest.test.length, 24);
    assert.deepEqual(summary.counts, { train: manifest.train.length, val: manifest.val.length, test: manifest.test.length });
    assert.deepEqual(await splitDataset({ balancedKey, fractions: { train: 0.5, val: 0.25, test: 0.25 }, seed: 7 }), summary);
  });
});

describe('the feature cache on the store', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'feature-cache-'));
  const saved = process.env.SWEEP_CACHE_DIR;
  after(() => {
    if (saved === undefined) delete process.env.SWEEP_CACHE_DIR; else process.env.SWEEP_CACHE_DIR = saved;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('in memory and streamed from local files, a set reads the same; SWEEP_CACHE_DIR is read when used', async () => {
    // Set after the module was imported: the cache must still use it.
    process.env.SWEEP_CACHE_DIR = tmp;
    const dim = 3;
    const rows = (from: number, count: number) => Float32Array.from({ length: count * dim }, (_, i) => from * dim + i);
    await putObject(artifactKeys.featureShard('fs1', 0), encodeFeatureShard({ count: 2, dim, labels: Int32Array.from([0, 1]), features: rows(0, 2) }));
    await putObject(artifactKeys.featureShard('fs1', 1), encodeFeatureShard({ count: 1, dim, labels: Int32Array.from([1]), features: rows(2, 1) }));
    const ref = { id: 'fs1', shards: 2, rows: 3, dim };
    const read = async (memoryLimitBytes: number) => {
      const set = await openFeatureSet(ref, memoryLimitBytes);
      const out = new Float32Array(2 * dim);
      await set.read([2, 0], out);
      set.close();
      return { labels: [...set.labels], out: [...out] };
    };
    const inMemory = await read(1024);
    assert.deepEqual(inMemory, { labels: [0, 1, 1], out: [6, 7, 8, 0, 1, 2] });
    assert.deepEqual(await read(0), inMemory);
    assert.ok(fs.existsSync(path.join(tmp, artifactKeys.featureShard('fs1', 0))), 'shards are cached under SWEEP_CACHE_DIR');
  });

  test('decoded sets are kept between opens, the least recently opened dropped first to stay within the memory limit', async () => {
    process.env.SWEEP_CACHE_DIR = tmp;
    const dim = 2;
    const refs = ['kept-a', 'kept-b', 'kept-c'].map((id) => ({ id, shards: 1, rows: 4, dim }));
    for (const [i, ref] of refs.entries()) {
      await putObject(artifactKeys.featureShard(ref.id, 0), encodeFeatureShard({ count: 4, dim, labels: Int32Array.from([i, i, i, i]), features: new Float32Array(8).fill(i) }));
    }
    // Rows in memory share the decoded set's arrays, so the same labels array means the set was kept.
    const labelsOf = async (ref: (typeof refs)[number], limit: number) => (await openFeatureSet(ref, limit)).labels;
    const twoSets = 2 * 4 * dim * 4;
    const a = await labelsOf(refs[0], twoSets);
    assert.equal(await labelsOf(refs[0], twoSets), a, 'opened again: the decoded set is kept');
    const b = await labelsOf(refs[1], twoSets);
    assert.equal(await labelsOf(refs[0], twoSets), a, 'two sets fit');
    await labelsOf(refs[2], twoSets);
    assert.equal(await labelsOf(refs[0], twoSets), a, 'a, opened after b, is kept');
    const bAgain = await labelsOf(refs[1], twoSets);
    assert.notEqual(bAgain, b, 'b was the least recently opened, so c pushed it out');
    assert.deepEqual([...bAgain], [1, 1, 1, 1]);
  });

  test('a feature shard cut short or emptied on disk (a node that lost power) is downloaded again, in memory and streamed', async () => {
    process.env.SWEEP_CACHE_DIR = tmp;
    const dim = 4;
    const shard = encodeFeatureShard({ count: 40, dim, labels: Int32Array.from({ length: 40 }, (_, i) => i % 3), features: Float32Array.from({ length: 40 * dim }, (_, i) => i) });
    for (const [name, damaged] of [['cut', shard.subarray(0, 200)], ['empty', new Uint8Array(0)]] as const) {
      for (const limit of [1e9, 0]) {
        const ref = { id: `damaged-${name}-${limit}`, shards: 1, rows: 40, dim };
        const key = artifactKeys.featureShard(ref.id, 0);
        await putObject(key, shard);
        fs.mkdirSync(path.dirname(path.join(tmp, key)), { recursive: true });
        fs.writeFileSync(path.join(tmp, key), damaged);
        const set = await openFeatureSet(ref, limit);
        const out = new Float32Array(dim);
        await set.read([39], out);
        set.close();
        assert.deepEqual([...out], [156, 157, 158, 159], `${name}, ${limit ? 'in memory' : 'streamed'}`);
        assert.equal(fs.statSync(path.join(tmp, key)).size, shard.byteLength);
      }
    }
  });

  test('a feature shard changed on disk after its download (one byte: a label, a feature) is downloaded again, in memory and streamed; a copy without its digest too', async () => {
    process.env.SWEEP_CACHE_DIR = tmp;
    const dim = 4;
    const shard = encodeFeatureShard({ count: 40, dim, labels: Int32Array.from({ length: 40 }, (_, i) => i % 3), features: Float32Array.from({ length: 40 * dim }, (_, i) => i) });
    const labelByte = 12 + 39 * 4;
    const featureByte = shard.byteLength - 1;
    for (const damage of ['label', 'feature', 'digest lost'] as const) {
      for (const limit of [1e9, 0]) {
        const ref = { id: `changed-${damage.replace(' ', '-')}-${limit}`, shards: 1, rows: 40, dim };
        const key = artifactKeys.featureShard(ref.id, 0);
        const file = path.join(tmp, key);
        await putObject(key, shard);
        // Downloaded by a first read, as a node does, then changed in place.
        (await openFeatureSet(ref, 0)).close();
        if (damage === 'digest lost') {
          fs.rmSync(`${file}.sha256`);
        } else {
          const bytes = fs.readFileSync(file);
          bytes[damage === 'label' ? labelByte : featureByte] ^= 0xff;
          fs.writeFileSync(file, bytes);
        }
        const set = await openFeatureSet(ref, limit);
        const out = new Float32Array(dim);
        await set.read([39], out);
        assert.deepEqual([...out], [156, 157, 158, 159], `${damage}, ${limit ? 'in memory' : 'streamed'}`);
        assert.equal(set.labels[39], 0, `${damage}, ${limit ? 'in memory' : 'streamed'}`);
        set.close();
        assert.ok(fs.readFileSync(file).equals(Buffer.from(shard)), 'the copy is whole again');
      }
    }
  });
});

describe('planTrials on the store', () => {
  const input = (reuse: boolean) => ({
    spec: parseSweepSpec({ data: { source: './flowers', classes: ['daisy', 'rose'] }, backbone: { uri: 'file:///m/model.json' }, grid: { hidden_units: [8, 16, 32] }, reuse }),
    classes: ['daisy', 'rose'],
    train: [{ id: 'plan-train', shards: 1, rows: 10, dim: 8 }],
    val: { id: 'plan-val', shards: 1, rows: 4, dim: 8 },
  });

  test('with reuse on, the plans whose trial has a stored result are marked; otherwise the plans are trialPlans', async () => {
    const plans = trialPlans(input(true));
    await putJson(artifactKeys.trialResult(plans[1].trialId), { trialId: plans[1].trialId });
    const marked = await planTrials(input(true));
    assert.deepEqual(marked.map((p) => p.resultFound ?? false), [false, true, false]);
    assert.deepEqual(marked.map(({ resultFound: _, ...p }) => p), plans, 'the same plans, marks aside');
    assert.deepEqual(await planTrials(input(false)), trialPlans(input(false)), 'reuse off: nothing to find');
  });
});

describe('a sweep\'s results and report on the store', () => {
  test('show the epochs the sweep trained, however far another sweep trained the trial on since', async () => {
    const epoch = (e: number) => ({ epoch: e, trainLoss: 1 / e, trainAccuracy: 0.5, valLoss: 1 / e, valAccuracy: 0.5 + e / 100, epochDuration: 1, runDuration: e });
    const spec = parseSweepSpec({ data: { source: './flowers' }, backbone: { uri: 'file:///m/model.json' }, grid: { hidden_units: [16] } });
    const trialId = 'stopped-then-trained-on';
    await putJson(artifactKeys.trialResult(trialId), { trialId, epochs: [1, 2, 3].map(epoch), headKey: 'h' });
    const stopped: TrialSummary = { trialId, run: 1, params: { hidden_units: 16 }, status: 'stopped', stopped: { epoch: 3, rule: 'asha', reason: 'r' }, epochsDone: 3, ...epoch(3) };
    const cancelled: TrialSummary = { trialId: 'trained-elsewhere', run: 2, params: { hidden_units: 32 }, status: 'cancelled', epochsDone: 0 };
    await putJson(artifactKeys.trialResult(cancelled.trialId), { trialId: cancelled.trialId, epochs: [1, 2].map(epoch), headKey: 'h2' });
    // Another sweep trains the stopped trial on to epoch 9 (its stored result is the trial's furthest).
    await putJson(artifactKeys.trialResult(trialId), { trialId, epochs: [1, 2, 3, 4, 5, 6, 7, 8, 9].map(epoch), headKey: 'h' });
    await rankSweep({ sweepId: 'results-a', spec, trials: [stopped, cancelled], status: 'completed' });
    const csv = (await getObject(artifactKeys.sweepResults('results-a', 'results.csv'))).toString().trim().split('\n');
    assert.deepEqual(csv.slice(1).map((line) => line.split(',')[0]), ['1', '1', '1'], 'three rows of run 1, none of the cancelled run 2');
    const html = await buildSweepReport('results-a');
    const data = JSON.parse(html.match(/id="report-data">(.*?)<\/script>/s)![1]) as { trials: Array<{ run: number; epochs: unknown[] }> };
    assert.equal(data.trials.find((t) => t.run === 1)!.epochs.length, 3);
  });

  test('trial summaries carry test loss and accuracy; the leaderboard\'s best trial gets its per-class scores and confusion matrix from beside its head', async () => {
    // 100 classes: a summary with the full scores is ~33 KB, and a run's 100 summaries passed Temporal's 2 MB payload limit.
    const classes = Array.from({ length: 100 }, (_, i) => `class-${i}`);
    const full: Evaluation = {
      split: 'test', loss: 0.5, accuracy: 0.9, misclassified: { count: 1, list: 's3://b/m.json' },
      perClass: classes.map((className) => ({ className, precision: 0.9, recall: 0.9, f1: 0.9, support: 10 })),
      confusion: classes.map((_, i) => classes.map((__, j) => (i === j ? 9 : 0))),
    };
    const spec = parseSweepSpec({ data: { source: './flowers' }, backbone: { uri: 'file:///m/model.json' }, grid: { hidden_units: [16, 32] } });
    const summary = (run: number, valAccuracy: number): TrialSummary => ({
      trialId: `scores-${run}`, run, params: { hidden_units: 16 * run }, status: 'completed', epochsDone: 1, valAccuracy, valLoss: 1 - valAccuracy,
      headKey: `trials/scores-${run}/head/weights.bin`, test: testScores(full),
    });
    const trials = Array.from({ length: 100 }, (_, i) => summary(i + 1, 0.5 + i / 1000));
    assert.ok(JSON.stringify(trials).length < 100_000, `100 summaries in ${JSON.stringify(trials).length} bytes`);
    await putJson(artifactKeys.headEvaluation(trials[99].headKey!, 'test'), { ...full, predictions: [], labels: [], probabilities: [] });
    const board = await rankSweep({ sweepId: 'results-scores', spec, trials, status: 'completed' });
    assert.equal(board.best?.run, 100);
    assert.deepEqual([board.best?.test?.perClass, board.best?.test?.confusion], [full.perClass, full.confusion]);
    assert.equal(board.ranked[0].test?.confusion, undefined, 'the ranked rows stay small');
    assert.deepEqual((await getJson<Leaderboard>(artifactKeys.sweepResults('results-scores', 'leaderboard.json'))).best?.test, full);
    // The same trials ranked by a sweep whose class folders were renamed (the same images and labels):
    // its names, not those the scores were stored under.
    const renamed = classes.map((c) => c.toUpperCase());
    const again = await rankSweep({ sweepId: 'results-renamed', spec, trials, status: 'completed', classes: renamed });
    assert.deepEqual(again.best?.test?.perClass!.map((c) => c.className), renamed);
    assert.deepEqual(again.best?.test?.perClass!.map((c) => c.f1), full.perClass.map((c) => c.f1));
  });

  test('1,000 classes: the workflow\'s result leaves the best trial\'s matrix to leaderboard.json, and stays under Temporal\'s 2 MB payload limit; the CLI reads it whole', async () => {
    const classes = Array.from({ length: 1000 }, (_, i) => `n0${1440000 + i}`);
    const full: Evaluation = {
      split: 'test', loss: 0.5, accuracy: 0.9, misclassified: { count: 1, list: 's3://b/m.json' },
      perClass: classes.map((className) => ({ className, precision: 0.9, recall: 0.9, f1: 0.9, support: 90 })),
      confusion: classes.map((_, i) => classes.map((__, j) => (i === j ? 81 : j === (i + 1) % classes.length ? 9 : 0))),
    };
    const spec = parseSweepSpec({ data: { source: './flowers' }, backbone: { uri: 'file:///m/model.json' }, grid: { hidden_units: [16] } });
    const trials = Array.from({ length: 100 }, (_, i): TrialSummary => ({
      trialId: `wide-${i + 1}`, run: i + 1, params: { hidden_units: 16 }, status: 'completed', epochsDone: 1, valAccuracy: 0.5 + i / 1000, valLoss: 0.5,
      headKey: `trials/wide-${i + 1}/head/weights.bin`, test: testScores(full),
    }));
    await putJson(artifactKeys.headEvaluation(trials[99].headKey!, 'test'), full);
    const board = await rankSweep({ sweepId: 'results-wide', spec, trials, status: 'completed', classes });
    const bytes = Buffer.byteLength(JSON.stringify(board));
    assert.ok(bytes < TEMPORAL_LIMITS.payloadBytes / 4, `the result is ${bytes} bytes`);
    assert.deepEqual(board.truncated, { ranked: 100, failed: 0, bestScores: true });
    assert.equal(board.best?.test?.accuracy, 0.9, 'the best trial\'s test scores themselves stay');
    assert.equal(board.best?.test?.confusion, undefined);
    const stored = await fullLeaderboard(board);
    assert.deepEqual([stored.best?.test?.confusion, stored.best?.test?.perClass?.length], [full.confusion, 1000]);
  });
});



/** The store, with one write of one key held until released, or answered as refused after it landed (a lost answer, resent). */
class InterferingStore extends MemoryObjectStore {
  private hold?: { key: string; reached: () => void; release: Promise<void> };
  private loseAnswerTo?: string;

  /** Holds the next write of `key`; resolves `reached` once it is held, and lets it go on when `release` is called. */
  holdNextWrite(key: string): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => { reached = resolve; });
    this.hold = { key, reached, release: new Promise<void>((resolve) => { release = resolve; }) };
    return { reached: reachedPromise, release };
  }

  loseAnswerToNextWrite(key: string): void {
    this.loseAnswerTo = key;
  }

  override async put(bucket: string, key: string, body: Uint8Array | string, options?: PutOptions): Promise<string> {
    const hold = this.hold?.key === key ? this.hold : undefined;
    if (hold) {
      this.hold = undefined;
      hold.reached();
      await hold.release;
    }
    const etag = await super.put(bucket, key, body, options);
    if (this.loseAnswerTo !== key) return etag;
    this.loseAnswerTo = undefined;
    if (options?.ifMatch || options?.ifNoneMatch) throw new PreconditionFailedError(key);
    return etag;
  }
}

describe('leaderboard.json, written by the rank step and linked to the report by the report step', () => {
  const spec = parseSweepSpec({ data: { source: './flowers' }, backbone: { uri: 'file:///m/model.json' }, grid: { hidden_units: [16, 32] } });
  const trials: TrialSummary[] = [1, 2].map((run) => ({
    trialId: `linked-${run}`, run, params: { hidden_units: 16 * run }, status: 'completed', epochsDone: 1, valAccuracy: 0.5 + run / 10, valLoss: 1 - run / 10,
  }));
  const interfering = new InterferingStore();
  let outer: ObjectStore;
  before(() => { outer = setObjectStore(interfering); });
  after(() => { setObjectStore(outer); });

  test('a rank attempt presumed dead that wakes after its retry and the report step have written keeps the report\'s link', async () => {
    const sweepId = 'stale-rank';
    const rank = () => rankSweep({ sweepId, spec, trials, status: 'completed' });
    const held = interfering.holdNextWrite(leaderboardKey(sweepId));
    const stale = rank();
    await held.reached;
    const retried = await rank();
    const url = await writeReport({ sweepId });
    held.release();
    assert.deepEqual(await stale, retried);
    const stored = await getJson<Leaderboard>(leaderboardKey(sweepId));
    assert.equal(stored.artifacts.report, url, 'the stale attempt\'s write took the report\'s link away');
    assert.deepEqual(stored.ranked.map((t) => t.run), [2, 1]);
  });

  test('a ranking that changed since the report read it: the report is built again from the new one, and linked from it', async () => {
    const sweepId = 'reranked';
    await rankSweep({ sweepId, spec, trials, status: 'cancelled' });
    const held = interfering.holdNextWrite(leaderboardKey(sweepId));
    const report = writeReport({ sweepId });
    await held.reached;
    // Written while the report's link waits: its If-Match no longer holds.
    await rankSweep({ sweepId, spec, trials, status: 'completed' });
    held.release();
    const url = await report;
    const stored = await getJson<Leaderboard>(leaderboardKey(sweepId));
    assert.deepEqual([stored.status, stored.artifacts.report], ['completed', url]);
    assert.match((await getObject(reportKey(sweepId))).toString(), /<p class="meta">completed · /);
  });

  test('a conditional write that landed but was refused when sent again (its answer lost) counts as written', async () => {
    const sweepId = 'lost-answers';
    interfering.loseAnswerToNextWrite(leaderboardKey(sweepId));
    await rankSweep({ sweepId, spec, trials, status: 'completed' });
    interfering.loseAnswerToNextWrite(leaderboardKey(sweepId));
    const url = await writeReport({ sweepId });
    assert.equal((await getJson<Leaderboard>(leaderboardKey(sweepId))).artifacts.report, url);
  });
});

describe('a trial\'s result.json, its furthest result', () => {
  const interfering = new InterferingStore();
  let outer: ObjectStore;
  before(() => { outer = setObjectStore(interfering); });
  after(() => { setObjectStore(outer); });
  const epoch = (e: number) => ({ epoch: e, trainLoss: 1 / e, trainAccuracy: 0.5, valLoss: 1 / e, valAccuracy: 0.5 + e / 100, epochDuration: 1, runDuration: e });
  const result = (trialId: string, epochs: number): TrainResult => ({
    trialId, run: 1, params: {}, epochs: Array.from({ length: epochs }, (_, i) => epoch(i + 1)), backend: 'cpu', resumedFromEpoch: 0, reused: false, headKey: `h-${epochs}`,
  });

  test('a stale attempt\'s shorter result, written after a later rung\'s though read before it, does not shorten it', async () => {
    const trialId = 'stale-rung-result';
    const held = interfering.holdNextWrite(artifactKeys.trialResult(trialId));
    const stale = storeResult(result(trialId, 3));
    await held.reached;
    await storeResult(result(trialId, 9));
    held.release();
    await stale;
    assert.equal((await getJson<TrainResult>(artifactKeys.trialResult(trialId))).epochs.length, 9);
    await storeResult(result(trialId, 9));
    assert.equal((await getJson<TrainResult>(artifactKeys.trialResult(trialId))).headKey, 'h-9');
  });
});

/** A head of 200 classes on 300 test rows, stored with its features, split manifest and data set manifest; the input names no classes. */
async function wideEvaluation(): Promise<EvaluateInput> {
  const classes = Array.from({ length: 200 }, (_, i) => `class-${i}`);
  const rows = 300;
  const dim = 4;
  const samples = Array.from({ length: rows }, (_, i) => ({ sha256: `img-${i}`, label: i % classes.length, copy: 0 }));
  await putJson('splits/eval-wide.json', { splitId: 'eval-wide', datasetId: 'data-wide', classes, train: [], val: [], test: samples });
  await putJson(artifactKeys.dataset('data-wide'), { datasetId: 'data-wide', source: 's', classes, images: samples.map((s) => ({ sha256: s.sha256, label: classes[s.label], source: `${s.sha256}.jpg` })), skipped: [] });
  const features = Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i));
  await putObject(artifactKeys.featureShard('eval-wide', 0), encodeFeatureShard({ count: rows, dim, labels: Int32Array.from(samples, (s) => s.label), features }));
  const shape = { inputDim: dim, hiddenUnits: 8, numClasses: classes.length };
  const headKey = 'trials/eval-wide/head/epoch-0001/weights.bin';
  await putObject(headKey, encodeHeadWeights(initHeadArrays(shape, 1, 'eval-wide')));
  return { trained: { trialId: 'eval-wide', headKey, params: {} }, hiddenUnits: 8, split: 'test' as const, features: { id: 'eval-wide', shards: 1, rows, dim }, splitKey: 'splits/eval-wide.json' };
}

describe('a head\'s test evaluation on the store', () => {
  test('the probabilities go to a binary file beside it (rows × classes float32), out of the JSON', async () => {
    const classes = Array.from({ length: 200 }, (_, i) => `class-${i}`);
    const rows = 300;
    const input = { ...await wideEvaluation(), classes };
    const { headKey } = input.trained;
    const evaluation = await evaluateHeadOnSplit(input);
    const json = await getObject(artifactKeys.headEvaluation(headKey, 'test'));
    const stored = JSON.parse(json.toString()) as { predictions: number[]; probabilitiesFile: { url: string; rows: number; classes: number } };
    assert.deepEqual(stored.probabilitiesFile, { url: s3Url(artifactKeys.headProbabilities(headKey, 'test')), rows, classes: 200 });
    assert.equal('probabilities' in stored, false);
    // Its confusion matrix is most of it (classes²); the probabilities as JSON numbers were ~25 bytes each: 1.5 MB more here.
    assert.ok(json.length < 500_000, `evaluation-test.json is ${json.length} bytes`);
    const probabilities = decodeProbabilities(await getObject(artifactKeys.headProbabilities(headKey, 'test')), rows, classes.length);
    for (let row = 0; row < rows; row++) {
      const p = probabilities.subarray(row * classes.length, (row + 1) * classes.length);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-4, `row ${row} sums to 1`);
      assert.equal(p.indexOf(Math.max(...p)), stored.predictions[row], `row ${row}: the most probable class is the prediction`);
    }
    assert.equal(evaluation.confusion.flat().reduce((a, b) => a + b, 0), rows);
  });

  test('a trial given no class list (since 2026-12-08: a sweep run\'s history held one per trial) names the classes from the split manifest, as one given them does', async () => {
    const input = await wideEvaluation();
    assert.equal('classes' in input, false);
    const named = await evaluateHeadOnSplit(input);
    const misclassifiedKey = artifactKeys.headMisclassified(input.trained.headKey, 'test');
    const namedList = (await getObject(misclassifiedKey)).toString();
    const given = await evaluateHeadOnSplit({ ...input, classes: Array.from({ length: 200 }, (_, i) => `class-${i}`) });
    assert.deepEqual(named, given);
    assert.equal((await getObject(misclassifiedKey)).toString(), namedList);
    assert.deepEqual(named.perClass.slice(0, 2).map((c) => c.className), ['class-0', 'class-1']);
    const { images } = JSON.parse(namedList) as { images: { trueClass: string; predictedClass: string }[] };
    assert.ok(images.length > 0 && images.every((i) => /^class-\d+$/.test(i.trueClass) && /^class-\d+$/.test(i.predictedClass)));
  });

  test('encodeProbabilities and decodeProbabilities: exp of the log-probabilities, little-endian, the size checked', () => {
    const logProbs = Float32Array.from([Math.log(0.25), Math.log(0.75), 0, -Infinity]);
    const bytes = encodeProbabilities(logProbs);
    assert.equal(new DataView(bytes.buffer).getFloat32(4, true), 0.75);
    assert.deepEqual([...decodeProbabilities(bytes, 2, 2)], [0.25, 0.75, 1, 0]);
    assert.throws(() => decodeProbabilities(bytes, 3, 2), /has 16 bytes, not 3 rows × 2 classes × 4/);
  });
});

describe('TensorBoard events of a reused trial', () => {
  test('the stored head\'s histograms sit at the epoch it is of: the best, for a trial that keeps it (they were drawn at the last)', async () => {
    const epoch = (e: number, valAccuracy: number) => ({ epoch: e, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1 - valAccuracy, valAccuracy, epochDuration: 1, runDuration: e });
    const result = { trialId: 'hist-t', run: 1, params: { lr: 0.01 }, epochs: [epoch(1, 0.9), epoch(2, 0.5), epoch(3, 0.4)], bestEpoch: 1, headKey: 'h', backend: 'cpu', resumedFromEpoch: 0, reused: false };
    const head: HeadArrays = [new Float32Array(4).fill(1), new Float32Array(2).fill(1), new Float32Array(4).fill(1), new Float32Array(2).fill(1)];
    const input = { sweepId: 'hist-sweep', trial: { trialId: 'hist-t', run: 1, params: { lr: 0.01 }, head: { hidden_units: 2, num_classes: 2, dropout: 0.5, n_epochs: 3, lr: 0.01, batch_size: 4 } }, val: { dim: 2 } } as unknown as TrialInput;
    await writeReusedTrialEvents(input, result, async () => head, true);
    const histogramSteps: number[] = [];
    for await (const { key } of listKeys(artifactKeys.tensorboard('hist-sweep'))) {
      for (const event of readEventFile(await getObject(key))) if (event.summary?.value.some((v) => v.histo)) histogramSteps.push(event.step ?? 0);
    }
    assert.deepEqual([...new Set(histogramSteps)], [1]);
  });

  test('a diverged trial read back from result.json (NaN stored as null) is written with NaN scalars, not refused for ever', async () => {
    const diverged = { epoch: 1, trainLoss: NaN, trainAccuracy: 0.25, valLoss: Infinity, valAccuracy: 0.25, epochDuration: 1, runDuration: 1 };
    const result = JSON.parse(JSON.stringify({ trialId: 'nan-t', run: 1, params: { lr: 5 }, epochs: [diverged], headKey: 'h', backend: 'cpu', resumedFromEpoch: 0, reused: false })) as TrainResult;
    assert.equal(result.epochs[0].trainLoss, null, 'JSON has no NaN');
    const input = { sweepId: 'nan-sweep', trial: { trialId: 'nan-t', run: 1, params: { lr: 5 }, head: { hidden_units: 2, num_classes: 2, dropout: 0.5, n_epochs: 1, lr: 5, batch_size: 4 } }, val: { dim: 2 } } as unknown as TrialInput;
    await writeReusedTrialEvents(input, result, undefined, true);
    const scalars: Record<string, number> = {};
    for await (const { key } of listKeys(artifactKeys.tensorboard('nan-sweep'))) {
      for (const event of readEventFile(await getObject(key))) for (const v of event.summary?.value ?? []) if (v.simple_value !== undefined) scalars[v.tag] = v.simple_value;
    }
    assert.ok(Number.isNaN(scalars[SCALAR_TAGS.trainLoss]) && Number.isNaN(scalars[SCALAR_TAGS.valLoss]), JSON.stringify(scalars));
    assert.equal(scalars[SCALAR_TAGS.valAccuracy], 0.25);
  });

  test('stale epoch files are removed only while the attempt may still write: one that hung after its claim keeps a retry\'s files', async () => {
    const trial = { trialId: 'stale-files-t', run: 1, params: { lr: 0.1 }, head: { hidden_units: 2, num_classes: 2, dropout: 0.5, n_epochs: 5, lr: 0.1, batch_size: 4 } } as unknown as TrialInput['trial'];
    const events = new TrialEvents('stale-files-sweep', trial);
    const epoch = (e: number) => ({ epoch: e, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1, valAccuracy: 0.5, epochDuration: 1, runDuration: e });
    await events.writeEpochFiles([1, 2, 3, 4, 5].map((e) => events.epochFile(epoch(e), undefined)));
    const epochFiles = async () => (await events.existing()).length;
    await assert.rejects(events.removeStaleEpochs(2, () => { throw new Error('presumed dead'); }), /presumed dead/);
    assert.equal(await epochFiles(), 5, 'the files of epochs 3-5 (a retry\'s) are kept');
    assert.equal((await events.removeStaleEpochs(2, () => undefined)).length, 3);
    assert.equal(await epochFiles(), 2);
  });

  test('the session ends written at ranking: one per run folder; a repeat (sameAs) has none of its own', async () => {
    const stopped = { trialId: 'end-t', run: 1, params: { lr: 0.1 }, status: 'stopped', stopped: { epoch: 1, rule: 'asha', reason: 'below the top 1/3 at epoch 1' }, epochsDone: 1 } as unknown as TrialSummary;
    await writeSessionEnds('ends-sweep', [stopped, { ...stopped, run: 2, sameAs: 1 }]);
    const folders = new Set<string>();
    for await (const { key } of listKeys(`${artifactKeys.tensorboard('ends-sweep')}/`)) folders.add(key.split('/').at(-2)!);
    assert.deepEqual([...folders], [trialRunName(1, stopped.params)]);
  });
});
