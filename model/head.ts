// The classifier head trained on frozen backbone features:
//   dense(hidden_units, relu) -> dropout -> dense(num_classes) -> log-softmax, NLL loss, Adam.
// Written as explicit tensor functions (not tf.layers) so that every random draw (initialisation,
// dropout masks) comes from our keyed streams and the optimizer state is plain data we checkpoint:
// an interrupted and resumed trial computes exactly what an uninterrupted one does.
import * as tf from '@tensorflow/tfjs';
import { FeatureRows } from '../formats/feature-shard';
import { randomStream } from '../lib/random';
import { AdamStore, adamStepScalars, createAdamStore } from './adam';

export interface HeadShape {
  inputDim: number;
  hiddenUnits: number;
  numClasses: number;
}

/** Parameters in a fixed order: dense1 kernel, dense1 bias, dense2 kernel, dense2 bias. */
export type HeadArrays = [Float32Array, Float32Array, Float32Array, Float32Array];

export const HEAD_TENSOR_NAMES = ['dense1/kernel', 'dense1/bias', 'dense2/kernel', 'dense2/bias'] as const;

export function headTensorShapes(shape: HeadShape): Array<[number, number] | [number]> {
  return [[shape.inputDim, shape.hiddenUnits], [shape.hiddenUnits], [shape.hiddenUnits, shape.numClasses], [shape.numClasses]];
}

/** PyTorch nn.Linear's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from a keyed stream. */
export function initHeadArrays(shape: HeadShape, ...streamKeys: Array<string | number>): HeadArrays {
  const random = randomStream(...streamKeys, 'init');
  const uniform = (n: number, fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (random() * 2 - 1) * bound;
    return out;
  };
  return [
    uniform(shape.inputDim * shape.hiddenUnits, shape.inputDim),
    uniform(shape.hiddenUnits, shape.inputDim),
    uniform(shape.hiddenUnits * shape.numClasses, shape.hiddenUnits),
    uniform(shape.numClasses, shape.hiddenUnits),
  ];
}

/** Log-probabilities; `dropoutMask` (already scaled by 1/(1-p)) only when training. */
export function headForward(params: tf.Tensor[], x: tf.Tensor2D, dropoutMask?: tf.Tensor2D): tf.Tensor2D {
  const [w1, b1, w2, b2] = params as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
  let hidden = tf.fused.matMul({ a: x, b: w1, bias: b1, activation: 'relu' });
  if (dropoutMask) hidden = tf.mul(hidden, dropoutMask);
  return tf.logSoftmax(tf.fused.matMul({ a: hidden as tf.Tensor2D, b: w2, bias: b2 })) as tf.Tensor2D;
}

/**
 * The training-mode forward pass and the gradients of the mean NLL loss (in HeadArrays order), by
 * hand: autodiff records about twice the ops, and at batch 25 a step's cost is mostly per-op
 * overhead. The class dimension is tiny, so the loss end (log-softmax, NLL and its gradient) runs in
 * JS on the logits, in double precision. The unit tests hold this to tf.grads.
 */
export function headGradients(params: tf.Tensor[], x: tf.Tensor2D, labels: Int32Array, mask: tf.Tensor2D): { logProbs: Float64Array; grads: tf.Tensor[] } {
  const [w1, b1, w2, b2] = params as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
  const numClasses = w2.shape[1];
  const [hidden, dropped, logits] = tf.tidy(() => {
    // Not tf.fused.matMul: on tfjs-node it is these same ops plus its own bookkeeping.
    const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
    const d = tf.mul(h, mask) as tf.Tensor2D;
    return [h, d, tf.add(tf.matMul(d, w2), b2)];
  });
  try {
    const { logProbs, dLogits, dBias2 } = logSoftmaxGradient(logits.dataSync() as Float32Array, labels, numClasses);
    const grads = tf.tidy(() => {
      const dLogitsTensor = tf.tensor2d(dLogits, [labels.length, numClasses]);
      // Through dropout and relu: hidden >= 0, so sign(hidden) is relu's gradient (0 at 0).
      const dHidden = tf.mul(tf.matMul(dLogitsTensor, w2, false, true), tf.mul(mask, tf.sign(hidden)));
      return [tf.matMul(x, dHidden, true, false), tf.sum(dHidden, 0), tf.matMul(dropped, dLogitsTensor, true, false), tf.tensor1d(dBias2)];
    });
    return { logProbs, grads };
  } finally {
    tf.dispose([hidden, dropped, logits]);
  }
}

/** Log-softmax of rows of logits, and the gradient of their mean NLL: (softmax - oneHot) / rows, and its column sums. */
export function logSoftmaxGradient(logits: ArrayLike<number>, labels: Int32Array, numClasses: number): { logProbs: Float64Array; dLogits: Float32Array; dBias2: Float32Array } {
  const rows = labels.length;
  const logProbs = new Float64Array(rows * numClasses);
  const dLogits = new Float32Array(rows * numClasses);
  const dBias2 = new Float64Array(numClasses);
  for (let r = 0; r < rows; r++) {
    const at = r * numClasses;
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) max = Math.max(max, logits[at + c]);
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += Math.exp(logits[at + c] - max);
    const logSum = max + Math.log(sum);
    for (let c = 0; c < numClasses; c++) {
      logProbs[at + c] = logits[at + c] - logSum;
      const grad = (Math.exp(logProbs[at + c]) - (c === labels[r] ? 1 : 0)) / rows;
      dLogits[at + c] = grad;
      dBias2[c] += grad;
    }
  }
  return { logProbs, dLogits, dBias2: Float32Array.from(dBias2) };
}

