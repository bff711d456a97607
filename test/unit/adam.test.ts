// model/adam.ts: both stores compute Adam as PyTorch defines it (checked against a double-precision
// reference), and on TensorFlow the fused store (ResourceApplyAdam) trains a head exactly as the
// op-by-op store does, resumes bit for bit from its checkpointed state, and frees its variables.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ADAM, AdamStore, FusedAdamStore, TensorAdamStore, adamStepScalars } from '../../model/adam';
import { HeadShape, HeadTrainer, dropoutMask, initHeadArrays, zeroAdamState } from '../../model/head';
import { randomStream } from '../../lib/random';
import { requireTfjsNode } from '../../model/tf-backend';

// Before TensorFlow loads: its C++ start-up chatter is noise in test output.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

let tensorflowMissing: string | false = false;
before(async () => {
  try {
    requireTfjsNode();
  } catch (error) {
    tensorflowMissing = `tfjs-node is not built here (bash infra/setup-tfjs-node.sh): ${(error as Error).message.split('\n')[0]}`;
  }
});

const SHAPES = [[6, 5], [5]];
const LR = 0.01;
const STEPS = 4;

function values(n: number, key: string): Float32Array {
  const random = randomStream('adam-test', key);
  return Float32Array.from({ length: n }, () => random() * 2 - 1);
}

const sizes = SHAPES.map((s) => s.reduce((a, b) => a * b, 1));
const initial = sizes.map((n, i) => values(n, `w${i}`));
const gradients = Array.from({ length: STEPS }, (_, t) => sizes.map((n, i) => values(n, `g${t}.${i}`)));

/** Adam exactly as torch.optim.Adam writes it, in double precision. */
function referenceAdam(): number[][] {
  const w = initial.map((a) => Array.from(a));
  const m = sizes.map((n) => new Array<number>(n).fill(0));
  const v = sizes.map((n) => new Array<number>(n).fill(0));
  gradients.forEach((grads, step) => {
    const t = step + 1;
    grads.forEach((g, i) => g.forEach((gj, j) => {
      m[i][j] = ADAM.beta1 * m[i][j] + (1 - ADAM.beta1) * gj;
      v[i][j] = ADAM.beta2 * v[i][j] + (1 - ADAM.beta2) * gj * gj;
      const mHat = m[i][j] / (1 - ADAM.beta1 ** t);
      const vHat = v[i][j] / (1 - ADAM.beta2 ** t);
      w[i][j] -= (LR * mHat) / (Math.sqrt(vHat) + ADAM.epsilon);
    }));
  });
  return w;
}

async function runStore(store: AdamStore): Promise<Float32Array[]> {
  gradients.forEach((grads, step) => {
    const tensors = grads.map((g, i) => tf.tensor(g, SHAPES[i]));
    const { lrT, epsT } = adamStepScalars(LR, step + 1);
    store.update(tensors, lrT, epsT);
    tf.dispose(tensors);
  });
  const read = store.read();
  const out = (await Promise.all(read.map((t) => t.data()))) as Float32Array[];
  tf.dispose(read);
  store.dispose();
  return out;
}

function assertClose(actual: ArrayLike<number>[], expected: ArrayLike<number>[], tolerance: number): void {
  actual.forEach((a, i) => Array.from(a).forEach((x, j) => {
    assert.ok(Math.abs(x - expected[i][j]) <= tolerance, `tensor ${i}[${j}]: ${x} vs ${expected[i][j]}`);
  }));
}

const fresh = () => ({ shapes: SHAPES, weights: initial, first: sizes.map((n) => new Float32Array(n)), second: sizes.map((n) => new Float32Array(n)) });

