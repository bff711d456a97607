// model/head.ts on TF.js (wasm backend): learning, exact resume from exported weights + Adam state,
// keyed init and dropout, evaluation, no tensor leaks; and the checkpoint encoding of model/checkpoint.ts.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  AdamState, HEAD_TENSOR_NAMES, HeadArrays, HeadShape, HeadTrainer, dropoutMask, headForward, headGradients, headTensorShapes, initHeadArrays, zeroAdamState,
} from '../../model/head';
import { initTensorflow } from '../../model/tf-backend';
import { memoryRows } from '../../formats/feature-shard';
import { randomStream, shuffled } from '../../lib/random';
import { decodeHeadWeights, decodeState, encodeHeadWeights, encodeState, headWeightsBytes } from '../../model/checkpoint';

process.env.SWEEP_TF_BACKEND ??= 'wasm';

const SEED = 42;
const TRIAL = 'trial-abc';

interface Data { count: number; dim: number; features: Float32Array; labels: Int32Array }

/** Linearly separable toy data: class c is a Gaussian blob around 3 * e_c (plus noise dims). */
function toyData(count: number, dim: number, numClasses: number, key: string): Data {
  const random = randomStream('toy', key);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const features = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % numClasses;
    labels[i] = c;
    for (let d = 0; d < dim; d++) features[i * dim + d] = (d === c ? 3 : 0) + 0.5 * normal();
  }
  return { count, dim, features, labels };
}

/** One epoch exactly as activities/train.ts trains it: keyed shuffle and keyed dropout masks per batch. */
async function trainEpoch(trainer: HeadTrainer, data: Data, epoch: number, batchSize: number, dropout: number): Promise<{ loss: number; accuracy: number }> {
  const { dim } = data;
  const order = shuffled([...Array(data.count).keys()], randomStream(SEED, TRIAL, 'shuffle', epoch));
  let lossSum = 0;
  let correct = 0;
  for (let start = 0, b = 0; start < order.length; start += batchSize, b++) {
    const rows = Math.min(batchSize, order.length - start);
    const batch = new Float32Array(rows * dim);
    const labels = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      const row = order[start + i];
      batch.set(data.features.subarray(row * dim, (row + 1) * dim), i * dim);
      labels[i] = data.labels[row];
    }
    const x = tf.tensor2d(batch, [rows, dim]);
    const mask = tf.tensor2d(dropoutMask(rows, trainer.shape.hiddenUnits, dropout, SEED, TRIAL, epoch, b), [rows, trainer.shape.hiddenUnits]);
    const stats = await trainer.trainBatch(x, labels, mask);
    tf.dispose([x, mask]);
    lossSum += stats.lossSum;
    correct += stats.correct;
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count };
}

function assertArraysIdentical(actual: ArrayLike<number>[], expected: ArrayLike<number>[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.deepEqual(Array.from(a), Array.from(expected[i]), `${what}[${i}]`));
}

const SHAPE: HeadShape = { inputDim: 12, hiddenUnits: 16, numClasses: 3 };
// 103 rows: the last batch of each epoch is a partial one (batch size 25).
const TRAIN = toyData(103, SHAPE.inputDim, SHAPE.numClasses, 'train');
const VAL = toyData(60, SHAPE.inputDim, SHAPE.numClasses, 'val');

before(async () => {
  const backend = await initTensorflow();
  assert.equal(backend.name, process.env.SWEEP_TF_BACKEND);
});

