// `npm run bench [-- --quick] [--search]`: the search benchmark (bench/search.ts; alone with --search), and the reference method (backbone recomputed per image, per epoch, per
// trial) against this product's (features computed once per view and cached, heads trained on them),
// on the same demo data, backbone (EfficientNet-Lite0) and backend, for the reference's 4-trial grid
// and a 16-trial grid; plus the capped-views run, the matmul peak and the backbone engines. Each
// measurement runs in its own child process (bench/child.ts), so peak memory is per method.
// Needs the local stack (MinIO) and the fetched backbone; uses a bucket of its own, deleted at the end.
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { s3 } from '../platform/s3-store';
import { SplitSummary, TrialPlan } from '../lib/sweep-types';
import { REPO_ROOT, loadStackEnv } from '../platform/config';
import { HeadMeter, RESULT_PREFIX, Task } from './child';
import { runSearchBench, searchPlot, searchReport } from './search';
import { ensureBucket } from '../infra/create-bucket';
import { artifactBucket } from '../platform/storage';
import { HEAD_TRAINING_NODE_FLAGS } from '../workers/run-workers';
import { BACKBONE_DIR, BenchConfig, benchConfig, benchSpec, deletePrefix, prepareData } from './setup';

interface TrialRow { trialId: string; run: number; params: Record<string, unknown>; valAccuracy: number; testAccuracy: number }
/** The reference measures each trial on its own, so a sub-grid's figures can be summed from them. */
interface ReferenceTrialRow extends TrialRow { wallSeconds: number; cpuSeconds: number; backboneImages: number; head: HeadMeter }
interface MethodResult {
  backend: string; engine: string; wallSeconds: number; cpuSeconds: number; backboneImages: number; maxRssMiB: number;
  /** 1-minute load average when the measurement started and ended (this machine has 2 cores). */
  load: [number, number];
  trials: TrialRow[]; head: HeadMeter; extractSeconds?: number; extractCpuSeconds?: number; trainSeconds?: number; views?: number; backboneSeconds?: number;
  /** The product's trial plans, which the reference then trains (same trial ids, so the same keyed draws). */
  plans?: TrialPlan[];
}
interface PeakResult {
  backend: string; peakGflops: number; square: Record<string, number>; headShapedGflops: number; opMicros: number; maxRssMiB: number;
  headSteps: Array<{ rows: number; hiddenUnits: number; msPerStep: number; msGradients: number; gflops: number }>;
}
interface EngineResult { backend: string; engine: string; imageSize: number; imagesPerSecond: number }

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-bench-'));
let taskCount = 0;

/** Runs one measurement in a child process; its stderr is shown only when it fails. */
function runChild<R>(task: Task, env: Record<string, string> = {}): Promise<R> {
  const file = path.join(work, `task-${++taskCount}.json`);
  fs.writeFileSync(file, JSON.stringify(task));
  // With the flags the sweeps' GPU worker processes get: the yardsticks train and embed as they do (it makes them faster too).
  const child = spawn(process.execPath, [...process.execArgv, ...HEAD_TRAINING_NODE_FLAGS, path.join(__dirname, 'child.ts'), file], {
    env: { ...process.env, SWEEP_CACHE_DIR: path.join(work, `cache-${taskCount}`), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      const line = stdout.split('\n').reverse().find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as R);
      else reject(new Error(`bench child (${task.kind}) exited with ${code}:\n${(stdout + stderr).split('\n').slice(-40).join('\n')}`));
    });
  });
}

