// Overlapping and stale training attempts of one real trial. First, two attempts of one real trial on the same keys at once, interleaved deterministically by hooks in
// the checkpoint store (not by timing), on the local stack's MinIO with real training: the race of
// the bug report, then a crash of the newer attempt at the worst moment. The trial must complete
// with exactly the metrics and weights of an uninterrupted run. (test/unit/checkpoints.test.ts
// covers thousands of random interleavings of the protocol itself.) Then an attempt cut off from
// Temporal stops by itself, and a missing object fails the attempt instead of being retried for ever.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CheckpointFencedError, CheckpointStore, SupersededAttemptError, s3CheckpointStore } from '../../activities/checkpoints';
import { MissingObjectError, ObjectStore } from '../../platform/object-store';
import { deleteObject, getJson, getObject, listKeys, objectExists, objectStore, putJson, putObject, setObjectStore } from '../../platform/storage';
import { TemporalContact, watchTemporalContact } from '../../activities/temporal-contact';
import { trainTrial } from '../../activities/train';
import { artifactKeys } from '../../lib/artifact-keys';
import { encodeFeatureShard } from '../../formats/feature-shard';
import { randomStream } from '../../lib/random';
import { sha256Of } from '../../lib/content-id';
import { DEFAULT_OBJECTIVE } from '../../lib/search/objective';
import { Evaluation, FeatureSetRef, TrainResult, TrialInput } from '../../lib/sweep-types';
import { initTensorflow } from '../../model/tf-backend';
import { FailureInterceptor } from '../../activities/failures';
import { parseTrainHeartbeat } from '../../views/watch-view';
import { uniqueId } from './harness';
import { readEventFile } from '../../formats/tensorboard';
import { SCALAR_TAGS } from '../../formats/tensorboard-layout';

const EPOCHS = 6;
/** Early stopping with rungs at epochs 1 and 3: the trial's segments delete their earlier rungs' heads. */
const ASHA: TrialInput['stopping'] = { rule: { rule: 'asha', gracePeriod: 1, reductionFactor: 3, maxEpochs: EPOCHS }, objective: DEFAULT_OBJECTIVE };
const DIM = 12;

/** A feature set of `rows` rows, 4 classes, written to S3 as one shard. */
async function featureSet(name: string, rows: number): Promise<FeatureSetRef> {
  const id = uniqueId(`overlap-${name}`);
  const random = randomStream('overlap', name);
  const labels = Int32Array.from({ length: rows }, (_, i) => i % 4);
  const features = Float32Array.from({ length: rows * DIM }, (_, i) => random() + (labels[Math.floor(i / DIM)] === i % 4 ? 1 : 0));
  await putObject(artifactKeys.featureShard(id, 0), encodeFeatureShard({ count: rows, dim: DIM, labels, features }));
  return { id, shards: 1, rows, dim: DIM };
}

let input: TrialInput;

before(async () => {
  await initTensorflow();
  const [train, val, testSet] = [await featureSet('train', 48), await featureSet('val', 16), await featureSet('test', 16)];
  input = {
    sweepId: uniqueId('overlap-sweep'),
    trial: { trialId: uniqueId('overlap-trial'), run: 1, params: { hidden_units: 8 }, head: { hidden_units: 8, dropout: 0.3, lr: 0.01, batch_size: 8, n_epochs: EPOCHS, num_classes: 4 } },
    train: [train], val, test: testSet, splitKey: 'unused', classes: ['a', 'b', 'c', 'd'], seed: 9, reuse: false, heartbeatTimeoutSeconds: 5,
    // Every epoch, so the interleavings below can stop an attempt at a given epoch's writes.
    checkpointEverySeconds: 0,
  };
});

function attempt(number: number, store?: CheckpointStore, trialInput = input, env = new MockActivityEnvironment({ attempt: number, heartbeatTimeoutMs: 5000 }, { logger: new DefaultLogger('ERROR') })): Promise<TrainResult> {
  return env.run(trainTrial, trialInput, store);
}

