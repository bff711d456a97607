// The frozen backbone on onnxruntime-node: on CPU several times faster than TF.js (measured in
// docs/benchmark.md), while TF.js stays the training API for the head. Used when the LayersModel has
// an ONNX twin next to its model.json (model.json -> model.onnx, written by backbones/layers-to-onnx.mjs)
// computing the same feature layer, and onnxruntime-node (an optional dependency) is installed.
// SWEEP_BACKBONE_ENGINE=tfjs|onnx forces one engine (default auto); SWEEP_ONNX_THREADS sets the
// threads per forward pass (default: onnxruntime's own choice, one per core).
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { backboneEngineConfig } from '../platform/config';
import { MissingObjectError } from '../platform/object-store';
import type { Backbone } from './backbone-types';
import { modelFileReader } from './model-io';

/** The subset of onnxruntime-node used here (typed locally: the package is optional). */
interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  InferenceSession: {
    create(model: Uint8Array, options: { intraOpNumThreads?: number; graphOptimizationLevel?: 'all' }): Promise<OrtSession>;
  };
}
interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata: ReadonlyArray<{ shape?: ReadonlyArray<number | string> }>;
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}

/**
 * The backbone on onnxruntime when `featureLayer` of the LayersModel at `location` has an ONNX twin;
 * undefined (use TF.js) when it has none or onnxruntime-node is missing, unless SWEEP_BACKBONE_ENGINE=onnx.
 */
export async function loadOnnxBackbone(location: string, featureLayer: string | undefined): Promise<Backbone | undefined> {
  const { engine, onnxThreads } = backboneEngineConfig();
  if (engine === 'tfjs') return undefined;
  const unavailable = (why: string): undefined => {
    if (engine === 'onnx') throw new Error(`SWEEP_BACKBONE_ENGINE=onnx, but ${why}`);
    return undefined;
  };
  const ort = requireOrt();
  if (!ort) return unavailable('onnxruntime-node is not installed (it is an optional dependency: npm ci installs it on linux, macOS and Windows)');
  const { read, jsonName } = modelFileReader(location);
  const onnxName = `${jsonName.replace(/\.json$/, '')}.onnx`;
  let bytes: Buffer;
  try {
    bytes = await read(onnxName);
  } catch (error) {
    if (!isMissing(error)) throw error;
    return unavailable(`there is no ${onnxName} next to ${location}; write it with \`node backbones/layers-to-onnx.mjs <model folder> ${featureLayer ?? '<feature layer>'}\``);
  }
  const threads = onnxThreads ? { intraOpNumThreads: onnxThreads } : {};
  const session = await ort.InferenceSession.create(bytes, { ...threads, graphOptimizationLevel: 'all' });
  const output = session.outputNames[0];
  // The converter names the output after the layer (with _nhwc when it transposes a feature map back).
  if (!featureLayer || output.replace(/_nhwc$/, '') !== featureLayer) {
    await session.release();
    return unavailable(`${onnxName} computes "${output}", not the feature layer "${featureLayer ?? '(model output)'}"; rebuild it for that layer`);
  }
  const input = session.inputNames[0];
  const height = session.inputMetadata[0]?.shape?.[1];
  return {
    // The engine's arithmetic differs from TF.js's in the last bits, so its features get their own cache key.
    id: createHash('sha256').update(`onnx\n${featureLayer}\n`).update(bytes).digest('hex'),
    engine: 'onnxruntime',
    inputSize: typeof height === 'number' && height > 0 ? height : undefined,
    embed: async (images: tf.Tensor4D) => {
      const pixels = (await images.data()) as Float32Array;
      const result = await session.run({ [input]: new ort.Tensor('float32', pixels, images.shape) });
      return Float32Array.from(result[output].data as Float32Array);
    },
    dispose: () => session.release(),
  };
}

function requireOrt(): Ort | undefined {
  try {
    return require('onnxruntime-node') as Ort;
  } catch {
    return undefined;
  }
}

/**
 * Whether the optional ONNX file is not there. S3 answers 403, not 404, for a missing key to a reader
 * that may not list the bucket (over https and s3:// alike); a model.json it may not read fails after.
 */
function isMissing(error: unknown): boolean {
  const e = error as { code?: string; name?: string; message?: string };
  return error instanceof MissingObjectError || e.code === 'ENOENT' || /HTTP 40[34]\b/.test(e.message ?? '') || e.name === 'AccessDenied';
}
