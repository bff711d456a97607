// One measurement of `npm run bench`, in its own process so that its peak memory is its own and no
// backend or cache state leaks between measurements. bench/run.ts starts it with a JSON task and reads
// the last stdout line that starts with RESULT_PREFIX.
import fs from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { SplitManifest } from '../lib/manifest';
import { SplitSummary, TrialInput, TrialPlan } from '../lib/sweep-types';
import { imageReader } from '../platform/image-store';
import { getJson } from '../platform/storage';
import { mapBounded } from '../lib/bounded';
import { acquireBackbone } from '../model/backbone';
import { HeadTrainer, dropoutMask, headGradients, headTensorShapes, initHeadArrays, zeroAdamState } from '../model/head';
import { initTensorflow } from '../model/tf-backend';
import { extractAll, trainAll } from './product';
import { BackboneMeter, computeFeatures, referenceTrial } from './reference';
import { BenchConfig, benchSpec, inActivity } from './setup';
import { FloorTrial, floorInput, floorRun } from './floor';
import { SweepSpec } from '../lib/sweep-spec';

export const RESULT_PREFIX = 'BENCH_RESULT ';

export type Task =
  | { kind: 'peak'; seconds: number }
  | { kind: 'engine'; config: BenchConfig; dataDir: string; seconds: number }
  | { kind: 'product'; config: BenchConfig; dataDir: string; split: SplitSummary; grid: string; views: number; sweepId: string }
  | { kind: 'reference'; spec: SweepSpec; split: SplitSummary; plans: TrialPlan[] }
  | { kind: 'floor'; spec: SweepSpec; split: SplitSummary; trials: FloorTrial[] };

/** Matmul FLOPs of one head step: forward 2BDH + 2BHC, backward (weights and hidden) 2BDH + 4BHC. */
export function headStepFlops(rows: number, shape: { inputDim: number; hiddenUnits: number; numClasses: number }): number {
  return 4 * rows * shape.inputDim * shape.hiddenUnits + 6 * rows * shape.hiddenUnits * shape.numClasses;
}

export interface HeadMeter { steps: number; rows: number; flops: number; busySeconds: number }

/**
 * Times every HeadTrainer.trainBatch in this process (as the union of busy intervals, since the
 * product trains trials concurrently) and counts its FLOPs: the head's share of either method.
 */
function meterHeadSteps(): HeadMeter {
  const meter: HeadMeter = { steps: 0, rows: 0, flops: 0, busySeconds: 0 };
  const original = HeadTrainer.prototype.trainBatch;
  let active = 0;
  let since = 0;
  HeadTrainer.prototype.trainBatch = async function (this: HeadTrainer, x, labels, mask) {
    if (active++ === 0) since = performance.now();
    try {
      return await original.call(this, x, labels, mask);
    } finally {
      if (--active === 0) meter.busySeconds += (performance.now() - since) / 1000;
      meter.steps += 1;
      meter.rows += x.shape[0];
      meter.flops += headStepFlops(x.shape[0], this.shape);
    }
  };
  return meter;
}

async function peak(seconds: number) {
  const backend = await initTensorflow();
  const rate = (a: tf.Tensor2D, b: tf.Tensor2D) => {
    const flops = 2 * a.shape[0] * a.shape[1] * b.shape[1];
    // Not tf.tidy(() => ....dataSync()): tidy walks the returned array element by element.
    const once = () => {
      const began = performance.now();
      const product = tf.matMul(a, b);
      product.dataSync();
      product.dispose();
      return flops / ((performance.now() - began) / 1000) / 1e9;
    };
    once();
    let best = 0;
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) best = Math.max(best, once());
    return best;
  };
  const square: Record<number, number> = {};
  for (const n of [512, 1024, 2048]) {
    const [a, b] = [tf.randomNormal([n, n]) as tf.Tensor2D, tf.randomNormal([n, n]) as tf.Tensor2D];
    square[n] = rate(a, b);
    tf.dispose([a, b]);
  }
  // The head's own first matmul at batch 25: what the hardware gives at that shape.
  const [x, w] = [tf.randomNormal([25, 1280]) as tf.Tensor2D, tf.randomNormal([1280, 512]) as tf.Tensor2D];
  const headShaped = rate(x, w);
  tf.dispose([x, w]);
  // Cost of one small op: the per-op dispatch overhead that dominates small batches.
  const [u, v] = [tf.ones([512]), tf.ones([512])];
  for (let i = 0; i < 200; i++) tf.add(u, v).dispose();
  const began = performance.now();
  for (let i = 0; i < 2000; i++) tf.add(u, v).dispose();
  const opMicros = ((performance.now() - began) / 2000) * 1000;
  return { backend: backend.name, peakGflops: Math.max(...Object.values(square)), square, headShapedGflops: headShaped, opMicros, headSteps: await headSteps(seconds) };
}