/** A store that stops an attempt before the first operation `pause` matches, until `release()`. */
function pausing(pause: (op: string, key: string) => boolean) {
  let paused: (() => void) | undefined;
  let reached!: () => void;
  const reachedPause = new Promise<void>((resolve) => { reached = resolve; });
  const inner = s3CheckpointStore();
  const gate = async (op: string, key: string) => {
    if (!paused && pause(op, key)) {
      await new Promise<void>((resolve) => { paused = resolve; reached(); });
    }
  };
  const store: CheckpointStore = {
    read: async (key) => { await gate('read', key); return inner.read(key); },
    put: async (key, body) => { await gate('put', key); return inner.put(key, body); },
    putIf: async (key, body, condition) => { await gate('putIf', key); return inner.putIf(key, body, condition); },
    delete: async (key) => { await gate('delete', key); return inner.delete(key); },
    list: async (prefix) => { await gate('list', prefix); return inner.list(prefix); },
  };
  return { store, reachedPause, release: () => paused?.() };
}

async function clearTrial(): Promise<void> {
  for await (const { key } of listKeys(`trials/${input.trial.trialId}/`)) await deleteObject(key);
}

const metricsOf = (r: TrainResult) => r.epochs.map(({ epochDuration: _d, runDuration: _r, ...m }) => m);
const weights = (epoch: number) => artifactKeys.trialCheckpointWeights(input.trial.trialId, epoch);

