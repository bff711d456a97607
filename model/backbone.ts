// The frozen backbone: a TF.js LayersModel or GraphModel cut at the feature layer. Loaded once per
// worker process and identified by the hash of its bytes, so cached features follow the weights.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { BackboneSpec } from '../lib/sweep-spec';
import { loadHandler } from './model-io';

export interface Backbone {
  /** sha256 of model.json, the weights and the feature layer: the cache key of its features. */
  id: string;
  /** Fixed input height/width, or undefined when the model accepts any size. */
  inputSize?: number;
  /** Feature vectors (flattened) of a batch of NHWC images. */
  embed(images: tf.Tensor4D): Promise<Float32Array>;
}

const loaded = new Map<string, Promise<Backbone>>();

export function loadBackbone(spec: BackboneSpec): Promise<Backbone> {
  const cacheKey = JSON.stringify([spec.uri, spec.format, spec.featureLayer]);
  if (!loaded.has(cacheKey)) {
    const promise = load(spec);
    promise.catch(() => loaded.delete(cacheKey));
    loaded.set(cacheKey, promise);
  }
  return loaded.get(cacheKey)!;
}

async function load(spec: BackboneSpec): Promise<Backbone> {
  const hash = createHash('sha256').update(`${spec.format}\n${spec.featureLayer ?? ''}\n`);
  const handler = hashingHandler(loadHandler(spec.uri), hash);
  if (spec.format === 'graph') {
    const model = await tf.loadGraphModel(handler);
    const output = spec.featureLayer ?? model.outputs[0].name;
    const inputShape = model.inputs[0].shape ?? [];
    return finish(hash.digest('hex'), inputShape, (x) => model.execute(x, output) as tf.Tensor);
  }
  const full = await tf.loadLayersModel(handler);
  let model: tf.LayersModel = full;
  if (spec.featureLayer) {
    const layer = full.layers.find((l) => l.name === spec.featureLayer);
    if (!layer) {
      throw new Error(`backbone.featureLayer "${spec.featureLayer}" is not a layer of ${spec.uri}; its last layers are: ${full.layers.slice(-8).map((l) => l.name).join(', ')}`);
    }
    model = tf.model({ inputs: full.inputs, outputs: layer.output as tf.SymbolicTensor });
  }
  model.trainable = false;
  return finish(hash.digest('hex'), model.inputs[0].shape, (x) => model.predict(x) as tf.Tensor);
}

async function finish(id: string, inputShape: Array<number | null>, run: (x: tf.Tensor4D) => tf.Tensor): Promise<Backbone> {
  const height = inputShape[1];
  return {
    id,
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
