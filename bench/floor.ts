// The floor of a sweep: what its trials cost with nothing around the training. The split's images go
// through the backbone once (the same views the sweep caches), held in memory, and every trial's head
// is trained in this one process for the epochs the sweep trained it, with the product's epoch loop and
// head (same keyed draws), evaluated on val after each epoch: no workflows, storage, checkpoints or events.
import { FeatureRows, memoryRows } from '../formats/feature-shard';
import { Sample, SplitManifest } from '../lib/manifest';
import { HeadParams } from '../lib/head-params';
import { SweepSpec } from '../lib/sweep-spec';
import { SplitSummary, TrialInput } from '../lib/sweep-types';
import { Backbone } from '../model/backbone-types';
import { HeadShape, HeadTrainer, initHeadArrays, zeroAdamState } from '../model/head';
import { trainEpoch } from '../activities/train';
import { BackboneMeter, computeFeatures } from './reference';
import { inActivity } from './setup';

export interface FloorTrial { trialId: string; head: HeadParams; epochs: number }
export interface FloorResult { featuresSeconds: number; headsSeconds: number; epochs: number; bestValAccuracy: number }

const BATCH = 64;

async function featuresOf(backbone: Backbone, spec: SweepSpec, images: ReadonlyMap<string, Buffer>, samples: readonly Sample[], meter: BackboneMeter): Promise<FeatureRows> {
  const parts: Float32Array[] = [];
  for (let start = 0; start < samples.length; start += BATCH) {
    parts.push(await computeFeatures(backbone, spec, images, samples.slice(start, start + BATCH), 'eval', meter));
  }
  const features = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => { features.set(p, at); return at + p.length; }, 0);
  return memoryRows({ count: samples.length, dim: features.length / samples.length, labels: Int32Array.from(samples, (s) => s.label), features });
}

/** Features once (train and val, the eval view: the bench's sweeps run without augmentation), then every head. */
export async function floorRun(
  backbone: Backbone, spec: SweepSpec, images: ReadonlyMap<string, Buffer>, split: SplitManifest, trials: readonly FloorTrial[], input: Omit<TrialInput, 'trial'>,
): Promise<FloorResult> {
  if (spec.augmentation.enabled) throw new Error('the floor computes one view per split: run it on a spec without augmentation');
  const began = performance.now();
  const meter: BackboneMeter = { images: 0, seconds: 0 };
  const train = await featuresOf(backbone, spec, images, split.train, meter);
  const val = await featuresOf(backbone, spec, images, split.val, meter);
  const featured = performance.now();
  let best = 0;
  let epochs = 0;
  for (const trial of trials) {
    best = Math.max(best, await trainFloorHead(trial, train, val, input));
    epochs += trial.epochs;
  }
  return { featuresSeconds: (featured - began) / 1000, headsSeconds: (performance.now() - featured) / 1000, epochs, bestValAccuracy: best };
}

/** One trial's head trained for its epochs on rows in memory, val evaluated after each epoch: its best val accuracy. */
export async function trainFloorHead(trial: FloorTrial, train: FeatureRows, val: FeatureRows, input: Omit<TrialInput, 'trial'>): Promise<number> {
  const shape: HeadShape = { inputDim: train.dim, hiddenUnits: trial.head.hidden_units, numClasses: trial.head.num_classes };
  const plan = { trialId: trial.trialId, run: 0, params: {}, head: trial.head };
  const trainer = new HeadTrainer(shape, trial.head.lr, initHeadArrays(shape, input.seed, trial.trialId), zeroAdamState(shape));
  let best = 0;
  try {
    for (let epoch = 0; epoch < trial.epochs; epoch++) {
      // trainEpoch heartbeats through the activity Context; the mocked one costs next to nothing.
      await inActivity(trainEpoch, trainer, train, { ...input, trial: plan }, epoch);
      best = Math.max(best, (await trainer.evaluate(val)).accuracy);
    }
  } finally {
    trainer.dispose();
  }
  return best;
}

/** What trainEpoch reads besides the trial, for heads trained outside a sweep: the split, the seed, no stored feature sets. */
export function floorInput(sweepId: string, spec: SweepSpec, split: SplitSummary): Omit<TrialInput, 'trial'> {
  const none = { id: '', shards: 0, rows: 0, dim: 0 };
  return {
    sweepId, train: [], val: none, test: none,
    splitKey: split.splitKey, seed: spec.seed, reuse: false, heartbeatTimeoutSeconds: spec.heartbeatTimeoutSeconds,
  };
}