test('two attempts one epoch apart, the older fenced, the newer crashed after moving the pointer: the trial ends bit-identical', async () => {
  const reference = await attempt(1);
  const referenceHead = await getObject(reference.headKey);
  assert.equal(reference.resumedFromEpoch, 0);
  await clearTrial();

  // O (attempt 1) stops just before storing epoch 3's weights: its pointer names epoch 2, epoch 1's weights are deleted.
  const older = pausing((op, key) => op === 'put' && key === weights(3));
  const o = attempt(1, older.store);
  await older.reachedPause;
  // R (attempt 2, Temporal's retry during an outage) claims the pointer at epoch 2, trains epoch 3, moves
  // the pointer to it and crashes just before deleting epoch 2's weights.
  const newer = pausing((op, key) => op === 'delete' && key === weights(2));
  const r = attempt(2, newer.store);
  r.catch(() => undefined);
  await newer.reachedPause;
  // O goes on: its epoch-3 weights land, its pointer move is refused, and it stops without deleting.
  older.release();
  await assert.rejects(o, CheckpointFencedError);
  const pointer = JSON.parse((await getObject(artifactKeys.trialCheckpoint(input.trial.trialId))).toString()) as { epoch: number; weightsKey: string; owner: string };
  assert.equal(pointer.epoch, 3);
  assert.match(pointer.owner, /#2\./, 'the newer attempt owns the pointer');
  await getObject(pointer.weightsKey); // the pointer names weights that exist
  // R is never released: it crashed. Temporal's next retry resumes from R's pointer and finishes.
  const final = await attempt(3);
  assert.equal(final.resumedFromEpoch, 3);
  assert.deepEqual(metricsOf(final), metricsOf(reference), 'per-epoch metrics equal the uninterrupted run\'s');
  assert.ok((await getObject(final.headKey)).equals(referenceHead), 'final weights equal the uninterrupted run\'s, bit for bit');
  const left: string[] = [];
  for await (const { key } of listKeys(artifactKeys.trialCheckpointWeightsPrefix(input.trial.trialId))) left.push(key);
  assert.deepEqual(left, [weights(EPOCHS)], 'only the last checkpoint\'s weights are left');
});

test('an attempt of an earlier segment, given up on while it hung and woken once the next segment trained past its end, stops without claiming: the trial trains on (found by the soak)', async () => {
  const reference = await attempt(1);
  await clearTrial();
  // One trial workflow run training rung by rung: segment 2 (activity 2) to epoch 3, then segment 3 (activity 3) to the end.
  const ofRun = (activityId: string, number: number) => new MockActivityEnvironment(
    { attempt: number, heartbeatTimeoutMs: 5000, activityId, workflowExecution: { workflowId: 'overlap-trial-workflow', runId: 'overlap-run' } },
    { logger: new DefaultLogger('ERROR') });
  const segment = { ...input, untilEpoch: 3 };
  // Attempt 3 of segment 2 finished it (attempt 2 took the task and hung before its claim).
  await attempt(3, undefined, segment, ofRun('2', 3));
  // Segment 3 trains on and pauses with the pointer at epoch 4, past segment 2's end.
  const next = pausing((op, key) => op === 'put' && key === weights(5));
  const live = attempt(1, next.store, input, ofRun('3', 1));
  await next.reachedPause;
  // Attempt 2 of segment 2 wakes. On the code before, it found epoch 4 past its end, claimed the trial
  // at epoch 0 and fenced segment 3, whose retry trained every epoch again.
  await assert.rejects(attempt(2, undefined, segment, ofRun('2', 2)), SupersededAttemptError);
  const pointer = JSON.parse((await getObject(artifactKeys.trialCheckpoint(input.trial.trialId))).toString()) as { epoch: number; owner: string };
  assert.equal(pointer.epoch, 4);
  assert.match(pointer.owner, /\/3#1\./, 'segment 3 still owns the pointer');
  next.release();
  const final = await live;
  assert.equal(final.resumedFromEpoch, 3);
  assert.deepEqual(metricsOf(final), metricsOf(reference), 'per-epoch metrics equal the uninterrupted run\'s');
});

test('checkpoints far apart: a cancelled attempt stores the epochs it finished, a crash before the next checkpoint costs retraining only, and the trial ends bit-identical', async () => {
  const reference = await attempt(1);
  const referenceHead = await getObject(reference.headKey);
  await clearTrial();
  const pointerEpoch = async () => (JSON.parse((await getObject(artifactKeys.trialCheckpoint(input.trial.trialId))).toString()) as { epoch: number }).epoch;
  // No checkpoint falls due within the trial: only its last epoch, a cancellation or the end store one.
  const sparse = { ...input, checkpointEverySeconds: 3600 };

  // Cancelled once epoch 3 is trained (its heartbeat, which carries no batch): it stores epochs 1-3 as it stops.
  const cancelled = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 5000 }, { logger: new DefaultLogger('ERROR') });
  let pointerBeforeCancel: number | undefined;
  cancelled.on('heartbeat', (details: { epoch: number; batch?: number }) => {
    if (details.epoch !== 3 || details.batch !== undefined || pointerBeforeCancel !== undefined) return;
    pointerBeforeCancel = -1;
    void pointerEpoch().then((epoch) => { pointerBeforeCancel = epoch; cancelled.cancel(); });
  });
  await assert.rejects(attempt(1, undefined, sparse, cancelled));
  assert.equal(pointerBeforeCancel, 0, 'no checkpoint fell due during epochs 1-3');
  assert.ok(await pointerEpoch() >= 3, 'the cancelled attempt stored the epochs it had finished');
  const stored = await pointerEpoch();

  // The next attempt crashes just before its final checkpoint (its last weights never land): the pointer stays.
  const crashing = pausing((op, key) => op === 'put' && key === weights(EPOCHS));
  attempt(2, crashing.store, sparse).catch(() => undefined);
  await crashing.reachedPause;
  assert.equal(await pointerEpoch(), stored, 'no checkpoint between the claim and the last epoch');

  // Temporal's retry resumes from the cancelled attempt's checkpoint and ends with the per-epoch run's bytes.
  const final = await attempt(3, undefined, sparse);
  assert.equal(final.resumedFromEpoch, stored);
  assert.deepEqual(metricsOf(final), metricsOf(reference), 'per-epoch metrics equal the uninterrupted run\'s');
  assert.ok((await getObject(final.headKey)).equals(referenceHead), 'final weights equal the uninterrupted run\'s (checkpointed every epoch), bit for bit');
});

