// The frozen backbone: a TF.js LayersModel or GraphModel cut at the feature layer. Loaded once per
// worker process and identified by the hash of its bytes, so cached features follow the weights.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { catalogueBackbone, catalogueNameOf } from '../lib/backbone-catalogue';
import { DomainError, FailureType } from '../lib/errors';
import { BackboneSpec } from '../lib/sweep-spec';
import { backboneEngineConfig, backbonesDir } from '../platform/config';
import { Backbone } from './backbone-types';
import { loadHandler } from './model-io';
import { loadOnnxBackbone } from './onnx-backbone';

/**
 * Backbones kept loaded while no step uses them, the most recently used: the sweep's next shard,
 * and its next sweep, mostly want the same one. The others are freed: a long-lived GPU worker would
 * otherwise hold every backbone it was ever asked for (hundreds of MB each, in GPU memory on tfjs-node-gpu).
 */
const KEPT_UNUSED = 1;

interface Loaded {
  backbone: Promise<Backbone>;
  users: number;
}

/** By cache key, the most recently released last. */
const loaded = new Map<string, Loaded>();

/**
 * The backbone, loaded once per process and shared by the steps using it at once; each calls
 * `release()` when done with it (then it may be freed, see KEPT_UNUSED).
 */
export async function acquireBackbone(spec: BackboneSpec): Promise<{ backbone: Backbone; release: () => void }> {
  const cacheKey = JSON.stringify([spec.uri, spec.format, spec.featureLayer, backboneEngineConfig().engine]);
  let entry = loaded.get(cacheKey);
  if (!entry) {
    const loading: Loaded = { backbone: load(spec), users: 0 };
    loading.backbone.catch(() => { if (loaded.get(cacheKey) === loading) loaded.delete(cacheKey); });
    loaded.set(cacheKey, loading);
    entry = loading;
  }
  const held = entry;
  held.users++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    held.users--;
    // Moved to the end: the most recently used. (Unless a failed load took it out meanwhile.)
    if (loaded.get(cacheKey) === held) {
      loaded.delete(cacheKey);
      loaded.set(cacheKey, held);
    }
    freeUnused();
  };
  try {
    return { backbone: await held.backbone, release };
  } catch (error) {
    release();
    throw error;
  }
}

/** How many backbones this process holds loaded (for tests). */
export function loadedBackbones(): number {
  return loaded.size;
}

function freeUnused(): void {
  const unused = [...loaded].filter(([, entry]) => entry.users === 0);
  for (const [key, entry] of unused.slice(0, -KEPT_UNUSED)) {
    loaded.delete(key);
    void entry.backbone.then((backbone) => backbone.dispose(), () => undefined);
  }
}

/**
 * The model.json this worker loads. A catalogue backbone ("catalogue:<name>") is this worker's own
 * fetched copy, because a path on the machine that started the sweep means nothing here.
 */
export function modelLocation(spec: Pick<BackboneSpec, 'uri'>): string {
  const name = catalogueNameOf(spec.uri);
  if (name === undefined) return spec.uri;
  const entry = catalogueBackbone(name);
  if (!entry) throw new DomainError(`"${name}" is not a catalogue backbone`, FailureType.spec);
  const file = path.join(backbonesDir(), entry.folder, 'model.json');
  if (!fs.existsSync(file)) {
    throw new DomainError(`backbone ${name} has not been fetched on worker ${os.hostname()} (no ${file}): run \`${entry.fetchCommand}\` in the repository on this worker (or set SWEEP_BACKBONES_DIR to where it was fetched), or upload that folder once and set backbone.uri to the s3:// URL of its model.json`, FailureType.backboneMissing);
  }
  return file;
}

/** A LayersModel backbone whose output is the feature layer (the whole model when none is named). */
export async function loadLayersFeatureModel(spec: BackboneSpec, handler = loadHandler(modelLocation(spec))): Promise<tf.LayersModel> {
  const full = await tf.loadLayersModel(handler);
  if (!spec.featureLayer) return full;
  const layer = full.layers.find((l) => l.name === spec.featureLayer);
  if (!layer) {
    // Its weights are the engine's variables until disposed: a worker would keep every failed load's.
    full.dispose();
    throw new Error(`backbone.featureLayer "${spec.featureLayer}" is not a layer of ${spec.uri}; its last layers are: ${full.layers.slice(-8).map((l) => l.name).join(', ')}`);
  }
  const cut = tf.model({ inputs: full.inputs, outputs: layer.output as tf.SymbolicTensor });
  // Layers past the feature layer (e.g. ImageNet logits) are never run: free their weights.
  for (const unused of full.layers.filter((l) => !cut.layers.includes(l))) unused.dispose();
  return cut;
}

async function load(spec: BackboneSpec): Promise<Backbone> {
  const onnx = spec.format === 'layers' ? await loadOnnxBackbone(modelLocation(spec), spec.featureLayer) : undefined;
  if (onnx) return onnx;
  const hash = createHash('sha256').update(`${spec.format}\n${spec.featureLayer ?? ''}\n`);
  const handler = hashingHandler(loadHandler(modelLocation(spec)), hash);
  if (spec.format === 'graph') {
    const model = await tf.loadGraphModel(handler);
    const output = spec.featureLayer ?? model.outputs[0].name;
    const inputShape = model.inputs[0].shape ?? [];
    return finish(hash.digest('hex'), inputShape, (x) => model.execute(x, output) as tf.Tensor, () => model.dispose());
  }
  const model = await loadLayersFeatureModel(spec, handler);
  model.trainable = false;
  return finish(hash.digest('hex'), model.inputs[0].shape, (x) => model.predict(x) as tf.Tensor, () => model.dispose());
}

async function finish(id: string, inputShape: Array<number | null>, run: (x: tf.Tensor4D) => tf.Tensor, dispose: () => void): Promise<Backbone> {
  const height = inputShape[1];
  return {
    id,
    engine: 'tfjs',
    inputSize: height && height > 0 ? height : undefined,
    embed: async (images) => {
      const features = tf.tidy(() => {
        const out = run(images);
        return out.reshape([images.shape[0], out.size / images.shape[0]]);
      });
      const data = (await features.data()) as Float32Array;
      features.dispose();
      return data;
    },
    dispose: async () => dispose(),
  };
}

function hashingHandler(handler: tf.io.IOHandler, hash: ReturnType<typeof createHash>): tf.io.IOHandler {
  return {
    load: async () => {
      const artifacts = await handler.load!();
      hash.update(JSON.stringify(artifacts.modelTopology));
      hash.update(new Uint8Array(artifacts.weightData as ArrayBuffer));
      return artifacts;
    },
  };
}