describe('HeadTrainer', () => {
  test('learns a separable toy problem: loss falls, accuracy > 0.9', async () => {
    const trainer = new HeadTrainer(SHAPE, 0.01, initHeadArrays(SHAPE, SEED, TRIAL), zeroAdamState(SHAPE));
    try {
      const before = await trainer.evaluate(memoryRows(VAL));
      const losses: number[] = [];
      let last = { loss: Infinity, accuracy: 0 };
      for (let epoch = 0; epoch < 6; epoch++) {
        last = await trainEpoch(trainer, TRAIN, epoch, 25, 0.2);
        losses.push(last.loss);
      }
      assert.ok(losses.at(-1)! < losses[0] * 0.5, `train loss ${losses.map((l) => l.toFixed(3)).join(' -> ')}`);
      assert.ok(last.accuracy > 0.9, `train accuracy ${last.accuracy}`);
      const after = await trainer.evaluate(memoryRows(VAL));
      assert.ok(after.loss < before.loss * 0.5, `val loss ${before.loss} -> ${after.loss}`);
      assert.ok(after.accuracy > 0.9, `val accuracy ${after.accuracy}`);
      assert.equal(trainer.step, 6 * Math.ceil(103 / 25));
    } finally {
      trainer.dispose();
    }
  });

  test('trainBatch reports summed loss and correct count of the batch', async () => {
    const trainer = new HeadTrainer(SHAPE, 0.001, initHeadArrays(SHAPE, 'batch-stats'), zeroAdamState(SHAPE));
    try {
      const rows = 10;
      const features = TRAIN.features.slice(0, rows * SHAPE.inputDim);
      const labels = TRAIN.labels.slice(0, rows);
      // Expected: loss and correct count of the pre-step weights, with an all-ones mask (no dropout).
      const ref = await trainer.evaluate(memoryRows({ count: rows, dim: SHAPE.inputDim, labels, features }));
      const x = tf.tensor2d(features, [rows, SHAPE.inputDim]);
      const mask = tf.ones([rows, SHAPE.hiddenUnits]) as tf.Tensor2D;
      const stats = await trainer.trainBatch(x, labels, mask);
      tf.dispose([x, mask]);
      assert.ok(Math.abs(stats.lossSum - ref.loss * rows) < 1e-4, `${stats.lossSum} vs ${ref.loss * rows}`);
      assert.equal(stats.correct, Math.round(ref.accuracy * rows));
      assert.equal(trainer.step, 1);
      // The step changed the weights.
      const w = await trainer.weights();
      assert.notDeepEqual(Array.from(w[0]), Array.from(initHeadArrays(SHAPE, 'batch-stats')[0]));
    } finally {
      trainer.dispose();
    }
  });

  /** Trains epochs [from, to) at `dropout`, then returns their stats and the final state, and disposes the trainer. */
  async function runEpochs(trainer: HeadTrainer, from: number, to: number, dropout: number) {
    const epochs: Array<{ loss: number; accuracy: number }> = [];
    for (let epoch = from; epoch < to; epoch++) epochs.push(await trainEpoch(trainer, TRAIN, epoch, 25, dropout));
    const state = { epochs, weights: await trainer.weights(), adam: await trainer.adamState() };
    trainer.dispose();
    return state;
  }

  /** A trainer with the trial's own initial weights and a fresh Adam state. */
  const fresh = (lr: number) => new HeadTrainer(SHAPE, lr, initHeadArrays(SHAPE, SEED, TRIAL), zeroAdamState(SHAPE));

  test('exact resume: 2 epochs + restore into a new trainer + 2 epochs == 4 straight epochs, bit for bit', async () => {
    const lr = 0.005;
    const straight = await runEpochs(fresh(lr), 0, 4, 0.3);
    const saved = await runEpochs(fresh(lr), 0, 2, 0.3);
    // The first two epochs agree before any restore.
    assert.deepEqual(saved.epochs, straight.epochs.slice(0, 2));
    assert.equal(saved.adam.step, 2 * Math.ceil(103 / 25));

    // Restore from plain arrays (copies, as a checkpoint would hold them).
    const copy = (arrays: HeadArrays) => arrays.map((a) => Float32Array.from(a)) as HeadArrays;
    const adam = { step: saved.adam.step, firstMoment: copy(saved.adam.firstMoment), secondMoment: copy(saved.adam.secondMoment) };
    const resumed = await runEpochs(new HeadTrainer(SHAPE, lr, copy(saved.weights), adam), 2, 4, 0.3);

    assert.deepEqual([...saved.epochs, ...resumed.epochs], straight.epochs, 'per-epoch losses and accuracies');
    for (let i = 0; i < 4; i++) assert.deepEqual(resumed.weights[i], straight.weights[i], `weights[${i}]`);
    assert.equal(resumed.adam.step, straight.adam.step);
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(resumed.adam.firstMoment[i], straight.adam.firstMoment[i], `m[${i}]`);
      assert.deepEqual(resumed.adam.secondMoment[i], straight.adam.secondMoment[i], `v[${i}]`);
    }
    // Guard against a vacuous pass: training actually moved the weights after the checkpoint.
    assert.notDeepEqual(Array.from(resumed.weights[2]), Array.from(saved.weights[2]));
  });

  test('exact resume through the checkpoint bytes (encodeState -> decodeState)', async () => {
    const lr = 0.01;
    const expected = (await runEpochs(fresh(lr), 0, 3, 0.5)).weights;
    const first = await runEpochs(fresh(lr), 0, 1, 0.5);
    const restored = decodeState(SHAPE, Buffer.from(encodeState(first.weights, first.adam)), first.adam.step);
    const actual = (await runEpochs(new HeadTrainer(SHAPE, lr, restored.weights, restored.adam), 1, 3, 0.5)).weights;
    for (let i = 0; i < 4; i++) assert.deepEqual(actual[i], expected[i], `weights[${i}]`);
  });

  test('a resume with the Adam state reset (step 0, zero moments) does NOT match: the state matters', async () => {
    const lr = 0.01;
    const expected = (await runEpochs(fresh(lr), 0, 2, 0.5)).weights;
    const first = await runEpochs(fresh(lr), 0, 1, 0.5);
    const actual = (await runEpochs(new HeadTrainer(SHAPE, lr, first.weights, zeroAdamState(SHAPE)), 1, 2, 0.5)).weights;
    assert.notDeepEqual(Array.from(actual[0]), Array.from(expected[0]));
  });

  test('no tensor leak across trainBatch calls, weights(), adamState() and evaluate', async () => {
    const trainer = new HeadTrainer(SHAPE, 0.01, initHeadArrays(SHAPE, 'leak'), zeroAdamState(SHAPE));
    const x = tf.tensor2d(TRAIN.features.slice(0, 25 * SHAPE.inputDim), [25, SHAPE.inputDim]);
    const y = TRAIN.labels.slice(0, 25);
    const mask = tf.tensor2d(dropoutMask(25, SHAPE.hiddenUnits, 0.5, 'leak'), [25, SHAPE.hiddenUnits]);
    try {
      await trainer.trainBatch(x, y, mask);
      const baseline = tf.memory().numTensors;
      const baselineBytes = tf.memory().numBytes;
      for (let i = 0; i < 5; i++) {
        await trainer.trainBatch(x, y, mask);
        await trainer.weights();
        await trainer.adamState();
        await trainer.evaluate(memoryRows(VAL), 16);
        assert.equal(tf.memory().numTensors, baseline, `after call ${i + 2}`);
        assert.equal(tf.memory().numBytes, baselineBytes, `bytes after call ${i + 2}`);
      }
      // Sanity: the counter does see tensors (12 trainer tensors + x, mask).
      assert.ok(baseline >= 14, `numTensors ${baseline}`);
    } finally {
      tf.dispose([x, mask]);
      const before = tf.memory().numTensors;
      trainer.dispose();
      assert.equal(tf.memory().numTensors, before - 12, 'dispose frees the 4 params and 8 moments');
    }
  });

  test('a step that throws leaves no tensor behind (a failed attempt kept its weights\' copies)', async () => {
    const trainer = new HeadTrainer(SHAPE, 0.01, initHeadArrays(SHAPE, 'throws'), zeroAdamState(SHAPE));
    const x = tf.tensor2d(TRAIN.features.slice(0, 25 * SHAPE.inputDim), [25, SHAPE.inputDim]);
    // A mask of the wrong width: the step fails inside, after the weights were read.
    const mask = tf.ones([25, SHAPE.hiddenUnits + 1]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    await assert.rejects(trainer.trainBatch(x, TRAIN.labels.slice(0, 25), mask));
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, mask]);
    trainer.dispose();
  });
});