test('an attempt that cannot reach Temporal for longer than its heartbeat timeout stops training and writing', async () => {
  await clearTrial();
  // A worker connection whose probe never answers: from the attempt's start on, Temporal is silent.
  const silent = new TemporalContact(() => new Promise(() => undefined), () => false, 50);
  watchTemporalContact(silent);
  try {
    const env = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 400 }, { logger: new DefaultLogger('ERROR') });
    const slow = { ...input, trial: { ...input.trial, head: { ...input.trial.head, n_epochs: 100_000 } } };
    const began = Date.now();
    await assert.rejects(env.run(trainTrial, slow), (error: Error) => {
      assert.match(error.message, /could not reach Temporal for \d+\.\d s, longer than its heartbeat timeout \(0\.4 s\).*stopped, and a retry resumes from the last checkpoint/);
      return true;
    });
    const stoppedMs = Date.now() - began;
    const pointer = JSON.parse((await getObject(artifactKeys.trialCheckpoint(input.trial.trialId))).toString()) as { epoch: number };
    await sleep(500);
    const later = JSON.parse((await getObject(artifactKeys.trialCheckpoint(input.trial.trialId))).toString()) as { epoch: number };
    assert.equal(later.epoch, pointer.epoch, 'nothing was written after it stopped');
    assert.ok(stoppedMs < 5000, `stopped ${stoppedMs} ms after it started, heartbeat timeout 400 ms`);
  } finally {
    silent.stop();
  }
});

test('a feature shard that is gone fails the attempt with the object named, and the worker does not retry it', async () => {
  const gone = uniqueId('overlap-gone');
  const missing = { ...input, trial: { ...input.trial, trialId: uniqueId('overlap-missing') }, val: { id: gone, shards: 1, rows: 16, dim: DIM } };
  const env = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 5000 }, { logger: new DefaultLogger('ERROR') });
  const error = await env.run(trainTrial, missing).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof MissingObjectError, String(error));
  assert.equal(error.key, artifactKeys.featureShard(gone, 0));
  const failure = await new FailureInterceptor().execute({} as never, async () => { throw error; }).catch((e: unknown) => e);
  assert.ok(failure instanceof ApplicationFailure);
  assert.equal(failure.nonRetryable, true);
  assert.equal(failure.type, 'MissingArtifact');
  assert.match(failure.message, new RegExp(`s3://[^/]+/${artifactKeys.featureShard(gone, 0)} does not exist: it cannot appear by waiting.*start the sweep again`));
});

/** A data set and split manifest for the 16 test rows, as ingestion and the split step write them (scoring the test split names its misclassified images). */
async function testSplitManifest(): Promise<string> {
  const datasetId = uniqueId('overlap-dataset');
  const images = Array.from({ length: 16 }, (_, i) => ({ sha256: `${datasetId}-${i}`, label: ['a', 'b', 'c', 'd'][i % 4], source: `${['a', 'b', 'c', 'd'][i % 4]}/${i}.jpg` }));
  await putJson(artifactKeys.dataset(datasetId), { datasetId, source: 'test', classes: input.classes, images, skipped: [] });
  const splitKey = `splits/${datasetId}.json`;
  await putJson(splitKey, { splitId: datasetId, datasetId, classes: input.classes, train: [], val: [], test: images.map((image, i) => ({ sha256: image.sha256, label: i % 4, copy: 0 })) });
  return splitKey;
}

/** An attempt of the trial workflow run `runId` (a sweep's trial; another run is another sweep, or a rerun). */
function attemptOf(runId: string, trialInput: TrialInput): Promise<TrainResult> {
  const env = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 5000, workflowExecution: { workflowId: `${trialInput.sweepId}.trial-001`, runId } }, { logger: new DefaultLogger('ERROR') });
  return env.run(trainTrial, trialInput);
}

test('a sweep that stops a trial another sweep trained further keeps its own head beside it: the other\'s result and head stay, and reruns of both reuse', async () => {
  await clearTrial();
  const y = { ...input, sweepId: uniqueId('sweep-y'), reuse: true };
  const x = { ...input, sweepId: uniqueId('sweep-x'), reuse: true, untilEpoch: 2 };
  const trainedY = await attemptOf('y-1', y);
  const headY = await getObject(trainedY.headKey);
  // X's first rung: served from Y's result, whose head is of a later epoch.
  const served = await attemptOf('x-1', x);
  assert.equal(served.storedEpochs, EPOCHS);
  // X stops the trial there and trains its own head to epoch 2, as the trial workflow does.
  const stoppedX = await attemptOf('x-1', { ...x, reuse: false, endsHere: true });
  assert.equal(stoppedX.epochs.length, 2);
  assert.notEqual(stoppedX.headKey, trainedY.headKey);
  assert.deepEqual(metricsOf(stoppedX), metricsOf(trainedY).slice(0, 2), 'the first epochs are the same trial\'s');
  // Y's result and head are untouched (they were cut to X's 2 epochs and replaced by X's head).
  const stored = JSON.parse((await getObject(artifactKeys.trialResult(input.trial.trialId))).toString()) as TrainResult;
  assert.equal(stored.epochs.length, EPOCHS);
  assert.ok((await getObject(trainedY.headKey)).equals(headY));
  const againY = await attemptOf('y-2', y);
  assert.equal(againY.reused, true);
  assert.equal(againY.headKey, trainedY.headKey);
  // X run again reuses its own stopped head, with no training (before, it trained the trial to its stop again).
  const againX = await attemptOf('x-2', x);
  assert.deepEqual([againX.reused, againX.storedEpochs, againX.headKey], [true, undefined, stoppedX.headKey]);
});

