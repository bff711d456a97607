// Bayesian against random on many seeds, without the sweep around them: the search benchmark's data
// and space, each configuration trained in this process as the floor trains it (the product's epoch
// loop and head, keyed draws), its value the best val accuracy over its epochs, and bayesian batches
// asked of search/optuna/suggest.py exactly as the sweep asks them (batches of `concurrency`, each from
// the trials before it, in run order). A sweep's orchestration does not change a trial's result, so
// this gives the methods' accuracy on many more seeds than the benchmark's 5 sweeps per method can.
//
//   bash infra/node.sh --import tsx bench/bayesian-study.ts --seeds=6-25 --startup=10,4
//
// Needs the local stack (MinIO: the split is made by the product's activities) and the search venv.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { contentId } from '../lib/content-id';
import { Params } from '../lib/grid';
import { headParams } from '../lib/head-params';
import { SplitManifest } from '../lib/manifest';
import { FinishedTrial, suggestRequest } from '../lib/search/bayesian';
import { batchSizes } from '../lib/search/tpe-batches';
import { sampleConfig } from '../lib/search/space';
import { SweepSpec, parseSweepSpec } from '../lib/sweep-spec';
import { acquireBackbone } from '../model/backbone';
import { initTensorflow } from '../model/tf-backend';
import { FeatureRows, memoryRows } from '../formats/feature-shard';
import { REPO_ROOT, searchPython } from '../platform/config';
import { ensureBucket } from '../infra/create-bucket';
import { s3 } from '../platform/s3-store';
import { artifactBucket } from '../platform/storage';
import { loadImages } from './child';
import { computeFeatures } from './reference';
import { digitsDir } from './search';
import { searchBenchConfig, searchSpec } from './search-config';
import { splitOf } from './setup';
import { floorInput, trainFloorHead } from './floor';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const range = (text: string) => {
  const [a, b] = text.split('-').map(Number);
  return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
};

/** search/optuna/suggest.py as one long-lived process: a request per line in, suggestions per line out. */
function suggestProcess() {
  const child = spawn(searchPython(), ['-c', [
    'import json, sys',
    `sys.path.insert(0, ${JSON.stringify(path.join(REPO_ROOT, 'search', 'optuna'))})`,
    'from suggest import suggest',
    'for line in sys.stdin:',
    '    print(json.dumps(suggest(json.loads(line))), flush=True)',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    ask: async (request: unknown): Promise<Params[]> => {
      child.stdin.write(`${JSON.stringify(request)}\n`);
      return JSON.parse((await lines.next()).value as string) as Params[];
    },
    stop: () => child.stdin.end(),
  };
}

async function main(): Promise<void> {
  const seeds = range(arg('seeds', '6-25'));
  const startups = arg('startup', '10').split(',').map(Number);
  const config = searchBenchConfig(false);
  const dataDir = digitsDir(config.imageSize);
  await initTensorflow();
  await ensureBucket(s3(), artifactBucket());
  // Parsed for its settings only: no worker polls these (one per role, as the spec requires).
  const queues = { cpu: 'unused-cpu', gpu: 'unused-gpu', suggest: 'unused-suggest' };
  const specOf = (seed: number): SweepSpec => parseSweepSpec(searchSpec(config, dataDir, 'bayesian', seed, queues));
  const { backbone } = await acquireBackbone(specOf(seeds[0]).backbone);
  // The eval view of an image is the same in every split: computed once per image.
  const rowOf = new Map<string, Float32Array>();
  const suggester = suggestProcess();
  const results: Array<Record<string, number>> = [];
  try {
    for (const seed of seeds) {
      const spec = specOf(seed);
      const search = spec.search!;
      const summary = await splitOf(spec);
      const { split, images } = await loadImages(summary.splitKey);
      const rows = async (samples: SplitManifest['train']): Promise<FeatureRows> => {
        const missing = samples.filter((s) => !rowOf.has(s.sha256));
        for (let i = 0; i < missing.length; i += 64) {
          const part = missing.slice(i, i + 64);
          const features = await computeFeatures(backbone, spec, images, part, 'eval');
          const dim = features.length / part.length;
          part.forEach((s, k) => rowOf.set(s.sha256, features.slice(k * dim, (k + 1) * dim)));
        }
        const dim = rowOf.get(samples[0].sha256)!.length;
        const features = new Float32Array(samples.length * dim);
        samples.forEach((s, i) => features.set(rowOf.get(s.sha256)!, i * dim));
        return memoryRows({ count: samples.length, dim, labels: Int32Array.from(samples, (s) => s.label), features });
      };
      const train = await rows(split.train);
      const val = await rows(split.val);
      const input = floorInput('bench-bayesian-study', spec, summary);
      const cache = new Map<string, number>();
      /** The best val accuracy over the configuration's epochs (keepBestEpoch's objective). */
      const value = async (params: Params): Promise<number> => {
        const trialId = contentId({ seed, params });
        const known = cache.get(trialId);
        if (known !== undefined) return known;
        const head = headParams(params, summary.classes.length);
        const best = await trainFloorHead({ trialId, head, epochs: head.n_epochs }, train, val, input);
        cache.set(trialId, best);
        return best;
      };
      const budget = search.budget;
      const row: Record<string, number> = { seed };
      let best = 0;
      for (let i = 0; i < budget; i++) best = Math.max(best, await value(sampleConfig(search.space, seed, i)));
      row.random = best;
      for (const startup of startups) {
        const finished: FinishedTrial[] = [];
        for (const count of batchSizes(budget, spec.concurrency)) {
          const configs = await suggester.ask({ ...suggestRequest(search, seed, finished, count), startupTrials: startup });
          for (const params of configs) finished.push({ params, value: await value(params) });
        }
        row[`tpe${startup}`] = Math.max(...finished.map((t) => t.value!));
        row[`tpe${startup}_distinct`] = new Set(finished.map((t) => JSON.stringify(t.params))).size;
      }
      results.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    suggester.stop();
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const startup of startups) {
    const diffs = results.map((r) => r[`tpe${startup}`] - r.random);
    const sd = Math.sqrt(mean(diffs.map((d) => (d - mean(diffs)) ** 2)) * diffs.length / (diffs.length - 1));
    console.log(`startup ${startup}: tpe ${(100 * mean(results.map((r) => r[`tpe${startup}`]))).toFixed(2)}% vs random ${(100 * mean(results.map((r) => r.random))).toFixed(2)}%, ` +
      `difference ${(100 * mean(diffs)).toFixed(2)} ± ${(100 * sd / Math.sqrt(diffs.length)).toFixed(2)} points (mean ± s.e., ${diffs.length} seeds), tpe ahead on ${diffs.filter((d) => d > 0).length}, behind on ${diffs.filter((d) => d < 0).length}`);
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
