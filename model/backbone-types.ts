// What a loaded backbone is, whichever engine runs it; its own module so that the TF.js loader
// (backbone.ts) and the onnxruntime one (onnx-backbone.ts) both use it without importing each other.
import type * as tf from '@tensorflow/tfjs';

export interface Backbone {
  /** sha256 of model.json, the weights and the feature layer: the cache key of its features. */
  id: string;
  /** Fixed input height/width, or undefined when the model accepts any size. */
  inputSize?: number;
  /** Feature vectors (flattened) of a batch of NHWC images. */
  embed(images: tf.Tensor4D): Promise<Float32Array>;
  /** What runs the forward pass: TF.js on its backend, or onnxruntime-node (model/onnx-backbone.ts). */
  engine: 'tfjs' | 'onnxruntime';
  /** Frees its weights (TF.js variables, the ONNX session); it cannot embed after. */
  dispose(): Promise<void>;
}