test('an early-stopped trial keeps the head of its latest rung under the rung\'s epoch, deletes the earlier one\'s, and its last epoch\'s under the epoch', async () => {
  await clearTrial();
  const sweep = { ...input, sweepId: uniqueId('sweep-rungs'), reuse: true, stopping: ASHA };
  const heads = async () => {
    const keys: string[] = [];
    const folder = `trials/${input.trial.trialId}/head/`;
    for await (const { key } of listKeys(folder)) if (key.endsWith('/weights.bin')) keys.push(key.slice(folder.length, -'/weights.bin'.length));
    return keys;
  };
  const rung1 = await attemptOf('rungs-1', { ...sweep, untilEpoch: 1 });
  assert.deepEqual(await heads(), ['run-rungs-1/epoch-0001']);
  // Where a worker before 2026-12-07 stored a rung's head (rewritten rung after rung): deleted too.
  await putObject(`trials/${input.trial.trialId}/head/run-rungs-1/weights.bin`, await getObject(rung1.headKey));
  const rung3 = await attemptOf('rungs-1', { ...sweep, untilEpoch: 3 });
  assert.equal(rung3.headKey, artifactKeys.trialRungHead(input.trial.trialId, 'rungs-1', 3));
  assert.equal(await objectExists(rung1.headKey), false, 'the earlier rung\'s head is deleted once a later one is the result\'s');
  assert.deepEqual(await heads(), ['run-rungs-1/epoch-0003']);
  const last = await attemptOf('rungs-1', sweep);
  assert.deepEqual(await heads(), [`epoch-${String(EPOCHS).padStart(4, '0')}`]);
  assert.equal(last.headKey, artifactKeys.trialHeadWeights(input.trial.trialId, EPOCHS));
});

test('a retry that finds the result its own trial workflow stored (the attempt failed after storing it) is not counted as reused', async () => {
  await clearTrial();
  const own = { ...input, reuse: true };
  assert.equal((await attemptOf('run-a', own)).reused, false);
  const retry = await attemptOf('run-a', own);
  assert.equal(retry.reused, false, 'trained by this trial, not reused from an earlier sweep');
  assert.equal((await attemptOf('run-b', own)).reused, true, 'another sweep (another trial workflow run) reuses it');
});

/**
 * The store with each download of a shard of `setId` taking 2 s, longer than the tests' 800 ms heartbeat
 * timeout; the heartbeats an attempt sends during those downloads are collected.
 */
function slowDownloadsOf(setId: string): { env: MockActivityEnvironment; during: unknown[]; restore: () => void } {
  let downloading = false;
  const restore = changeStore((store) => ({
    get: async (bucket, key, range) => {
      if (!key.includes(setId)) return store.get(bucket, key, range);
      downloading = true;
      await sleep(2000);
      downloading = false;
      return store.get(bucket, key, range);
    },
  }));
  const env = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 800 }, { logger: new DefaultLogger('ERROR') });
  const during: unknown[] = [];
  env.on('heartbeat', (details: unknown) => { if (downloading) during.push(details); });
  return { env, during, restore };
}

/** Installs the object store with some of its methods changed (given the store as it is); returns what puts it back. */
function changeStore(change: (store: ObjectStore) => Partial<ObjectStore>): () => void {
  const store = objectStore();
  setObjectStore({
    put: (bucket, key, body, options) => store.put(bucket, key, body, options),
    exists: (bucket, key) => store.exists(bucket, key),
    list: (bucket, prefix) => store.list(bucket, prefix),
    delete: (bucket, key) => store.delete(bucket, key),
    get: (bucket, key, range) => store.get(bucket, key, range),
    ...change(store),
  });
  return () => setObjectStore(store);
}