const f = (x: number, digits = 1) => x.toFixed(digits);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const best = (xs: number[]) => Math.max(...xs);

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const searchOnly = process.argv.includes('--search');
  const config = benchConfig(quick);
  if (!fs.existsSync(path.join(BACKBONE_DIR, 'model.json'))) {
    throw new Error(`EfficientNet-Lite0 is not fetched (${BACKBONE_DIR}): run \`bash backbones/fetch-efficientnet-lite0.sh\``);
  }
  loadStackEnv();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // A bucket of its own: nothing cached by earlier runs or other users is found, and cleanup is one prefix.
  process.env.S3_BUCKET = `sweep-bench-${Date.now().toString(36)}-${process.pid}`;
  const began = Date.now();
  const log = (line: string) => console.log(`[bench ${f((Date.now() - began) / 1000, 0)}s] ${line}`);
  try {
    await ensureBucket(s3(), artifactBucket());
    if (!searchOnly) await transferBench(config, log, began);
    log(`search benchmark (${config.mode}): digits, grid / random / bayesian / random + ASHA`);
    const seeds = Number(process.argv.find((a) => a.startsWith('--seeds='))?.slice('--seeds='.length) ?? 5);
    if (!Number.isInteger(seeds) || seeds < 1 || seeds > 5) throw new Error('--seeds=N: N is how many of the 5 seeds to run, 1 to 5');
    const search = await runSearchBench(quick, seeds, (task) => runChild(task as Task), log);
    const report = searchReport(search);
    console.log(`\n${report}`);
    const out = path.join(REPO_ROOT, '.data', 'bench', `search-${config.mode}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ ...search, machine: machine() }, null, 1));
    fs.writeFileSync(out.replace(/\.json$/, '.md'), `${report}\n`);
    const plot = path.join(REPO_ROOT, 'docs', `benchmark-search-${config.mode}.svg`);
    fs.writeFileSync(plot, searchPlot(search));
    log(`search results: ${path.relative(REPO_ROOT, out)} (and .md), plot ${path.relative(REPO_ROOT, plot)}`);
  } finally {
    await deletePrefix('');
    await s3().send(new DeleteBucketCommand({ Bucket: process.env.S3_BUCKET })).catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The reference method against the product's on the demo flowers (everything but the search benchmark). */
async function transferBench(config: BenchConfig, log: (line: string) => void, began: number): Promise<void> {
  {
    log(`${config.mode} mode: demo flowers, EfficientNet-Lite0 at ${config.imageSize}x${config.imageSize}, ${config.epochs} epochs, bucket ${process.env.S3_BUCKET}`);
    const { dataDir, split } = await prepareData(config);
    log(`data: ${split.counts.train} train / ${split.counts.val} val / ${split.counts.test} test images (${config.perClass} per class after balancing)`);

    const peak = await runChild<PeakResult>({ kind: 'peak', seconds: config.microSeconds });
    log(`matmul peak on ${peak.backend}: ${f(peak.peakGflops)} GFLOP/s`);
    const engines: EngineResult[] = [];
    const engineEnvs: Array<Record<string, string>> = [{ SWEEP_BACKBONE_ENGINE: 'onnx' }, { SWEEP_BACKBONE_ENGINE: 'tfjs' }, { SWEEP_BACKBONE_ENGINE: 'tfjs', SWEEP_TF_BACKEND: 'wasm' }];
    for (const env of engineEnvs) {
      try {
        engines.push(await runChild<EngineResult>({ kind: 'engine', config, dataDir, seconds: config.microSeconds * 2 }, env));
        log(`backbone ${engines.at(-1)!.engine}/${engines.at(-1)!.backend}: ${f(engines.at(-1)!.imagesPerSecond)} images/s`);
      } catch (error) {
        log(`backbone with ${JSON.stringify(env)} unavailable: ${(error as Error).message.split('\n').find((l) => /Error/.test(l)) ?? ''}`);
      }
    }

    const products = new Map<string, MethodResult>();
    for (const { name } of config.grids) {
      const product = await runProduct(config, dataDir, split, name, 0);
      log(`${name} product: ${f(product.wallSeconds)} s (features ${f(product.extractSeconds!)} s for ${product.backboneImages} images, heads ${f(product.trainSeconds!)} s)`);
      products.set(name, product);
    }
    const largest = config.grids.at(-1)!.name;
    const capped = await runProduct(config, dataDir, split, largest, config.cappedViews);
    log(`${largest} product with views=${config.cappedViews}: ${f(capped.wallSeconds)} s`);
    // The reference trains the largest grid. A smaller grid's trials are among those (same trial ids: the
    // same computation), so its reference figures are the sums over them rather than a second, identical run.
    const reference = await runChild<MethodResult>({ kind: 'reference', spec: benchSpec(config, dataDir, config.grids.at(-1)!.grid), split, plans: products.get(largest)!.plans! });
    log(`${largest} reference: ${f(reference.wallSeconds)} s (${reference.backboneImages} images through the backbone)`);
    const runs = config.grids.map(({ name }) => ({
      grid: name,
      product: products.get(name)!,
      reference: name === largest ? reference : referenceSubset(reference, products.get(name)!.plans!),
    }));

    const report = formatReport(config, split, peak, engines, runs, capped, (Date.now() - began) / 1000);
    console.log(`\n${report}`);
    const out = path.join(REPO_ROOT, '.data', 'bench', `results-${config.mode}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ config, split, peak, engines, runs, capped, machine: machine() }, null, 1));
    fs.writeFileSync(out.replace(/\.json$/, '.md'), `${report}\n`);
    log(`results: ${path.relative(REPO_ROOT, out)} (and .md)`);
  }
}

