// The feature cache (activities/features.ts) on the real MinIO, no Temporal server (activities run in a
// mocked activity Context): a cached feature vector is what the reference method (bench/reference.ts,
// backbone recomputed per image) computes for the same image and augmentation draw; and an
// interrupted extraction resumes without recomputing or rewriting the shards it had finished; and a
// set over the memory limit is read from the local shard files with the same rows and scores; and an
// image that cannot be preprocessed fails the step for good, naming its file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { checkBackbone, extractFeatures } from '../../activities/features';
import { assertFailsForGood } from '../failures';
import { evaluateHeadOnSplit } from '../../activities/evaluate';
import { imageReader } from '../../platform/image-store';
import { artifactBucket, getJson, getObject, objectStore, putJson, putObject, setObjectStore } from '../../platform/storage';
import { s3 } from '../../platform/s3-store';
import { balanceDataset, splitDataset } from '../../activities/dataset-steps';
import { ingestDataset } from '../../activities/ingest';
import { computeFeatures } from '../../bench/reference';
import { inActivity } from '../../bench/setup';
import { artifactKeys } from '../../lib/artifact-keys';
import { decodeFeatureShard } from '../../formats/feature-shard';
import { openFeatureSet } from '../../platform/feature-cache';
import { randomStream, shuffled } from '../../lib/random';
import { evaluateHead, headTensorShapes, initHeadArrays } from '../../model/head';
import * as tf from '@tensorflow/tfjs';
import { DatasetManifest, SplitManifest, SplitName } from '../../lib/manifest';
import { FailureType } from '../../lib/errors';
import { FeatureShardRequest, SplitSummary, ViewName } from '../../lib/sweep-types';
import { SweepSpec, parseSweepSpec } from '../../lib/sweep-spec';
import { acquireBackbone } from '../../model/backbone';
import { initTensorflow } from '../../model/tf-backend';
import { tinySpec } from './harness';

const SHARD_SIZE = 16;

let spec: SweepSpec;
let split: SplitSummary;
let manifest: SplitManifest;

before(async () => {
  await initTensorflow();
  // A seed of this run's own: the train views' feature sets are new, so nothing is cached yet.
  const seed = Math.floor(Math.random() * 2 ** 31);
  spec = parseSweepSpec(await tinySpec({ cpuQueue: 'unused-cpu', gpuQueue: 'unused-gpu' }, { seed }));
  const dataset = await inActivity(ingestDataset, spec.data);
  const balanced = await inActivity(balanceDataset, { datasetKey: dataset.manifestKey, perClass: spec.balance.perClass, seed, numClassesInGrid: [] });
  split = await inActivity(splitDataset, { balancedKey: balanced.balancedKey, fractions: spec.split, seed });
  manifest = await getJson<SplitManifest>(split.splitKey);
});

function request(name: SplitName, shard: number, views: ViewName[]): FeatureShardRequest {
  return {
    splitKey: split.splitKey, split: name, views, shard, shardSize: SHARD_SIZE,
    image: spec.image, augmentation: spec.augmentation, backbone: spec.backbone, seed: spec.seed,
  };
}

async function lastModified(key: string): Promise<{ modified: number; etag: string }> {
  const head = await s3().send(new HeadObjectCommand({ Bucket: artifactBucket(), Key: key }));
  return { modified: head.LastModified!.getTime(), etag: head.ETag! };
}