/**
 * HeadTrainer.trainBatch alone (random data, 1280-d features, 4 classes) at the grid's batch size and
 * larger, and one 16x wider head: what a step costs, and how much of it is fixed per-op overhead.
 */
async function headSteps(seconds: number) {
  const out = [];
  for (const [rows, hiddenUnits] of [[25, 512], [50, 512], [100, 512], [25, 16 * 512]]) {
    const shape = { inputDim: 1280, hiddenUnits, numClasses: 4 };
    const trainer = new HeadTrainer(shape, 0.001, initHeadArrays(shape, 'bench'), zeroAdamState(shape));
    const x = tf.randomNormal([rows, 1280]) as tf.Tensor2D;
    const y = Int32Array.from({ length: rows }, (_, i) => i % 4);
    const mask = tf.tensor2d(dropoutMask(rows, hiddenUnits, 0.5, 'bench'), [rows, hiddenUnits]);
    await trainer.trainBatch(x, y, mask);
    let steps = 0;
    const began = performance.now();
    while (performance.now() - began < seconds * 1000 || steps < 3) {
      await trainer.trainBatch(x, y, mask);
      steps += 1;
    }
    const msPerStep = (performance.now() - began) / steps;
    // The same step without the Adam update: forward, loss and gradients only.
    // Ops run eagerly when called (TensorFlow, wasm and cpu backends), so returning is finishing.
    const params = (await trainer.weights()).map((w, i) => tf.tensor(w, headTensorShapes(shape)[i]));
    const gradients = () => tf.dispose(headGradients(params, x, y, mask).grads);
    gradients();
    let gradSteps = 0;
    const gradBegan = performance.now();
    while (performance.now() - gradBegan < seconds * 500 || gradSteps < 3) {
      gradients();
      gradSteps += 1;
    }
    const msGradients = (performance.now() - gradBegan) / gradSteps;
    out.push({ rows, hiddenUnits, msPerStep, msGradients, gflops: headStepFlops(rows, shape) / (msPerStep / 1000) / 1e9 });
    tf.dispose([x, mask, ...params]);
    trainer.dispose();
  }
  return out;
}

/** Forward-pass throughput of the backbone as the product loads it (engine and backend from the environment). */
async function engine(config: BenchConfig, dataDir: string, seconds: number) {
  const backend = await initTensorflow();
  const spec = benchSpec(config, dataDir, { hidden_units: [256] });
  const { backbone } = await acquireBackbone(spec.backbone);
  const size = spec.image.size;
  const x = tf.randomUniform([16, size, size, 3], -1, 1) as tf.Tensor4D;
  await backbone.embed(x);
  let images = 0;
  const began = performance.now();
  while (performance.now() - began < seconds * 1000 || images === 0) {
    await backbone.embed(x);
    images += 16;
  }
  x.dispose();
  return { backend: backend.name, engine: backbone.engine, imageSize: size, batch: 16, imagesPerSecond: images / ((performance.now() - began) / 1000) };
}

async function product(task: Extract<Task, { kind: 'product' }>) {
  const backend = await initTensorflow();
  const spec = benchSpec(task.config, task.dataDir, task.config.grids.find((g) => g.name === task.grid)!.grid, task.views);
  const head = meterHeadSteps();
  const began = performance.now();
  const cpu = process.cpuUsage();
  const features = await extractAll(spec, task.split);
  const extracted = performance.now();
  const extractCpu = cpuSeconds(cpu);
  const trials = await trainAll(spec, task.split, features, task.sweepId);
  const ended = performance.now();
  const plans = trials.map((t) => t.plan);
  return {
    backend: backend.name,
    engine: (await acquireBackbone(spec.backbone)).backbone.engine,
    wallSeconds: (ended - began) / 1000,
    cpuSeconds: cpuSeconds(cpu),
    extractCpuSeconds: extractCpu,
    extractSeconds: (extracted - began) / 1000,
    trainSeconds: (ended - extracted) / 1000,
    backboneImages: features.images,
    views: features.train.length,
    trials: trials.map(({ plan, ...result }) => ({ trialId: plan.trialId, run: plan.run, params: plan.params, ...result })),
    plans,
    head,
  };
}