/** Inverted-dropout mask for one batch, keyed so a resumed epoch draws the same masks. */
export function dropoutMask(rows: number, units: number, rate: number, ...streamKeys: Array<string | number>): Float32Array {
  const random = randomStream(...streamKeys, 'dropout');
  const keep = 1 / (1 - rate);
  const mask = new Float32Array(rows * units);
  for (let i = 0; i < mask.length; i++) mask[i] = random() < rate ? 0 : keep;
  return mask;
}

/** Adam state as plain arrays: what a checkpoint stores next to the weights. */
export interface AdamState {
  step: number;
  firstMoment: HeadArrays;
  secondMoment: HeadArrays;
}

export function zeroAdamState(shape: HeadShape): AdamState {
  const zeros = () => headTensorShapes(shape).map((s) => new Float32Array(s.reduce((a, b) => a * b, 1))) as HeadArrays;
  return { step: 0, firstMoment: zeros(), secondMoment: zeros() };
}

/**
 * The head's trainable state: weights and Adam moments in an AdamStore (no tf.Variable names are
 * registered, so many trials can train in one process without clashing), and the step count.
 */
export class HeadTrainer {
  private readonly store: AdamStore;
  step: number;

  constructor(readonly shape: HeadShape, readonly learningRate: number, weights: HeadArrays, adam: AdamState) {
    this.store = createAdamStore({ shapes: headTensorShapes(shape), weights, first: adam.firstMoment, second: adam.secondMoment });
    this.step = adam.step;
  }

  /** One Adam step on a batch; returns the batch's summed loss and correct count. */
  async trainBatch(x: tf.Tensor2D, labels: Int32Array, mask: tf.Tensor2D): Promise<{ lossSum: number; correct: number }> {
    // Disposed on every path: a step that throws (the GPU's memory short, say) fails its attempt, and a
    // worker would keep the tensors of each failed one.
    const params = this.store.read();
    let gradients: ReturnType<typeof headGradients>;
    try {
      gradients = headGradients(params, x, labels, mask);
    } finally {
      // The weights are read before they are updated in place (see FusedAdamStore).
      tf.dispose(params);
    }
    const { logProbs, grads } = gradients;
    try {
      this.step += 1;
      // Bias corrections in double precision from the step count alone, so a resumed run matches exactly.
      const { lrT, epsT } = adamStepScalars(this.learningRate, this.step);
      this.store.update(grads, lrT, epsT);
    } finally {
      tf.dispose(grads);
    }
    return scoreRows(logProbs, labels, this.shape.numClasses);
  }

  /** Loss, accuracy and predictions of the current weights on a feature set (eval mode). */
  async evaluate(data: FeatureRows, batchSize?: number): ReturnType<typeof evaluateHead> {
    const params = this.store.read();
    try {
      return await evaluateHead(params, data, this.shape.numClasses, batchSize);
    } finally {
      tf.dispose(params);
    }
  }

  async weights(): Promise<HeadArrays> {
    const params = this.store.read();
    try {
      return (await Promise.all(params.map((p) => p.data()))) as HeadArrays;
    } finally {
      tf.dispose(params);
    }
  }

  async adamState(): Promise<AdamState> {
    const { first, second } = await this.store.moments();
    return { step: this.step, firstMoment: first as HeadArrays, secondMoment: second as HeadArrays };
  }

  dispose(): void {
    this.store.dispose();
  }
}

/**
 * Summed NLL and correct count of rows of log-probabilities; the predicted class (first maximum
 * wins, as in tf.argMax) of each row goes into `predictions` when given.
 */
function scoreRows(logProbs: ArrayLike<number>, labels: Int32Array, numClasses: number, predictions?: Int32Array): { lossSum: number; correct: number } {
  let lossSum = 0;
  let correct = 0;
  labels.forEach((label, row) => {
    const at = row * numClasses;
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (logProbs[at + c] > logProbs[at + best]) best = c;
    if (predictions) predictions[row] = best;
    lossSum -= logProbs[at + label];
    if (best === label) correct += 1;
  });
  return { lossSum, correct };
}

/** Loss and accuracy (and predictions) of a head on a whole feature set, in eval mode, batched. */
export async function evaluateHead(params: tf.Tensor[], data: FeatureRows, numClasses: number, batchSize = 256): Promise<{ loss: number; accuracy: number; predictions: Int32Array; logProbs: Float32Array }> {
  const n = data.count;
  const predictions = new Int32Array(n);
  const logProbs = new Float32Array(n * numClasses);
  const batch = new Float32Array(Math.min(batchSize, n) * data.dim);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const rows = Array.from({ length: end - start }, (_, i) => start + i);
    await data.read(rows, batch);
    const out = tf.tidy(() => headForward(params, tf.tensor2d(batch.subarray(0, rows.length * data.dim), [rows.length, data.dim])));
    logProbs.set(await out.data(), start * numClasses);
    out.dispose();
  }
  const { lossSum, correct } = scoreRows(logProbs, data.labels, numClasses, predictions);
  return { loss: lossSum / n, accuracy: correct / n, predictions, logProbs };
}