/** The loss headGradients differentiates by hand, for autodiff to differentiate as the reference. */
function nllLoss(logProbs: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(logProbs, tf.oneHot(labels, numClasses)), 1))) as tf.Scalar;
}

describe('headGradients', () => {
  test('equal the autodiff gradients of the mean NLL through headForward, with dropout, and its log-probabilities', () => {
    const rows = 25;
    const shapes = headTensorShapes(SHAPE);
    tf.tidy(() => {
      const params = initHeadArrays(SHAPE, 'grads').map((w, i) => tf.tensor(w, shapes[i]));
      const x = tf.tensor2d(TRAIN.features.slice(0, rows * SHAPE.inputDim), [rows, SHAPE.inputDim]);
      const labels = tf.tensor1d(TRAIN.labels.slice(0, rows), 'int32');
      const mask = tf.tensor2d(dropoutMask(rows, SHAPE.hiddenUnits, 0.5, 'grads'), [rows, SHAPE.hiddenUnits]);
      const expected = tf.grads((...p: tf.Tensor[]) => nllLoss(headForward(p, x, mask), labels, SHAPE.numClasses))(params);
      const { logProbs, grads } = headGradients(params, x, TRAIN.labels.slice(0, rows), mask);
      const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
      assert.ok(maxDiff(tf.tensor2d(Float32Array.from(logProbs), [rows, SHAPE.numClasses]), headForward(params, x, mask)) < 1e-5);
      grads.forEach((grad, i) => {
        assert.deepEqual(grad.shape, expected[i].shape, HEAD_TENSOR_NAMES[i]);
        const scale = tf.max(tf.abs(expected[i])).dataSync()[0];
        assert.ok(scale > 1e-4, `${HEAD_TENSOR_NAMES[i]}: the gradient is not trivially zero`);
        assert.ok(maxDiff(grad, expected[i]) < 1e-5 * scale, `${HEAD_TENSOR_NAMES[i]}: ${maxDiff(grad, expected[i])} off (scale ${scale})`);
      });
    });
  });
});

