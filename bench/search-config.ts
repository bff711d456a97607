// The search benchmark's configuration: scikit-learn's handwritten digits (real scans on which head
// configurations really differ, unlike the demo flowers), one space, and the four methods on it with
// the same budget: the full grid of a discretised space, random, bayesian (Optuna TPE) and random + ASHA.
import fs from 'node:fs';
import path from 'node:path';
import { BACKBONE_DIR } from './setup';

export type SearchMethod = 'grid' | 'random' | 'bayesian' | 'asha';
export const SEARCH_METHODS: SearchMethod[] = ['grid', 'random', 'bayesian', 'asha'];

export interface SearchBenchConfig {
  mode: 'quick' | 'full';
  /** Side of the digit PNGs and of the backbone's input. */
  imageSize: number;
  perClass: number;
  /** Every trial's epochs (ASHA's maxEpochs). */
  epochs: number;
  /** Seeds of the whole sweep (split, initial weights, draws, suggestions): each method runs once per seed. */
  seeds: number[];
  /** The grid method's values; its size is every method's budget. */
  grid: Record<string, Array<number>>;
  /** The continuous space of random, bayesian and ASHA, spanning the grid's values. */
  space: Record<string, unknown>;
  asha: { gracePeriod: number; reductionFactor: number };
  /** Budget of the large ASHA search held against one reference trial. */
  largeBudget: number;
  /**
   * Trials in flight per sweep: three per GPU slot (gpuProcesses of one slot each), as docs/search.md
   * advises for short trials under early stopping. Around its training a trial spends about 0.3 s in
   * workflow tasks, its lease and the activity's dispatch; with more trials queued at each slot, the
   * next one starts training as the last ends instead of after that round trip. Under early stopping a
   * trial waiting at a rung for its decision holds its slot without training, so more are needed.
   * Grid, random and ASHA decide the same at any concurrency (the stop ledger decides in run order), so
   * only wall times move. Measured (docs/benchmark.md, items 14 and 27): the warm grid 11.6-13.1 s at 2,
   * 10.4-11.2 s at 4 (AMD EPYC, 2 vCPUs, alternating), the same at 4 and 6 (Intel Xeon); the
   * 100-configuration ASHA search 33.1-35.4 s at 4, 27.8-31.8 s at 6 and 27.8-30.2 s at 8 (Intel Xeon,
   * 2026-12-06, alternating).
   */
  concurrency: number;
  /** Bayesian's: its batches are `concurrency` trials (docs/search.md), so this sets how often TPE sees results; one per slot. */
  bayesianConcurrency: number;
  /**
   * GPU worker processes the sweeps train in, one activity at a time each (SWEEP_GPU_PROCESSES, as
   * docs/deploy.md advises for a CPU node: one per core). The warm grid and the large ASHA search are
   * also run with one process (the benchmark's own, `concurrency` trials in it), side by side.
   */
  gpuProcesses: number;
  /**
   * The grid again with trials this many epochs long, cold and warm, on a seed (so a split and feature
   * sets) of its own, against its own floor: how the cost ratios move with the length of a trial.
   */
  long: { epochs: number; seed: number };
}

/** `seeds`: how many of the five seeds to run (a smoke run takes 1; the targets need all five). */
export function searchBenchConfig(quick: boolean, seeds = 5): SearchBenchConfig {
  const space = {
    lr: { type: 'loguniform', low: 1e-4, high: 1e-1 },
    hidden_units: { type: 'int', low: 16, high: 256, step: 16 },
    dropout: { type: 'uniform', low: 0, high: 0.7 },
    batch_size: { type: 'choice', values: [32] },
  };
  const common = { epochs: 9, space, asha: { gracePeriod: 1, reductionFactor: 3 }, concurrency: 6, bayesianConcurrency: 2, gpuProcesses: 2, seeds: [1, 2, 3, 4, 5].slice(0, seeds), long: { epochs: 27, seed: 101 } };
  return quick
    ? { ...common, mode: 'quick', imageSize: 32, perClass: 40, grid: { lr: [1e-4, 1e-3, 1e-2, 1e-1], hidden_units: [32, 128], dropout: [0.3] }, largeBudget: 20 }
    : { ...common, mode: 'full', imageSize: 32, perClass: 170, grid: { lr: [1e-4, 1e-3, 1e-2, 1e-1], hidden_units: [32, 128, 256], dropout: [0, 0.5] }, largeBudget: 100 };
}

export function gridBudget(config: SearchBenchConfig): number {
  return Object.values(config.grid).reduce((n, values) => n * values.length, 1);
}

/** The raw sweep spec of one method and seed, on the bench's own task queues (parsed by the workflow). */
export function searchSpec(
  config: SearchBenchConfig, dataDir: string, method: SearchMethod, seed: number,
  queues: { cpu: string; gpu: string; suggest: string }, budget = gridBudget(config),
): Record<string, unknown> {
  const meta = JSON.parse(fs.readFileSync(path.join(BACKBONE_DIR, 'backbone.json'), 'utf8')) as { mean: number[]; std: number[]; featureLayer: string };
  const grid = Object.fromEntries(Object.entries(config.grid).map(([k, values]) => [k, { type: 'choice', values }]));
  const space = method === 'grid'
    ? { ...grid, batch_size: config.space.batch_size, n_epochs: { type: 'choice', values: [config.epochs] } }
    : method === 'asha' ? config.space : { ...config.space, n_epochs: { type: 'choice', values: [config.epochs] } };
  return {
    name: `bench-search-${method}`,
    data: { source: dataDir, classes: Array.from({ length: 10 }, (_, i) => String(i)) },
    balance: { perClass: config.perClass },
    image: { size: config.imageSize },
    // Digits are not mirror-symmetric and the scans are aligned: no augmentation, one view of the train split.
    augmentation: { enabled: false },
    backbone: { uri: path.join(BACKBONE_DIR, 'model.json'), featureLayer: meta.featureLayer, mean: meta.mean, std: meta.std },
    search: {
      method: method === 'asha' ? 'random' : method,
      ...(method === 'grid' ? {} : { budget }),
      space,
      objective: { metric: 'valAccuracy', direction: 'maximize' },
      ...(method === 'asha' ? { earlyStopping: { rule: 'asha', ...config.asha, maxEpochs: config.epochs } } : {}),
      keepBestEpoch: true,
    },
    seed,
    concurrency: method === 'bayesian' ? config.bayesianConcurrency : config.concurrency,
    // Every sweep trains: the methods share trials (random and ASHA draw the same configurations).
    reuse: false,
    taskQueues: method === 'bayesian' ? queues : { cpu: queues.cpu, gpu: queues.gpu },
  };
}