/** The reference's figures for the trials of `plans`, summed from its per-trial measurements. */
function referenceSubset(reference: MethodResult, plans: TrialPlan[]): MethodResult {
  const trials = plans.map((plan) => {
    const trial = (reference.trials as ReferenceTrialRow[]).find((t) => t.trialId === plan.trialId);
    if (!trial) throw new Error(`trial ${JSON.stringify(plan.params)} is not in the reference run's grid; make the larger grid contain the smaller`);
    return trial;
  });
  const sum = (value: (t: ReferenceTrialRow) => number) => trials.reduce((n, t) => n + value(t), 0);
  return {
    ...reference,
    wallSeconds: sum((t) => t.wallSeconds),
    cpuSeconds: sum((t) => t.cpuSeconds),
    backboneImages: sum((t) => t.backboneImages),
    trials,
    head: { steps: sum((t) => t.head.steps), rows: sum((t) => t.head.rows), flops: sum((t) => t.head.flops), busySeconds: sum((t) => t.head.busySeconds) },
  };
}

/** A product run starts from an empty feature cache and no trials, like a first sweep on this data. */
async function runProduct(config: BenchConfig, dataDir: string, split: SplitSummary, grid: string, views: number): Promise<MethodResult> {
  for (const prefix of ['features/', 'trials/', 'sweeps/']) await deletePrefix(prefix);
  return runChild<MethodResult>({ kind: 'product', config, dataDir, split, grid, views, sweepId: `bench-${grid}-views${views}` });
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model ?? 'unknown'} x ${cpus.length}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    load: os.loadavg().map((l) => l.toFixed(1)).join(' '),
  };
}

/** Largest difference in final val accuracy between the two methods' runs of the same trial. */
function accuracyGap(product: MethodResult, reference: MethodResult): number {
  return Math.max(...product.trials.map((t) => {
    const twin = reference.trials.find((r) => r.trialId === t.trialId);
    if (!twin) throw new Error(`trial ${t.trialId} has no reference run`);
    return Math.abs(t.valAccuracy - twin.valAccuracy);
  }));
}