describe('initHeadArrays', () => {
  const shape: HeadShape = { inputDim: 64, hiddenUnits: 32, numClasses: 5 };

  test('shapes follow headTensorShapes', () => {
    const arrays = initHeadArrays(shape, 1);
    const sizes = headTensorShapes(shape).map((s) => s.reduce((a, b) => a * b, 1));
    assert.deepEqual(arrays.map((a) => a.length), sizes);
    assert.deepEqual(sizes, [64 * 32, 32, 32 * 5, 5]);
  });

  test('deterministic for its keys, different for other keys', () => {
    const a = initHeadArrays(shape, SEED, 'trial-1');
    assert.deepEqual(initHeadArrays(shape, SEED, 'trial-1'), a);
    const b = initHeadArrays(shape, SEED, 'trial-2');
    const c = initHeadArrays(shape, SEED + 1, 'trial-1');
    for (let i = 0; i < 4; i++) {
      assert.notDeepEqual(Array.from(b[i]), Array.from(a[i]), `trial key, array ${i}`);
      assert.notDeepEqual(Array.from(c[i]), Array.from(a[i]), `seed key, array ${i}`);
    }
  });

  test('within PyTorch nn.Linear bounds U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and filling them', () => {
    const arrays = initHeadArrays(shape, 'bounds');
    const fanIns = [shape.inputDim, shape.inputDim, shape.hiddenUnits, shape.hiddenUnits];
    arrays.forEach((a, i) => {
      const bound = 1 / Math.sqrt(fanIns[i]);
      let maxAbs = 0;
      let sum = 0;
      for (const v of a) {
        assert.ok(Math.abs(v) <= Math.fround(bound), `array ${i}: ${v} beyond ${bound}`);
        maxAbs = Math.max(maxAbs, Math.abs(v));
        sum += v;
      }
      // Uses the whole range (not a narrower one) and is centred.
      if (a.length >= 32) assert.ok(a.some((v) => v < 0) && a.some((v) => v > 0), `array ${i} is one-signed`);
      if (a.length >= 100) {
        assert.ok(maxAbs > 0.95 * bound, `array ${i}: max |w| ${maxAbs} vs bound ${bound}`);
        assert.ok(Math.abs(sum / a.length) < 0.15 * bound, `array ${i}: mean ${sum / a.length}`);
      }
    });
  });
});

