// Does ImageNet pretraining matter? The demo sweep (examples/demo-sweep.json: data, split,
// augmentation, head grid) run twice through the real engine: once on EfficientNet-Lite0 with its
// ImageNet weights, once on the same architecture randomly initialised. Prints and writes both
// leaderboards' numbers.
//
//   npx tsx bench/pretrained-vs-random.ts [--size N] [--out .data/pretrained-vs-random]
//
// --size replaces the demo's image.size (and scales image.resize with it).
//
// Needs the local stack (bash infra/stack-up.sh) and the fetched backbone (bash backbones/fetch-efficientnet-lite0.sh).
// Workers run in this process on task queues of their own. Results: <out>/results-<size>.json and .md.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateFlowerDataset } from '../demo/generate-flowers';
import { randomStream } from '../lib/random';
import { parseSweepSpec } from '../lib/sweep-spec';
import { loadHandler, saveHandler } from '../model/model-io';
import { modelLocation } from '../model/backbone';
import { initTensorflow } from '../model/tf-backend';
import { REPO_ROOT, loadStackEnv } from '../platform/config';
import { createWorkers } from '../workers/run-workers';
import { connectClient } from '../platform/temporal-connection';
import { sweepWorkflow } from '../workflows';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const OUT = path.resolve(REPO_ROOT, option('out', '.data/pretrained-vs-random'));
const DEMO = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples', 'demo-sweep.json'), 'utf8'));
const DATA = path.resolve(REPO_ROOT, DEMO.data.source);
const SIZE = Number(option('size', String(DEMO.image.size)));
const RANDOM_SEED = 1;

/** The demo sweep but for its name, backbone, task queues and (with --size) image size. */
function benchSpec(name: string, backbone: Record<string, unknown>, queues: { cpu: string; gpu: string }) {
  return {
    ...DEMO,
    name,
    data: { ...DEMO.data, source: DATA },
    image: { size: SIZE, resize: Math.round(SIZE * DEMO.image.resize / DEMO.image.size) },
    backbone,
    taskQueues: queues,
  };
}

/**
 * EfficientNet-Lite0's architecture with fresh weights, as a freshly built network has them:
 * convolutions He-normal over fan-out (EfficientNet's own initialiser), batch norm the identity
 * (gamma 1, beta 0, moving mean 0, variance 1). Seeded, so the same file every time.
 */
async function randomEfficientNet(outDir: string): Promise<string> {
  const modelJson = path.join(outDir, 'model.json');
  if (fs.existsSync(modelJson)) return modelJson;
  const model = await tf.loadLayersModel(loadHandler(modelLocation({ uri: 'catalogue:efficientnet-lite0' })));
  const random = randomStream('random-efficientnet-lite0', RANDOM_SEED);
  const normal = (n: number, std: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return out;
  };
  for (const layer of model.layers) {
    const fresh = layer.weights.map((w) => {
      const shape = w.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const kind = w.name.split('/').pop()!;
      if (kind === 'gamma' || kind === 'moving_variance') return tf.ones(shape);
      if (kind === 'beta' || kind === 'moving_mean' || kind === 'bias') return tf.zeros(shape);
      if (kind === 'kernel' && shape.length === 2) return tf.tensor(normal(size, 1 / Math.sqrt(shape[1])), shape);
      // conv [kh, kw, in, out] and depthwise [kh, kw, C, 1]: fan-out = kh * kw * last dim.
      if (kind === 'kernel' || kind === 'depthwise_kernel') return tf.tensor(normal(size, Math.sqrt(2 / (shape[0] * shape[1] * shape[3]))), shape);
      throw new Error(`no initialiser for weight ${w.name}`);
    });
    if (fresh.length) layer.setWeights(fresh);
    tf.dispose(fresh);
  }
  await model.save(saveHandler(outDir));
  model.dispose();
  return modelJson;
}

interface Outcome {
  backbone: string;
  sweepId: string;
  best: { run: number; params: Record<string, unknown>; valAccuracy?: number; testAccuracy?: number };
  trials: Array<{ run: number; params: Record<string, unknown>; valAccuracy?: number; testAccuracy?: number }>;
  meanTestAccuracy: number;
  seconds: number;
}

async function main(): Promise<void> {
  loadStackEnv();
  await initTensorflow();
  fs.mkdirSync(OUT, { recursive: true });
  console.log(`demo flowers in ${DATA}`);
  await generateFlowerDataset({ outDir: DATA });
  const randomUri = await randomEfficientNet(path.join(OUT, 'efficientnet-lite0-random'));
  console.log(`random-weight EfficientNet-Lite0: ${randomUri}`);

  const queues = { cpu: `bench-cpu-${process.pid}`, gpu: `bench-gpu-${process.pid}` };
  const workers = await createWorkers(['cpu', 'gpu'], { cpuQueue: queues.cpu, gpuQueue: queues.gpu });
  const running = workers.map((w) => w.run());
  const client = await connectClient();
  const outcomes: Outcome[] = [];
  const specs = [
    benchSpec('flowers-lite0-pretrained', { name: 'efficientnet-lite0' }, queues),
    benchSpec('flowers-lite0-random', { name: 'efficientnet-lite0', uri: randomUri }, queues),
  ];
  try {
    for (const spec of specs) {
      parseSweepSpec(spec);
      const sweepId = `${spec.name}-${Date.now().toString(36)}`;
      const began = Date.now();
      console.log(`\nsweep ${sweepId} (${JSON.stringify(spec.backbone)}) ...`);
      const board = await client.workflow.execute(sweepWorkflow, { taskQueue: queues.cpu, workflowId: sweepId, args: [spec] });
      const trials = board.ranked.map((t) => ({ run: t.run, params: t.params, valAccuracy: t.valAccuracy, testAccuracy: t.test?.accuracy }));
      const outcome: Outcome = {
        backbone: spec.name.endsWith('random') ? 'EfficientNet-Lite0, random weights' : 'EfficientNet-Lite0, ImageNet weights',
        sweepId,
        best: trials[0],
        trials,
        meanTestAccuracy: trials.reduce((s, t) => s + (t.testAccuracy ?? 0), 0) / trials.length,
        seconds: (Date.now() - began) / 1000,
      };
      outcomes.push(outcome);
      console.log(`  best run ${outcome.best.run}: val ${pct(outcome.best.valAccuracy)}, test ${pct(outcome.best.testAccuracy)}; mean test over ${trials.length} trials ${pct(outcome.meanTestAccuracy)} (${outcome.seconds.toFixed(0)} s)`);
    }
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
    await client.connection.close();
  }
  const table = [
    '| backbone | best trial (by val) | val accuracy | test accuracy | mean test accuracy, all trials | sweep time |',
    '|---|---|---|---|---|---|',
    ...outcomes.map((o) => `| ${o.backbone} | run ${o.best.run} ${JSON.stringify(o.best.params)} | ${pct(o.best.valAccuracy)} | ${pct(o.best.testAccuracy)} | ${pct(o.meanTestAccuracy)} | ${o.seconds.toFixed(0)} s |`),
  ].join('\n');
  fs.writeFileSync(path.join(OUT, `results-${SIZE}.json`), JSON.stringify({ specs, outcomes }, null, 2));
  fs.writeFileSync(path.join(OUT, `results-${SIZE}.md`), table + '\n');
  console.log(`\n${table}\n\nwritten: ${path.join(OUT, `results-${SIZE}.json`)}`);
}

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