describe('Adam stores', () => {
  test('the op-by-op store computes torch.optim.Adam (cpu backend)', async () => {
    await tf.setBackend('cpu');
    assertClose(await runStore(new TensorAdamStore(fresh())), referenceAdam(), 1e-6);
  });

  test('the fused store (TensorFlow ResourceApplyAdam) computes torch.optim.Adam and the same as the op-by-op store', async (t) => {
    if (tensorflowMissing) return t.skip(tensorflowMissing);
    await tf.setBackend('tensorflow');
    const fused = await runStore(new FusedAdamStore(fresh()));
    assertClose(fused, referenceAdam(), 1e-6);
    assertClose(fused, await runStore(new TensorAdamStore(fresh())), 1e-6);
    // The moments come back too (what a checkpoint stores).
    const store = new FusedAdamStore(fresh());
    const g = gradients[0].map((a, i) => tf.tensor(a, SHAPES[i]));
    store.update(g, ...Object.values(adamStepScalars(LR, 1)) as [number, number]);
    const { first, second } = await store.moments();
    assertClose(first, gradients[0].map((a) => Array.from(a, (x) => (1 - ADAM.beta1) * x)), 1e-7);
    assertClose(second, gradients[0].map((a) => Array.from(a, (x) => (1 - ADAM.beta2) * x * x)), 1e-7);
    tf.dispose(g);
    store.dispose();
  });

  test('a value read before an update keeps its value (copy-on-write), and nothing leaks', async (t) => {
    if (tensorflowMissing) return t.skip(tensorflowMissing);
    await tf.setBackend('tensorflow');
    const before = tf.memory().numTensors;
    const store = new FusedAdamStore(fresh());
    const read = store.read();
    const g = gradients[0].map((a, i) => tf.tensor(a, SHAPES[i]));
    store.update(g, ...Object.values(adamStepScalars(LR, 1)) as [number, number]);
    assert.deepEqual(await read[0].data(), initial[0]);
    const after = store.read();
    assert.notDeepEqual(await after[0].data(), initial[0]);
    tf.dispose([...read, ...after, ...g]);
    store.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('a store that cannot be made (a moment of the wrong size) frees the tensors it had made', async (t) => {
    const broken = () => {
      const initial = fresh();
      initial.second[1] = new Float32Array(sizes[1] + 1);
      return initial;
    };
    const stores: Array<[string, () => AdamStore]> = [['cpu', () => new TensorAdamStore(broken())]];
    if (!tensorflowMissing) stores.push(['tensorflow', () => new FusedAdamStore(broken())]);
    else t.diagnostic(`fused store not tried: ${tensorflowMissing}`);
    for (const [backend, make] of stores) {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      assert.throws(make);
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors left behind`);
    }
  });
});

describe('HeadTrainer on TensorFlow (fused Adam)', () => {
  const shape: HeadShape = { inputDim: 12, hiddenUnits: 16, numClasses: 3 };
  const rows = 20;
  const random = randomStream('adam-test', 'data');
  const features = Float32Array.from({ length: 6 * rows * shape.inputDim }, () => random() * 2 - 1);
  const labels = Int32Array.from({ length: 6 * rows }, (_, i) => i % shape.numClasses);

  async function train(trainer: HeadTrainer, batches: number[]): Promise<number[]> {
    const losses = [];
    for (const b of batches) {
      const x = tf.tensor2d(features.subarray(b * rows * shape.inputDim, (b + 1) * rows * shape.inputDim), [rows, shape.inputDim]);
      const mask = tf.tensor2d(dropoutMask(rows, shape.hiddenUnits, 0.3, 'adam-test', b), [rows, shape.hiddenUnits]);
      losses.push((await trainer.trainBatch(x, labels.subarray(b * rows, (b + 1) * rows), mask)).lossSum);
      tf.dispose([x, mask]);
    }
    return losses;
  }

  test('trains like the op-by-op store, and resumes bit for bit from weights + Adam state', async (t) => {
    if (tensorflowMissing) return t.skip(tensorflowMissing);
    await tf.setBackend('tensorflow');
    const init = initHeadArrays(shape, 'adam-test');
    const straight = new HeadTrainer(shape, 0.01, init, zeroAdamState(shape));
    const straightLosses = await train(straight, [0, 1, 2, 3, 4, 5]);
    const first = new HeadTrainer(shape, 0.01, init, zeroAdamState(shape));
    await train(first, [0, 1, 2]);
    const second = new HeadTrainer(shape, 0.01, await first.weights(), await first.adamState());
    first.dispose();
    const resumedLosses = await train(second, [3, 4, 5]);
    assert.deepEqual(resumedLosses, straightLosses.slice(3));
    const fusedWeights = await straight.weights();
    assert.deepEqual(await second.weights(), fusedWeights);
    straight.dispose();
    second.dispose();

    // The same run with the op-by-op store, on the same backend: the same head within float rounding.
    await tf.setBackend('cpu');
    const portable = new HeadTrainer(shape, 0.01, init, zeroAdamState(shape));
    const portableLosses = await train(portable, [0, 1, 2, 3, 4, 5]);
    assertClose(await portable.weights(), fusedWeights, 1e-5);
    portableLosses.forEach((loss, i) => assert.ok(Math.abs(loss - straightLosses[i]) < 1e-4, `batch ${i}: ${loss} vs ${straightLosses[i]}`));
    portable.dispose();
  });
});