describe('feature cache', () => {
  test('a cached feature vector equals the reference method\'s for the same image and view', async () => {
    const views: ViewName[] = [0, 1];
    const result = await inActivity(extractFeatures, request('train', 0, views));
    assert.equal(result.computed, true);
    const rows = manifest.train.slice(0, SHARD_SIZE);
    const readImage = await imageReader(manifest.datasetId);
    const images = new Map(await Promise.all(rows.map(async (s) => [s.sha256, await readImage(s.sha256)] as const)));
    const { backbone } = await acquireBackbone(spec.backbone);
    const cached = await Promise.all(result.featureSetIds.map(async (id) => decodeFeatureShard(await getObject(artifactKeys.featureShard(id, 0)))));
    for (const [v, view] of views.entries()) {
      // The reference path batches differently: the images in reverse order, in batches of 5.
      const order = [...rows.keys()].reverse();
      const recomputed = new Float32Array(rows.length * result.dim);
      for (let start = 0; start < order.length; start += 5) {
        const batch = order.slice(start, start + 5);
        const features = await computeFeatures(backbone, spec, images, batch.map((i) => rows[i]), view);
        batch.forEach((row, i) => recomputed.set(features.subarray(i * result.dim, (i + 1) * result.dim), row * result.dim));
      }
      let diff = 0;
      recomputed.forEach((x, i) => { diff = Math.max(diff, Math.abs(x - cached[v].features[i])); });
      assert.ok(diff < 1e-5, `view ${view}: max |cached - recomputed| = ${diff}`);
      assert.deepEqual(Array.from(cached[v].labels), rows.map((s) => s.label));
    }
    // The views are real augmentations: different draws give different features.
    const viewGap = cached[0].features.reduce((m, x, i) => Math.max(m, Math.abs(x - cached[1].features[i])), 0);
    assert.ok(viewGap > 1e-3, `views 0 and 1 should differ, max gap ${viewGap}`);
  });

  test('an interrupted extraction resumes without recomputing the shards it finished', async () => {
    const shards = Math.ceil(split.counts.train / SHARD_SIZE);
    assert.ok(shards >= 3, `need several shards, the train split has ${split.counts.train} rows`);
    const view: ViewName[] = [2];
    // "Interrupted" after shard 0: only it was extracted.
    const first = await inActivity(extractFeatures, request('train', 0, view));
    assert.equal(first.computed, true);
    const key0 = artifactKeys.featureShard(first.featureSetIds[0], 0);
    const before0 = await lastModified(key0);
    await sleep(1100); // LastModified has one-second resolution
    // The retry extracts every shard: shard 0 is found, the others are computed.
    const again = await Promise.all([...Array(shards).keys()].map((shard) => inActivity(extractFeatures, request('train', shard, view))));
    assert.deepEqual(again.map((r) => r.computed), [false, ...Array(shards - 1).fill(true)]);
    assert.deepEqual(await lastModified(key0), before0, 'shard 0 was not rewritten');
    assert.equal(again[0].featureSetIds[0], first.featureSetIds[0]);
    assert.equal(again[0].dim, first.dim);
    assert.equal(again.reduce((n, r) => n + r.rows, 0), split.counts.train);
    // Interrupted between the views of one shard: the finished view stays, only the new one is computed.
    const key1 = artifactKeys.featureShard(first.featureSetIds[0], 1);
    const before1 = await lastModified(key1);
    const more = await inActivity(extractFeatures, request('train', 1, [2, 3]));
    assert.equal(more.computed, true);
    assert.deepEqual(await lastModified(key1), before1, 'view 2 of shard 1 was not rewritten');
    assert.equal(decodeFeatureShard(await getObject(artifactKeys.featureShard(more.featureSetIds[1], 1))).count, Math.min(SHARD_SIZE, split.counts.train - SHARD_SIZE));
  });
  test('the split manifest is read once per process for all its shards (at a million images: 120 MB and a second of parsing a shard)', async () => {
    const reads: string[] = [];
    const store = objectStore();
    setObjectStore({
      get: (bucket, key, range) => { reads.push(key); return store.get(bucket, key, range); },
      put: (...args) => store.put(...args), exists: (...args) => store.exists(...args), list: (...args) => store.list(...args), delete: (...args) => store.delete(...args),
    });
    try {
      for (const shard of [0, 1, 2]) await inActivity(extractFeatures, request('val', shard % Math.ceil(split.counts.val / SHARD_SIZE), ['eval']));
    } finally {
      setObjectStore(store);
    }
    assert.ok(reads.filter((key) => key === split.splitKey).length <= 1, `read ${reads.filter((key) => key === split.splitKey).length} times`);
  });

  test('a feature set larger than the memory limit is read from the local shard files: the same rows, labels and scores', async () => {
    const shards = Math.ceil(split.counts.train / SHARD_SIZE);
    const parts = await Promise.all([...Array(shards).keys()].map((shard) => inActivity(extractFeatures, request('train', shard, [4]))));
    const ref = { id: parts[0].featureSetIds[0], shards, rows: split.counts.train, dim: parts[0].dim };
    const [inMemory, onDisk] = [await openFeatureSet(ref, Infinity), await openFeatureSet(ref, 0)];
    try {
      assert.deepEqual(Array.from(onDisk.labels), Array.from(inMemory.labels));
      // Rows in a shuffled order, across shard boundaries, a batch at a time, as training reads them;
      // counting file reads shows which set reads the disk.
      const order = shuffled([...Array(ref.rows).keys()], randomStream('disk-rows'));
      const [a, b] = [new Float32Array(7 * ref.dim), new Float32Array(7 * ref.dim)];
      const reads = { memory: 0, disk: 0 };
      const readSync = fs.readSync;
      let counting: keyof typeof reads = 'memory';
      fs.readSync = ((...args: Parameters<typeof readSync>) => { reads[counting]++; return readSync(...args); }) as typeof readSync;
      try {
        for (let start = 0; start < order.length; start += 7) {
          const rows = order.slice(start, start + 7);
          counting = 'memory';
          await inMemory.read(rows, a);
          counting = 'disk';
          await onDisk.read(rows, b);
          assert.deepEqual(b.subarray(0, rows.length * ref.dim), a.subarray(0, rows.length * ref.dim), `rows ${rows}`);
        }
      } finally {
        fs.readSync = readSync;
      }
      assert.deepEqual(reads, { memory: 0, disk: ref.rows }, 'one positioned read per row from the shard files, none for the set in memory');
      const shape = { inputDim: ref.dim, hiddenUnits: 8, numClasses: 4 };
      const params = initHeadArrays(shape, 'disk-rows').map((w, i) => tf.tensor(w, headTensorShapes(shape)[i]));
      const [fromMemory, fromDisk] = [await evaluateHead(params, inMemory, 4, 10), await evaluateHead(params, onDisk, 4, 10)];
      tf.dispose(params);
      assert.deepEqual(fromDisk, fromMemory);
    } finally {
      inMemory.close();
      onDisk.close();
    }
  });

  test('a set read from disk that fails leaves no file open: a wrong shape, or a head that cannot be read (steps retried many times would run out of files); closing twice closes nothing else', async () => {
    const shards = Math.ceil(split.counts.train / SHARD_SIZE);
    const parts = await Promise.all([...Array(shards).keys()].map((shard) => inActivity(extractFeatures, request('train', shard, [4]))));
    const ref = { id: parts[0].featureSetIds[0], shards, rows: split.counts.train, dim: parts[0].dim };
    // Open files that are feature shards (other descriptors, S3's sockets, come and go meanwhile).
    const openFiles = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`).includes(ref.id);
      } catch {
        return false; // closed since the listing
      }
    }).length;
    const first = await openFeatureSet(ref, 0); // the shard files on this machine's disk
    const before = openFiles() - ref.shards;
    first.close();
    assert.equal(openFiles(), before, 'a set closed');
    first.close(); // Closed again: nothing to close (before, EBADF, or another file's reused descriptor).
    assert.throws(() => first.read([0], new Float32Array(ref.dim)), new RegExp(`feature set ${ref.id}: rows read after close\\(\\)`));
    await assert.rejects(openFeatureSet({ ...ref, rows: ref.rows + 1 }, 0), /expected/);
    assert.equal(openFiles(), before, 'a set of the wrong shape');
    const memory = process.env.SWEEP_FEATURE_MEMORY_MB;
    process.env.SWEEP_FEATURE_MEMORY_MB = '0';
    try {
      const evaluation = { trained: { trialId: 'gone', headKey: `trials/gone-${ref.id}/head/weights.bin`, params: {} }, hiddenUnits: 8, split: 'train' as const, features: ref, splitKey: split.splitKey, classes: manifest.classes };
      await assert.rejects(evaluateHeadOnSplit(evaluation), /does not exist/);
      assert.equal(openFiles(), before, 'a head that cannot be read');
    } finally {
      if (memory === undefined) delete process.env.SWEEP_FEATURE_MEMORY_MB;
      else process.env.SWEEP_FEATURE_MEMORY_MB = memory;
    }
  });

  test('a backbone.uri that names no model, or a featureLayer the model lacks, fails the step at once as BackboneError (it was retried for ever); so does the check a sweep makes while it ingests', async () => {
    const missing = path.join(os.tmpdir(), `no-such-backbone-${process.pid}`, 'model.json');
    const cases: Array<[FeatureShardRequest['backbone'], RegExp]> = [
      [{ ...spec.backbone, uri: missing }, /^loading backbone\.uri \S+\/no-such-backbone-\d+\/model\.json \(format layers\) on worker .+ failed: .*ENOENT/],
      [{ ...spec.backbone, uri: path.dirname(spec.backbone.uri.replace(/^file:\/\//, '')) }, /failed: .*EISDIR/],
      [{ ...spec.backbone, featureLayer: 'no_such_layer' }, /failed: backbone\.featureLayer "no_such_layer" is not a layer of .*; its last layers are: /],
      // Not MissingArtifact, whose fix (start the sweep again) would not help.
      [{ ...spec.backbone, uri: `s3://${artifactBucket()}/no-such-backbone/model.json` }, /failed: s3:\/\/\S+\/no-such-backbone\/model\.json does not exist$/],
      [{ ...spec.backbone, uri: `s3://no-such-bucket-${process.pid}/m/model.json` }, /^loading backbone\.uri s3:\/\/no-such-bucket-\d+\/m\/model\.json .* failed: The specified bucket does not exist/],
    ];
    const engine = process.env.SWEEP_BACKBONE_ENGINE;
    // The ONNX engine (auto's choice where the backbone has a twin) refuses an unknown layer by falling back to TF.js, which says so.
    process.env.SWEEP_BACKBONE_ENGINE = 'tfjs';
    try {
      for (const [backbone, message] of cases) {
        await assertFailsForGood(inActivity(extractFeatures, { ...request('val', 0, ['eval']), backbone }), FailureType.backbone, message);
        await assertFailsForGood(inActivity(checkBackbone, { backbone, image: spec.image }), FailureType.backbone, message);
      }
      const checked = await inActivity(checkBackbone, { backbone: spec.backbone, image: spec.image });
      assert.match(checked.backboneId, /^[0-9a-f]{64}$/);
      await assertFailsForGood(inActivity(checkBackbone, { backbone: spec.backbone, image: { ...spec.image, size: spec.image.size + 1 } }), FailureType.backbone,
        new RegExp(`^image\\.size is ${spec.image.size + 1} but the backbone \\S+ takes ${spec.image.size}x${spec.image.size} inputs; set image\\.size to ${spec.image.size}$`));
    } finally {
      if (engine === undefined) delete process.env.SWEEP_BACKBONE_ENGINE;
      else process.env.SWEEP_BACKBONE_ENGINE = engine;
    }
  });

  test('an image preprocessing rejects fails the step at once, as a data error naming its file', async () => {
    // Ingestion decodes every image, so only a preprocessing bug gets here; a truncated copy of a real
    // image stands for one (stored as a lone blob, the layout of data sets from before image packs).
    const real = await (await imageReader(manifest.datasetId))(manifest.train[0].sha256);
    const bytes = real.subarray(0, Math.floor(real.length / 2));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await putObject(artifactKeys.blob(sha256), bytes);
    const datasetId = `broken-${sha256}`;
    const dataset: DatasetManifest = { datasetId, source: 'broken', classes: ['daisy'], images: [{ sha256, label: 'daisy', source: 'daisy/half-written.jpg' }], skipped: [] };
    await putJson(artifactKeys.dataset(datasetId), dataset);
    const broken: SplitManifest = { splitId: datasetId, datasetId, classes: ['daisy'], train: [{ sha256, label: 0, copy: 0 }], val: [], test: [] };
    await putJson(artifactKeys.split(datasetId), broken);
    await assertFailsForGood(inActivity(extractFeatures, { ...request('train', 0, ['eval']), splitKey: artifactKeys.split(datasetId) }), FailureType.data,
      /^image daisy\/half-written\.jpg \(sha256 [0-9a-f]{64}\) could not be preprocessed for the eval view: .+\. .*remove the file from data\.source/);
  });
});