test('scoring the test split at the end of training heartbeats while the test features download, with the epoch details `sweep watch` reads', async () => {
  await clearTrial();
  const splitKey = await testSplitManifest();
  const { env, during, restore } = slowDownloadsOf(input.test.id);
  try {
    const trained: TrainResult = await env.run(trainTrial, { ...input, splitKey, evaluateTest: true });
    assert.equal(trained.test?.split, 'test');
    // The result carries the scores a summary keeps; the per-class scores and confusion matrix stay beside the head.
    assert.deepEqual([trained.test?.perClass, trained.test?.confusion], [undefined, undefined]);
    assert.equal((await getJson<Evaluation>(artifactKeys.headEvaluation(trained.headKey, 'test'))).confusion.length, 4);
    assert.ok(during.length >= 4, `${during.length} heartbeats in the 2 s download`);
    for (const beat of during) assert.deepEqual(parseTrainHeartbeat(beat), { epochsDone: EPOCHS, of: EPOCHS, metrics: trained.epochs.at(-1), attempt: 1 });
  } finally {
    restore();
  }
});

test('training heartbeats while a feature set downloads to this node for the first time (the val set before the first epoch)', async () => {
  await clearTrial();
  // A val set of its own: not on this machine's disk yet.
  const val = await featureSet('first-download-val', 16);
  const { env, during, restore } = slowDownloadsOf(val.id);
  try {
    const trained: TrainResult = await env.run(trainTrial, { ...input, val });
    assert.equal(trained.epochs.length, EPOCHS);
    assert.ok(during.length >= 4, `${during.length} heartbeats in the 2 s download`);
    for (const beat of during) assert.deepEqual(parseTrainHeartbeat(beat), { epochsDone: 0, of: EPOCHS, attempt: 1 });
  } finally {
    restore();
  }
});


// After the test above: its features are then on this machine's disk, which that test must download.
test('a trial reused at a rung from another sweep\'s rung keeps a head of that epoch: the other sweep training on changes neither it nor its test scores', async () => {
  await clearTrial();
  const splitKey = await testSplitManifest();
  const a = { ...input, splitKey, sweepId: uniqueId('sweep-a'), reuse: true, evaluateTest: true, stopping: ASHA };
  const b = { ...input, splitKey, sweepId: uniqueId('sweep-b'), reuse: true, evaluateTest: true, untilEpoch: 1, stopping: ASHA };
  const rungA = await attemptOf('a-1', { ...a, untilEpoch: 1 });
  // B's trial takes the lease A gave back at its rung and finds A's rung result: reused, not trained.
  const servedB = await attemptOf('b-1', b);
  assert.equal(servedB.reused, true);
  assert.notEqual(servedB.headKey, rungA.headKey, 'not A\'s rung head, which A deletes when it trains on');
  assert.equal(servedB.headKey, artifactKeys.trialHeadWeights(input.trial.trialId, 1));
  const [head, scores] = [await getObject(servedB.headKey), await getObject(artifactKeys.headEvaluation(servedB.headKey, 'test'))];
  assert.ok(head.equals(await getObject(rungA.headKey)), 'the same epoch\'s head');
  // A is told to go on and trains to its next rung, deleting its own rung head.
  await attemptOf('a-1', { ...a, untilEpoch: 3 });
  assert.equal(await objectExists(rungA.headKey), false, 'A\'s rung head moved on');
  assert.ok((await getObject(servedB.headKey)).equals(head), 'B\'s head is still epoch 1\'s');
  assert.ok((await getObject(artifactKeys.headEvaluation(servedB.headKey, 'test'))).equals(scores), 'and its test scores too');
});