describe('dropoutMask', () => {
  test('rate roughly right, kept units scaled by 1/(1-p)', () => {
    for (const rate of [0.2, 0.5]) {
      const mask = dropoutMask(200, 100, rate, SEED, TRIAL, 0, 0);
      assert.equal(mask.length, 20000);
      const zeros = mask.filter((v) => v === 0).length;
      assert.ok(Math.abs(zeros / mask.length - rate) < 0.02, `rate ${rate}: dropped ${zeros / mask.length}`);
      const keep = Math.fround(1 / (1 - rate));
      assert.ok(mask.every((v) => v === 0 || v === keep), `rate ${rate}: values other than 0 and ${keep}`);
    }
  });

  test('rate 0 keeps everything at scale 1', () => {
    assert.ok(dropoutMask(10, 10, 0, 'k').every((v) => v === 1));
  });

  test('deterministic for its keys; another batch, epoch or trial gets another mask', () => {
    const a = dropoutMask(25, 64, 0.5, SEED, TRIAL, 3, 7);
    assert.deepEqual(dropoutMask(25, 64, 0.5, SEED, TRIAL, 3, 7), a);
    assert.notDeepEqual(dropoutMask(25, 64, 0.5, SEED, TRIAL, 3, 8), a);
    assert.notDeepEqual(dropoutMask(25, 64, 0.5, SEED, TRIAL, 4, 7), a);
    assert.notDeepEqual(dropoutMask(25, 64, 0.5, SEED, 'other', 3, 7), a);
  });
});

describe('evaluateHead', () => {
  test('loss is the mean NLL of its logProbs; predictions are their argmax; batching does not matter', async () => {
    const trainer = new HeadTrainer(SHAPE, 0.01, initHeadArrays(SHAPE, 'eval'), zeroAdamState(SHAPE));
    try {
      const n = VAL.count;
      const full = await trainer.evaluate(memoryRows(VAL));
      const small = await trainer.evaluate(memoryRows(VAL), 7);
      assert.equal(full.logProbs.length, n * SHAPE.numClasses);
      let nll = 0;
      let correct = 0;
      for (let i = 0; i < n; i++) {
        const row = Array.from(full.logProbs.subarray(i * SHAPE.numClasses, (i + 1) * SHAPE.numClasses));
        nll -= row[VAL.labels[i]];
        const argmax = row.indexOf(Math.max(...row));
        assert.equal(full.predictions[i], argmax, `row ${i}`);
        if (argmax === VAL.labels[i]) correct++;
        // Log-probabilities: exp sums to 1.
        assert.ok(Math.abs(row.reduce((s, v) => s + Math.exp(v), 0) - 1) < 1e-5, `row ${i} not normalised`);
      }
      assert.ok(Math.abs(full.loss - nll / n) < 1e-9, `${full.loss} vs ${nll / n}`);
      assert.equal(full.accuracy, correct / n);
      assert.ok(full.loss > 0);
      assert.deepEqual(small.predictions, full.predictions);
      assert.ok(Math.abs(small.loss - full.loss) < 1e-6);
      for (let i = 0; i < full.logProbs.length; i++) assert.ok(Math.abs(small.logProbs[i] - full.logProbs[i]) < 1e-5);
    } finally {
      trainer.dispose();
    }
  });

  test('logProbs match a plain-JS forward pass (no dropout in eval mode)', async () => {
    const weights = initHeadArrays(SHAPE, 'js-forward');
    const trainer = new HeadTrainer(SHAPE, 0.01, weights, zeroAdamState(SHAPE));
    try {
      const n = 9;
      const out = await trainer.evaluate(memoryRows({ count: n, dim: SHAPE.inputDim, labels: VAL.labels.subarray(0, n), features: VAL.features.subarray(0, n * SHAPE.inputDim) }), 4);
      const [w1, b1, w2, b2] = weights;
      const { inputDim: D, hiddenUnits: H, numClasses: C } = SHAPE;
      for (let i = 0; i < n; i++) {
        const hidden = Array.from({ length: H }, (_, h) => {
          let s = b1[h];
          for (let d = 0; d < D; d++) s += VAL.features[i * D + d] * w1[d * H + h];
          return Math.max(0, s);
        });
        const logits = Array.from({ length: C }, (_, c) => hidden.reduce((s, v, h) => s + v * w2[h * C + c], b2[c]));
        const max = Math.max(...logits);
        const lse = max + Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0));
        for (let c = 0; c < C; c++) {
          assert.ok(Math.abs(out.logProbs[i * C + c] - (logits[c] - lse)) < 1e-4, `row ${i} class ${c}: ${out.logProbs[i * C + c]} vs ${logits[c] - lse}`);
        }
      }
    } finally {
      trainer.dispose();
    }
  });
});