function formatReport(
  config: BenchConfig, split: SplitSummary, peak: PeakResult, engines: EngineResult[],
  runs: Array<{ grid: string; product: MethodResult; reference: MethodResult }>, capped: MethodResult, totalSeconds: number,
): string {
  const m = machine();
  const headRate = (r: MethodResult) => r.head.flops / r.head.busySeconds / 1e9;
  // One reference trial: the mean over the largest grid's reference run.
  const largest = runs.at(-1)!.reference;
  const oneTrial = largest.wallSeconds / largest.trials.length;
  const oneTrialCpu = largest.cpuSeconds / largest.trials.length;
  const lines = [
    `## Benchmark (${config.mode}) — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${m.cpu}, ${m.memoryGiB} GiB, Node ${m.node}, load average at the end ${m.load}.`,
    `Backend (head, and TF.js backbones): ${peak.backend}; backbone engine of both methods: ${runs[0].product.engine}.`,
    `Data: demo flowers ${config.data.width}x${config.data.height} JPEGs, ${split.counts.train} train / ${split.counts.val} val / ${split.counts.test} test; EfficientNet-Lite0 at ${config.imageSize}x${config.imageSize} (1280-d avg_pool); head batch 25, lr 0.001, ${config.epochs} epochs; augmentation on (crop, flip, rotation, colour jitter).`,
    '',
    `Matmul peak (${peak.backend}, best of repeated tf.matMul): ${Object.entries(peak.square).map(([n, g]) => `${n}²: ${f(g)}`).join(', ')} GFLOP/s → peak ${f(peak.peakGflops)} GFLOP/s. The head's shape, 25x1280 · 1280x512: ${f(peak.headShapedGflops)} GFLOP/s. One small op (add of 512 floats): ${f(peak.opMicros)} µs.`,
    '',
    `HeadTrainer.trainBatch alone: ${peak.headSteps.map((h) => `${h.rows} rows x ${h.hiddenUnits} hidden ${f(h.msPerStep, 2)} ms (forward + gradients alone ${f(h.msGradients, 2)} ms) = ${f(h.gflops)} GFLOP/s (${pct(h.gflops / peak.peakGflops)} of peak)`).join('; ')}.`,
    '',
    '| backbone engine | backend | images/s (batch 16, forward only) |',
    '|---|---|---|',
    ...engines.map((e) => `| ${e.engine} | ${e.engine === 'onnxruntime' ? '(onnxruntime-node CPU)' : e.backend} | ${f(e.imagesPerSecond)} |`),
    '',
    '| grid | method | wall s | CPU s | load | images through backbone | backbone images/s | head GFLOP/s (% of peak) | peak RSS MiB | val acc best / mean | test acc best |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { grid, product, reference } of runs) {
    for (const [name, r] of [['(a) reference', reference], ['(b) product', product]] as const) {
      const through = name === '(b) product' ? r.backboneImages / r.extractSeconds! : r.backboneImages / r.wallSeconds;
      lines.push(`| ${grid} | ${name} | ${f(r.wallSeconds)} | ${f(r.cpuSeconds)} | ${r.load.map((l) => f(l)).join('→')} | ${r.backboneImages} | ${f(through)} | ${f(headRate(r))} (${pct(headRate(r) / peak.peakGflops)}) | ${f(r.maxRssMiB, 0)} | ${pct(best(r.trials.map((t) => t.valAccuracy)))} / ${pct(mean(r.trials.map((t) => t.valAccuracy)))} | ${pct(best(r.trials.map((t) => t.testAccuracy)))} |`);
    }
  }
  lines.push('', `One reference trial (mean of the ${runs.at(-1)!.grid} reference run): ${f(oneTrial)} s wall, ${f(oneTrialCpu)} s CPU. The ${runs[0].grid} reference figures are its trials within that run.`);
  lines.push('', '| grid | (a)/(b) wall (CPU) | max per-trial val acc difference | product features s / heads s | product ÷ one reference trial, wall (CPU) |', '|---|---|---|---|---|');
  for (const { grid, product, reference } of runs) {
    const gap = accuracyGap(product, reference);
    lines.push(`| ${grid} | ${f(reference.wallSeconds / product.wallSeconds, 2)} (${f(reference.cpuSeconds / product.cpuSeconds, 2)}) | ${f(100 * gap, 2)} points | ${f(product.extractSeconds!)} / ${f(product.trainSeconds!)} | ${f(product.wallSeconds / oneTrial, 2)}x (${f(product.cpuSeconds / oneTrialCpu, 2)}x) |`);
  }
  const full = runs.at(-1)!.product;
  const last = runs.at(-1)!;
  const lastGap = accuracyGap(last.product, last.reference);
  const speedup = last.reference.wallSeconds / last.product.wallSeconds;
  const cpuSpeedup = last.reference.cpuSeconds / last.product.cpuSeconds;
  const sweepCost = runs.map(({ grid, product }) => `${grid} ${f(product.wallSeconds / oneTrial, 2)}x (CPU ${f(product.cpuSeconds / oneTrialCpu, 2)}x)`);
  const worstCost = Math.max(...runs.map(({ product }) => product.wallSeconds / oneTrial));
  const headShare = headRate(full) / peak.peakGflops;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const singleHead = peak.headSteps.filter((h) => h.hiddenUnits === 512);
  const reaching = singleHead.filter((h) => h.gflops / peak.peakGflops >= 0.25).map((h) => h.rows);
  const headVerdict = reaching.length === singleHead.length ? 'met' : reaching.length ? `met at batch ${reaching.join(', ')}, NOT at ${singleHead.filter((h) => !reaching.includes(h.rows)).map((h) => h.rows).join(', ')}` : 'NOT met';
  lines.push(
    '',
    'Targets:',
    `- 16-trial (a)/(b) >= 10 at equal val accuracy (within 1 point): ${f(speedup, 2)}x wall (${f(cpuSpeedup, 2)}x CPU), max per-trial gap ${f(100 * lastGap, 2)} points: ${met(speedup >= 10 && lastGap <= 0.01)}.`,
    `- a sweep of P <= 16 trials costs <= 1.5x one reference trial: ${sweepCost.join(', ')}: ${met(worstCost <= 1.5)}.`,
    `- head training >= 25% of the matmul peak at batch >= 25: a train step alone ${singleHead.map((h) => `${h.rows} x 512: ${pct(h.gflops / peak.peakGflops)}`).join(', ')}; the product's train steps in the ${runs.at(-1)!.grid} sweep (batch 25): ${f(headRate(full))} GFLOP/s = ${pct(headShare)}: ${headVerdict}.`,
  );
  lines.push(
    '',
    `Capping views (${runs.at(-1)!.grid}, load ${capped.load.map((l) => f(l)).join('→')}): one view per epoch (${full.views} views) ${f(full.wallSeconds)} s, features ${f(full.extractSeconds!)} s, val acc mean ${pct(mean(full.trials.map((t) => t.valAccuracy)))} / best ${pct(best(full.trials.map((t) => t.valAccuracy)))}; views=${capped.views}: ${f(capped.wallSeconds)} s, features ${f(capped.extractSeconds!)} s, val acc mean ${pct(mean(capped.trials.map((t) => t.valAccuracy)))} / best ${pct(best(capped.trials.map((t) => t.valAccuracy)))}.`,
    '',
    `Head steps: ${full.head.steps} steps of ≤25 rows in the ${runs.at(-1)!.grid} product run, ${f(1000 * full.head.busySeconds / full.head.steps, 2)} ms per step.`,
    `Total benchmark time: ${f(totalSeconds / 60, 1)} min.`,
  );
  return lines.join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
