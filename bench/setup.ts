// What both methods of the benchmark share: the configuration (data size, image size, epochs, grids),
// the demo data ingested, balanced and split by the product's own activities into a bucket of the
// benchmark's own, and a way to call activities without a Temporal server.
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import fs from 'node:fs';
import path from 'node:path';
import { balanceDataset, splitDataset } from '../activities/dataset-steps';
import { ingestDataset } from '../activities/ingest';
import { artifactBucket, listKeys } from '../platform/storage';
import { s3 } from '../platform/s3-store';
import { generateFlowerDataset } from '../demo/generate-flowers';
import { ensureBucket } from '../infra/create-bucket';
import { Grid } from '../lib/grid';
import { SplitSummary } from '../lib/sweep-types';
import { SweepSpec, parseSweepSpec } from '../lib/sweep-spec';
import { backbonesDir, REPO_ROOT } from '../platform/config';

export interface BenchConfig {
  mode: 'quick' | 'full';
  /** Demo data: fraction of the reference class counts, nominal photo size. */
  data: { scale: number; width: number; height: number };
  perClass: number;
  imageSize: number;
  epochs: number;
  /** augmentation.views of the capped run (the others use one view per epoch). */
  cappedViews: number;
  grids: Array<{ name: string; grid: Grid }>;
  /** Seconds per micro-benchmark (matmul peak, backbone engines). */
  microSeconds: number;
}

// The reference's grid, and a 16-trial grid that contains it.
const REFERENCE_GRID: Grid = { hidden_units: [256, 512], dropout: [0.4, 0.5] };
const GRID_16: Grid = { hidden_units: [128, 256, 512, 1024], dropout: [0.3, 0.4, 0.5, 0.6] };

export function benchConfig(quick: boolean): BenchConfig {
  const grids = [{ name: '4-trial', grid: REFERENCE_GRID }, { name: '16-trial', grid: GRID_16 }];
  return quick
    ? { mode: 'quick', data: { scale: 0.05, width: 160, height: 120 }, perClass: 32, imageSize: 128, epochs: 2, cappedViews: 1, grids, microSeconds: 1 }
    : { mode: 'full', data: { scale: 0.2, width: 320, height: 240 }, perClass: 150, imageSize: 224, epochs: 8, cappedViews: 4, grids, microSeconds: 4 };
}

export const BACKBONE_DIR = path.join(backbonesDir(), 'efficientnet-lite0');

/** The sweep spec both methods follow (the reference method reads the same fields). */
export function benchSpec(config: BenchConfig, dataDir: string, grid: Grid, views = 0): SweepSpec {
  const meta = JSON.parse(fs.readFileSync(path.join(BACKBONE_DIR, 'backbone.json'), 'utf8')) as { mean: number[]; std: number[]; featureLayer: string };
  return parseSweepSpec({
    name: `bench-${config.mode}`,
    data: { source: dataDir, classes: ['daisy', 'rose', 'sunflower', 'tulip'] },
    balance: { perClass: config.perClass },
    image: { size: config.imageSize },
    augmentation: { views },
    backbone: { uri: path.join(BACKBONE_DIR, 'model.json'), featureLayer: meta.featureLayer, mean: meta.mean, std: meta.std },
    grid: { ...grid, num_classes: [4], lr: [0.001], batch_size: [25], n_epochs: [config.epochs] },
    seed: 42,
    reuse: false,
  });
}

/** Runs an activity function with a mocked activity Context (heartbeats, cancellation), no server. */
export function inActivity<P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args);
}

/** Demo images on disk (made once per configuration), ingested, balanced and split in the current bucket. */
export async function prepareData(config: BenchConfig): Promise<{ dataDir: string; split: SplitSummary }> {
  const { scale, width, height } = config.data;
  const dataDir = path.join(REPO_ROOT, '.data', 'bench', `flowers-${scale}-${width}x${height}`);
  await generateFlowerDataset({ outDir: dataDir, scale, width, height, seed: 7 });
  await ensureBucket(s3(), artifactBucket());
  return { dataDir, split: await splitOf(benchSpec(config, dataDir, REFERENCE_GRID)) };
}

/** The spec's data ingested, balanced and split in the current bucket by the sweep's own activities (content-addressed: the sweep's keys). */
export async function splitOf(spec: SweepSpec): Promise<SplitSummary> {
  const dataset = await inActivity(ingestDataset, spec.data);
  const balanced = await inActivity(balanceDataset, { datasetKey: dataset.manifestKey, perClass: spec.balance.perClass, seed: spec.seed, numClassesInGrid: [spec.data.classes!.length] });
  return inActivity(splitDataset, { balancedKey: balanced.balancedKey, fractions: spec.split, seed: spec.seed });
}

/** Deletes every object under `prefix` in the current bucket (the benchmark's own). */
export async function deletePrefix(prefix: string): Promise<number> {
  const bucket = artifactBucket();
  let batch: string[] = [];
  let deleted = 0;
  const flush = async () => {
    if (batch.length) await s3().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    deleted += batch.length;
    batch = [];
  };
  for await (const { key } of listKeys(prefix, bucket)) {
    batch.push(key);
    if (batch.length === 1000) await flush();
  }
  await flush();
  return deleted;
}
