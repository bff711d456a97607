// Feature extraction: the frozen backbone's outputs for each split and view, computed once and
// stored as content-addressed shards, so every trial (and every later sweep on the same data,
// backbone and preprocessing) trains its head on them instead of re-running the backbone.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import * as tf from '@tensorflow/tfjs';
import { artifactKeys } from '../lib/artifact-keys';
import { keepLast } from '../lib/keep-last';
import { RenderedJson, canonicalJson, contentId } from '../lib/content-id';
import { HEADER_BYTES, decodeFeatureShardHeader, encodeFeatureShard } from '../formats/feature-shard';
import { DatasetManifest, Sample, SplitManifest } from '../lib/manifest';
import { AugmentParams, drawAugmentation } from '../lib/augmentation';
import { FailureType, TransientError, rootMessage } from '../lib/errors';
import { randomStream } from '../lib/random';
import { BackboneCheck, FeatureShardRequest, FeatureShardResult, ViewName } from '../lib/sweep-types';
import { acquireBackbone } from '../model/backbone';
import { Backbone } from '../model/backbone-types';
import { initTensorflow } from '../model/tf-backend';
import { isWantOfResources, preprocessImage } from '../model/image-preprocessing';
import { imageReader } from '../platform/image-store';
import { MissingObjectError } from '../platform/object-store';
import { isMissingBucket } from '../platform/s3-store';
import { nodeName } from '../platform/config';
import { getJson, getObject, objectExists, putObject } from '../platform/storage';
import { retriedOnlyWhenTransient } from './failures';
import { splitManifest } from './split-manifest';

/**
 * Images per backbone call: 16, or up to 64 small ones (at most 64K pixels a batch). On small images
 * each call's fixed cost dominates: 32 px digits embedded 27% faster in batches of 64 than of 16,
 * with bit-identical features. Large images keep batches of 16 (memory).
 */
function backboneBatch(size: number): number {
  return Math.max(16, Math.min(64, Math.floor(2 ** 16 / (size * size))));
}

export async function extractFeatures(request: FeatureShardRequest): Promise<FeatureShardResult> {
  await initTensorflow();
  const manifest = await splitManifest(request.splitKey);
  const samples = manifest[request.split];
  const rows = samples.slice(request.shard * request.shardSize, (request.shard + 1) * request.shardSize);
  if (rows.length === 0) throw ApplicationFailure.nonRetryable(`shard ${request.shard} of ${request.split} is empty`);
  const { backbone, release } = await backboneFor(request);
  try {
    return await extractShard(request, manifest, samples, rows, backbone);
  } finally {
    release();
  }
}

/**
 * Loads the sweep's backbone on a GPU worker while its data is ingested, so that a model that is not
 * there, a feature layer it lacks or an input size other than image.size fails the sweep before the
 * data steps' work (minutes for a large data set), not at the first feature shard after them; the
 * worker then keeps it loaded for that shard (model/backbone.ts acquireBackbone).
 */
export async function checkBackbone(request: BackboneCheck): Promise<{ backboneId: string }> {
  await initTensorflow();
  const { backbone, release } = await backboneFor(request);
  release();
  return { backboneId: backbone.id };
}

/** The request's backbone, acquired, its input size checked against image.size; failures no retry fixes are BackboneErrors. */
async function backboneFor(request: BackboneCheck): ReturnType<typeof acquireBackbone> {
  // A path or key that names nothing, a file that is not a model, a feature layer it lacks: no retry loads it
  // (and a missing model.json, or bucket, is the spec's to fix, not an artifact the sweep lost).
  const acquired = await acquireBackbone(request.backbone).catch((error: unknown) => {
    const step = `loading backbone.uri ${request.backbone.uri} (format ${request.backbone.format}) on worker ${nodeName()}`;
    const noModel = error instanceof MissingObjectError || isMissingBucket(error);
    throw noModel ? ApplicationFailure.nonRetryable(`${step} failed: ${(error as Error).message}`, FailureType.backbone) : retriedOnlyWhenTransient(error, step, FailureType.backbone);
  });
  const { inputSize } = acquired.backbone;
  if (inputSize && inputSize !== request.image.size) {
    acquired.release();
    throw ApplicationFailure.nonRetryable(`image.size is ${request.image.size} but the backbone ${request.backbone.uri} takes ${inputSize}x${inputSize} inputs; set image.size to ${inputSize}`, FailureType.backbone);
  }
  return acquired;
}