/** The split's image bytes in memory (the most favourable case for the in-process methods), loaded before any clock starts. */
export async function loadImages(splitKey: string): Promise<{ split: SplitManifest; images: Map<string, Buffer> }> {
  const split = await getJson<SplitManifest>(splitKey);
  const images = new Map<string, Buffer>();
  const hashes = [...new Set([...split.train, ...split.val, ...split.test].map((s) => s.sha256))];
  const readImage = await imageReader(split.datasetId);
  await mapBounded(hashes, 16, async (sha) => { images.set(sha, await readImage(sha)); });
  return { split, images };
}

async function reference(task: Extract<Task, { kind: 'reference' }>) {
  const backend = await initTensorflow();
  const { spec } = task;
  const { split, images } = await loadImages(task.split.splitKey);
  const head = meterHeadSteps();
  const meter: BackboneMeter = { images: 0, seconds: 0 };
  const began = performance.now();
  const cpu = process.cpuUsage();
  const { backbone } = await acquireBackbone(spec.backbone);
  const featureDim = (await computeFeatures(backbone, spec, images, split.val.slice(0, 1), 'eval')).length;
  const trials = [];
  for (const plan of task.plans) {
    const trialBegan = performance.now();
    const trialCpu = process.cpuUsage();
    const before = { images: meter.images, ...head };
    // The reference has no cached features: trainEpoch reads the plan and the seed, the refs only carry the dimension.
    const input: TrialInput = {
      sweepId: 'bench-reference', trial: plan, train: [], val: { id: '', shards: 0, rows: 0, dim: featureDim }, test: { id: '', shards: 0, rows: 0, dim: featureDim },
      splitKey: task.split.splitKey, seed: spec.seed, reuse: false, heartbeatTimeoutSeconds: spec.heartbeatTimeoutSeconds,
    };
    // trainEpoch heartbeats and checks for cancellation through the activity Context, so it runs in a mocked one.
    const result = await inActivity(referenceTrial, backbone, featureDim, spec, images, split, input, meter);
    trials.push({
      run: plan.run, params: plan.params, ...result,
      // Per trial, so that a subset of the grid (the 4-trial grid is in the 16) can be read off this run.
      wallSeconds: (performance.now() - trialBegan) / 1000,
      cpuSeconds: cpuSeconds(trialCpu),
      backboneImages: meter.images - before.images,
      head: { steps: head.steps - before.steps, rows: head.rows - before.rows, flops: head.flops - before.flops, busySeconds: head.busySeconds - before.busySeconds },
    });
  }
  const wallSeconds = (performance.now() - began) / 1000;
  return { backend: backend.name, engine: backbone.engine, wallSeconds, cpuSeconds: cpuSeconds(cpu), backboneImages: meter.images, backboneSeconds: meter.seconds, trials, head };
}

async function floor(task: Extract<Task, { kind: 'floor' }>) {
  await initTensorflow();
  const { spec } = task;
  const { split, images } = await loadImages(task.split.splitKey);
  const began = performance.now();
  const { backbone } = await acquireBackbone(spec.backbone);
  const loaded = performance.now();
  const result = await floorRun(backbone, spec, images, split, task.trials, floorInput('bench-floor', spec, task.split));
  // Cold: the backbone loaded and the features computed; warm: the heads alone.
  return { ...result, backboneLoadSeconds: (loaded - began) / 1000, coldSeconds: (performance.now() - began) / 1000 };
}

/**
 * CPU seconds of this process (all threads) since `since`. The machine is shared, so wall time moves
 * with other people's load; CPU time much less.
 */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

async function main(): Promise<void> {
  const task = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as Task;
  // The machine is shared: the load around a measurement says how much to trust its wall time.
  const loadBefore = os.loadavg()[0];
  const result = task.kind === 'peak' ? await peak(task.seconds)
    : task.kind === 'engine' ? await engine(task.config, task.dataDir, task.seconds)
      : task.kind === 'product' ? await product(task)
        : task.kind === 'reference' ? await reference(task)
          : await floor(task);
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ ...result, maxRssMiB, load: [loadBefore, os.loadavg()[0]] })}\n`);
}

if (require.main === module) {
  main().then(() => process.exit(0), (error) => {
    console.error(error);
    process.exit(1);
  });
}