describe('checkpoint state encoding (activities/train.ts)', () => {
  function state(shape: HeadShape, key: string): { weights: HeadArrays; adam: AdamState } {
    const weights = initHeadArrays(shape, key, 'w');
    const m = initHeadArrays(shape, key, 'm');
    const v = initHeadArrays(shape, key, 'v').map((a) => a.map((x) => x * x)) as HeadArrays;
    return { weights, adam: { step: 17, firstMoment: m, secondMoment: v } };
  }

  test('encodeState -> decodeState round-trips every array exactly', () => {
    const shape: HeadShape = { inputDim: 10, hiddenUnits: 6, numClasses: 4 };
    const s = state(shape, 'rt');
    s.weights[0][0] = -0;
    s.weights[1][2] = 1e-40; // subnormal
    const bytes = encodeState(s.weights, s.adam);
    const sizes = headTensorShapes(shape).map((x) => x.reduce((a, b) => a * b, 1));
    assert.equal(bytes.byteLength, 3 * 4 * sizes.reduce((a, b) => a + b, 0));
    const back = decodeState(shape, bytes, 17);
    assert.equal(back.adam.step, 17);
    assertArraysIdentical(back.weights, s.weights, 'weights');
    assertArraysIdentical(back.adam.firstMoment, s.adam.firstMoment, 'm');
    assertArraysIdentical(back.adam.secondMoment, s.adam.secondMoment, 'v');
    assert.ok(Object.is(back.weights[0][0], -0));
    // Arrays come back with their own shapes and types.
    assert.deepEqual(back.weights.map((a) => a.length), sizes);
    assert.ok(back.adam.secondMoment.every((a) => a instanceof Float32Array));
  });

  test('decodes from a Buffer slice at an odd offset (as an S3 body may arrive)', () => {
    const shape: HeadShape = { inputDim: 3, hiddenUnits: 2, numClasses: 2 };
    const s = state(shape, 'offset');
    const bytes = encodeState(s.weights, s.adam);
    const big = Buffer.alloc(bytes.byteLength + 5);
    big.set(bytes, 1);
    const back = decodeState(shape, big.subarray(1, 1 + bytes.byteLength), 3);
    assertArraysIdentical(back.weights, s.weights, 'weights');
    assertArraysIdentical(back.adam.secondMoment, s.adam.secondMoment, 'v');
  });

  test("a trial's head is stored as its weights alone, the first third of its state; heads stored whole before still decode", () => {
    const shape: HeadShape = { inputDim: 10, hiddenUnits: 6, numClasses: 4 };
    const s = state(shape, 'head');
    const full = encodeState(s.weights, s.adam);
    const head = encodeHeadWeights(s.weights);
    assert.equal(head.byteLength * 3, full.byteLength);
    assert.ok(Buffer.from(headWeightsBytes(shape, full)).equals(Buffer.from(head)), 'the weights part of a state is the head');
    assertArraysIdentical(decodeHeadWeights(shape, head), s.weights, 'weights alone');
    assertArraysIdentical(decodeHeadWeights(shape, full), s.weights, 'a whole state, as heads were stored before');
    assert.throws(() => decodeHeadWeights({ ...shape, hiddenUnits: 7 }, head), /the head's weights hold \d+ values, the head needs \d+/);
  });

  test('a checkpoint for another head shape is refused', () => {
    const shape: HeadShape = { inputDim: 10, hiddenUnits: 6, numClasses: 4 };
    const s = state(shape, 'shape');
    const bytes = encodeState(s.weights, s.adam);
    assert.throws(() => decodeState({ ...shape, hiddenUnits: 7 }, bytes, 1), /checkpoint holds \d+ values, the head needs \d+/);
    assert.throws(() => decodeState(shape, bytes.subarray(0, bytes.byteLength - 4), 1), /checkpoint holds/);
  });
});