/** The shard's feature sets (its `rows` of the split's `samples`), one per view, computed with `backbone` unless stored already. */
async function extractShard(request: FeatureShardRequest, manifest: SplitManifest, samples: SplitManifest['train'], rows: SplitManifest['train'], backbone: Backbone): Promise<FeatureShardResult> {
  const rendered = renderedSamples(`${request.splitKey}#${request.split}`, samples);
  const featureSetIds = request.views.map((view) => contentId({
    backbone: backbone.id,
    image: request.image,
    norm: [request.backbone.mean, request.backbone.std],
    // Train views depend on the augmentation settings and seed; the eval view does not.
    view: view === 'eval' ? 'eval' : { index: view, augmentation: request.augmentation, seed: request.seed },
    samples: rendered,
  }));

  // Every view of the shard reads the same images: read each once, when first needed.
  const readImage = await imageReader(manifest.datasetId);
  const fetched = new Map<string, Promise<Buffer>>();
  const imageBytes = (sha256: string) => {
    if (!fetched.has(sha256)) fetched.set(sha256, readImage(sha256));
    return fetched.get(sha256)!;
  };
  let dim = 0;
  let computed = false;
  for (const [v, view] of request.views.entries()) {
    const key = artifactKeys.featureShard(featureSetIds[v], request.shard);
    Context.current().heartbeat({ view: v, views: request.views.length });
    if (await objectExists(key)) continue;
    const features = await embedSamples(rows, view, request, backbone, imageBytes, manifest.datasetId);
    dim = features.length / rows.length;
    await putObject(key, encodeFeatureShard({ count: rows.length, dim, labels: Int32Array.from(rows.map((r) => r.label)), features }));
    computed = true;
  }
  if (!computed) dim = await shardDim(artifactKeys.featureShard(featureSetIds[0], request.shard));
  return { featureSetIds, rows: rows.length, dim, computed, backboneId: backbone.id, node: nodeName() };
}

/**
 * The split's samples as they enter every feature set id, rendered once per split in this process: each
 * shard's activity names the whole split, for every view, which at ImageNet's size (900k training
 * samples) is tens of MB of JSON per view and shard. The split manifest is content-addressed, so a kept
 * rendering is never stale; one is kept, as a worker extracts one sweep's splits at a time.
 */
const renderedSamples = keepLast((_splitAndName: string, samples: SplitManifest['train']) =>
  new RenderedJson(canonicalJson(samples.map((s) => [s.sha256, s.copy, s.label]))));

async function embedSamples(rows: SplitManifest['train'], view: ViewName, request: FeatureShardRequest, backbone: Backbone, imageBytes: (sha256: string) => Promise<Buffer>, datasetId: string): Promise<Float32Array> {
  const { size } = request.image;
  const pixels = size * size * 3;
  const batchSize = backboneBatch(size);
  const parts: Float32Array[] = [];
  const prepare = async (batch: typeof rows): Promise<Float32Array> => {
    const input = new Float32Array(batch.length * pixels);
    await Promise.all(batch.map(async (sample, i) => {
      const bytes = await imageBytes(sample.sha256);
      // Each (image, copy, view) gets its own augmentation draw, independent of which worker computes it.
      const augment = view === 'eval' ? undefined : drawAugmentation(request.augmentation, randomStream(request.seed, 'augment', sample.sha256, sample.copy, view));
      input.set(await preprocessSample(bytes, sample, view, request, augment, datasetId), i * pixels);
    }));
    return input;
  };
  // The next batch is fetched and preprocessed while the backbone runs on this one. Marked handled:
  // if the backbone fails first, the batch being prepared must not crash the worker as unhandled.
  const prefetch = (start: number) => {
    const batch = prepare(rows.slice(start, start + batchSize));
    batch.catch(() => undefined);
    return batch;
  };
  let next = prefetch(0);
  for (let start = 0; start < rows.length; start += batchSize) {
    const input = await next;
    const count = input.length / pixels;
    if (start + batchSize < rows.length) next = prefetch(start + batchSize);
    const images = tf.tensor4d(input, [count, size, size, 3]);
    parts.push(await backbone.embed(images).finally(() => images.dispose()));
    Context.current().heartbeat({ row: start + count });
  }
  const dim = parts[0].length / Math.min(batchSize, rows.length);
  const out = new Float32Array(rows.length * dim);
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

/**
 * One sample's model input. An image ingestion accepted but preprocessing rejects fails the same way on
 * every attempt, so after one more try in this process (to tell it from a passing fault) it fails the
 * step as a data error naming the file: retried, it would keep the sweep "extracting features" for ever.
 * Unless libvips ran short of memory or threads: then the step is retried (it failed the sweep, and the
 * error said to remove a good image).
 */
async function preprocessSample(bytes: Buffer, sample: Sample, view: ViewName, request: FeatureShardRequest, augment: AugmentParams | undefined, datasetId: string): Promise<Float32Array> {
  const norm = { mean: request.backbone.mean, std: request.backbone.std };
  try {
    return await preprocessImage(bytes, request.image, augment, norm).catch(() => preprocessImage(bytes, request.image, augment, norm));
  } catch (error) {
    if (isWantOfResources(rootMessage(error))) throw new TransientError(`preprocessing image ${sample.sha256} for the ${view} view: ${rootMessage(error)}`);
    const source = await getJson<DatasetManifest>(artifactKeys.dataset(datasetId))
      .then((dataset) => dataset.images.find((image) => image.sha256 === sample.sha256)?.source, () => undefined);
    throw ApplicationFailure.nonRetryable(
      `image ${source ?? '(source not found)'} (sha256 ${sample.sha256}) could not be preprocessed for the ${view} view: ${rootMessage(error)}. ` +
      'Ingestion decoded it, so this is a preprocessing bug worth reporting with the file; to go on now, remove the file from data.source and start the sweep again (under a new id)',
      FailureType.data);
  }
}

/** The dimension of a stored shard, from its header alone. */
async function shardDim(key: string): Promise<number> {
  return decodeFeatureShardHeader(await getObject(key, undefined, `bytes=0-${HEADER_BYTES - 1}`)).dim;
}