test('an attempt given up on whose rung head and test scores land after the trial trained on and stopped at a later rung replaces neither that rung\'s head nor its scores', async () => {
  await clearTrial();
  const splitKey = await testSplitManifest();
  const sweep = { ...input, splitKey, sweepId: uniqueId('sweep-late'), reuse: true, evaluateTest: true, stopping: ASHA };
  const ofRun = (activityId: string, number: number) => new MockActivityEnvironment(
    { attempt: number, heartbeatTimeoutMs: 5000, activityId, workflowExecution: { workflowId: `${sweep.sweepId}.trial-001`, runId: 'late-run' } },
    { logger: new DefaultLogger('ERROR') });
  // Attempt 1 of the first segment sends its rung head, which is held on the way (its node froze, say)...
  let land!: () => void;
  let sent!: () => void;
  const headSent = new Promise<void>((resolve) => { sent = resolve; });
  const restore = changeStore((store) => ({
    put: async (bucket, key, body, options) => {
      if (!land && key.includes('/head/run-')) await new Promise<void>((resolve) => { land = resolve; sent(); });
      return store.put(bucket, key, body, options);
    },
  }));
  try {
    const stale = ofRun('1', 1).run(trainTrial, { ...sweep, untilEpoch: 1 });
    await headSent;
    // ...while its retry finishes the segment, and the trial trains on to its next rung, where the sweep stops it.
    await ofRun('1', 2).run(trainTrial, { ...sweep, untilEpoch: 1 });
    const stopped: TrainResult = await ofRun('2', 1).run(trainTrial, { ...sweep, untilEpoch: 3 });
    const [head, scores] = [await getObject(stopped.headKey), await getObject(artifactKeys.headEvaluation(stopped.headKey, 'test'))];
    land();
    await stale;
    const result = await getJson<TrainResult>(artifactKeys.trialResult(input.trial.trialId));
    assert.deepEqual([result.epochs.length, result.headKey], [3, stopped.headKey]);
    assert.ok((await getObject(result.headKey)).equals(head), 'the stopped trial\'s head is still epoch 3\'s');
    assert.equal(sha256Of(await getObject(result.headKey)), result.headSha256);
    assert.ok((await getObject(artifactKeys.headEvaluation(result.headKey, 'test'))).equals(scores), 'and so are its test scores');
  } finally {
    restore();
  }
});

test('a trial resumed from another sweep\'s checkpoint shows every epoch in this sweep\'s TensorBoard run, each once', async () => {
  await clearTrial();
  const [a, b] = [uniqueId('sweep-tb-a'), uniqueId('sweep-tb-b')];
  // A stops at epoch 2 (cancelled, say); B resumes from its checkpoint and trains on to the end.
  await attemptOf('tb-a-1', { ...input, sweepId: a, reuse: true, untilEpoch: 2 });
  const trained = await attemptOf('tb-b-1', { ...input, sweepId: b, reuse: true });
  assert.equal(trained.resumedFromEpoch, 2);
  const steps: number[] = [];
  for await (const { key } of listKeys(`${artifactKeys.tensorboard(b)}/`)) {
    for (const event of readEventFile(await getObject(key))) {
      const scalars = event.summary?.value.filter((v) => v.tag === SCALAR_TAGS.valAccuracy) ?? [];
      if (scalars.length) steps.push(event.step ?? 0);
    }
  }
  assert.deepEqual(steps.sort((x, y) => x - y), Array.from({ length: EPOCHS }, (_, i) => i + 1));
});

test('a rung head that is no longer the bytes its result names is not copied for reuse: the trial trains', async () => {
  await clearTrial();
  const rungA = await attemptOf('moved-a-1', { ...input, sweepId: uniqueId('sweep-moved-a'), reuse: true, untilEpoch: 1 });
  // The owner's rung head moved on without its result (stopped between the two writes, say).
  const moved = Buffer.from(await getObject(rungA.headKey)).reverse();
  await putObject(rungA.headKey, moved);
  const b = await attemptOf('moved-b-1', { ...input, sweepId: uniqueId('sweep-moved-b'), reuse: true, untilEpoch: 1 });
  assert.equal(b.reused, false, 'trained, not reused from bytes that are not its result\'s');
  assert.deepEqual(metricsOf(b), metricsOf(rungA));
  const epochKey = artifactKeys.trialHeadWeights(input.trial.trialId, 1);
  assert.ok(!(await objectExists(epochKey)) || !(await getObject(epochKey)).equals(moved), 'the moved bytes were not copied under the epoch\'s key');
});
