// The classifier head trained on frozen backbone features:
//   dense(hidden_units, relu) -> dropout -> dense(num_classes) -> log-softmax, NLL loss, Adam.
// Written as explicit tensor functions (not tf.layers) so that every random draw (initialisation,
// dropout masks) comes from our keyed streams and the optimizer state is plain data we checkpoint:
// an interrupted and resumed trial computes exactly what an uninterrupted one does.
import * as tf from '@tensorflow/tfjs';
import { randomStream } from '../lib/random';

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
  const [w1, b1, w2, b2] = params;
  let hidden = tf.relu(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1));
  if (dropoutMask) hidden = tf.mul(hidden, dropoutMask);
  return tf.logSoftmax(tf.add(tf.matMul(hidden as tf.Tensor2D, w2 as tf.Tensor2D), b2) as tf.Tensor2D);
}

/** Mean negative log-likelihood of the true classes. */
export function nllLoss(logProbs: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, tf.oneHot(labels, numClasses)), 1))) as tf.Scalar;
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

export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

export function zeroAdamState(shape: HeadShape): AdamState {
  const zeros = () => headTensorShapes(shape).map((s) => new Float32Array(s.reduce((a, b) => a * b, 1))) as HeadArrays;
  return { step: 0, firstMoment: zeros(), secondMoment: zeros() };
}

/**
 * The head's trainable state as tensors. One instance per trial; no tf.Variable names are
 * registered, so many trials can train in one process without clashing.
 */
export class HeadTrainer {
  params: tf.Tensor[];
  private m: tf.Tensor[];
  private v: tf.Tensor[];
  step: number;

  constructor(readonly shape: HeadShape, readonly learningRate: number, weights: HeadArrays, adam: AdamState) {
    const shapes = headTensorShapes(shape);
    this.params = weights.map((w, i) => tf.tensor(w, shapes[i]));
    this.m = adam.firstMoment.map((w, i) => tf.tensor(w, shapes[i]));
    this.v = adam.secondMoment.map((w, i) => tf.tensor(w, shapes[i]));
    this.step = adam.step;
  }

  /** One Adam step on a batch; returns the batch's summed loss and correct count. */
  async trainBatch(x: tf.Tensor2D, labels: tf.Tensor1D, mask: tf.Tensor2D): Promise<{ lossSum: number; correct: number }> {
    this.step += 1;
    const t = this.step;
    // Bias corrections in double precision from the step count alone, so a resumed run matches exactly.
    const lrT = this.learningRate * Math.sqrt(1 - ADAM.beta2 ** t) / (1 - ADAM.beta1 ** t);
    const epsT = ADAM.epsilon * Math.sqrt(1 - ADAM.beta2 ** t);
    let correct: tf.Tensor | undefined;
    const next = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((...params: tf.Tensor[]) => {
        const logProbs = headForward(params, x, mask);
        correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logProbs, 1), labels), 'int32')));
        return nllLoss(logProbs, labels, this.shape.numClasses);
      })(this.params);
      const updated = this.params.map((p, i) => {
        const m = tf.add(tf.mul(this.m[i], ADAM.beta1), tf.mul(grads[i], 1 - ADAM.beta1));
        const v = tf.add(tf.mul(this.v[i], ADAM.beta2), tf.mul(tf.square(grads[i]), 1 - ADAM.beta2));
        const p2 = tf.sub(p, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsT)), lrT));
        return [p2, m, v];
      });
      return { value, updated };
    });
    tf.dispose([...this.params, ...this.m, ...this.v]);
    this.params = next.updated.map((u) => u[0]);
    this.m = next.updated.map((u) => u[1]);
    this.v = next.updated.map((u) => u[2]);
    const rows = x.shape[0];
    const [loss, hits] = await Promise.all([next.value.data(), correct!.data()]);
    tf.dispose([next.value, correct!]);
    return { lossSum: loss[0] * rows, correct: hits[0] };
  }

  async weights(): Promise<HeadArrays> {
    return (await Promise.all(this.params.map((p) => p.data()))) as HeadArrays;
  }

  async adamState(): Promise<AdamState> {
    return {
      step: this.step,
      firstMoment: (await Promise.all(this.m.map((t) => t.data()))) as HeadArrays,
      secondMoment: (await Promise.all(this.v.map((t) => t.data()))) as HeadArrays,
    };
  }

  dispose(): void {
    tf.dispose([...this.params, ...this.m, ...this.v]);
  }
}

/** Loss and accuracy (and predictions) of a head on a whole feature set, in eval mode, batched. */
export async function evaluateHead(params: tf.Tensor[], features: Float32Array, labels: Int32Array, inputDim: number, numClasses: number, batchSize = 256): Promise<{ loss: number; accuracy: number; predictions: Int32Array; logProbs: Float32Array }> {
  const n = labels.length;
  const predictions = new Int32Array(n);
  const logProbs = new Float32Array(n * numClasses);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const [lp, pred] = tf.tidy(() => {
      const x = tf.tensor2d(features.subarray(start * inputDim, end * inputDim), [end - start, inputDim]);
      const out = headForward(params, x);
      return [out, tf.argMax(out, 1)];
    });
    const [lpData, predData] = await Promise.all([lp.data(), pred.data()]);
    tf.dispose([lp, pred]);
    logProbs.set(lpData as Float32Array, start * numClasses);
    for (let i = 0; i < end - start; i++) {
      const label = labels[start + i];
      predictions[start + i] = predData[i];
      lossSum -= lpData[i * numClasses + label];
      if (predData[i] === label) correct += 1;
    }
  }
  return { loss: lossSum / n, accuracy: correct / n, predictions, logProbs };
}
