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

const loaded = new Map<string, Promise<Backbone>>();

export function loadBackbone(spec: BackboneSpec): Promise<Backbone> {
  const cacheKey = JSON.stringify([spec.uri, spec.format, spec.featureLayer, backboneEngineConfig().engine]);
  if (!loaded.has(cacheKey)) {
    const promise = load(spec);
    promise.catch(() => loaded.delete(cacheKey));
    loaded.set(cacheKey, promise);
  }
  return loaded.get(cacheKey)!;
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
    return finish(hash.digest('hex'), inputShape, (x) => model.execute(x, output) as tf.Tensor);
  }
  const model = await loadLayersFeatureModel(spec, handler);
  model.trainable = false;
  return finish(hash.digest('hex'), model.inputs[0].shape, (x) => model.predict(x) as tf.Tensor);
}

async function finish(id: string, inputShape: Array<number | null>, run: (x: tf.Tensor4D) => tf.Tensor): Promise<Backbone> {
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
