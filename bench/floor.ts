// The floor of a sweep: what its trials cost with nothing around the training. The split's images go
// through the backbone once (the same views the sweep caches), held in memory, and every trial's head
// is trained in this one process for the epochs the sweep trained it, with the product's epoch loop and
// head (same keyed draws), evaluated on val after each epoch: no workflows, storage, checkpoints or events.
import { FeatureRows, memoryRows } from '../formats/feature-shard';
import { Sample, SplitManifest } from '../lib/manifest';
import { HeadParams } from '../lib/head-params';
import { SweepSpec } from '../lib/sweep-spec';
import { TrialInput } from '../lib/sweep-types';
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
    const shape: HeadShape = { inputDim: train.dim, hiddenUnits: trial.head.hidden_units, numClasses: trial.head.num_classes };
    const plan = { trialId: trial.trialId, run: 0, params: {}, head: trial.head };
    const trainer = new HeadTrainer(shape, trial.head.lr, initHeadArrays(shape, input.seed, trial.trialId), zeroAdamState(shape));
    try {
      for (let epoch = 0; epoch < trial.epochs; epoch++) {
        // trainEpoch heartbeats through the activity Context; the mocked one costs next to nothing.
        await inActivity(trainEpoch, trainer, train, { ...input, trial: plan }, epoch);
        best = Math.max(best, (await trainer.evaluate(val)).accuracy);
        epochs += 1;
      }
    } finally {
      trainer.dispose();
    }
  }
  return { featuresSeconds: (featured - began) / 1000, headsSeconds: (performance.now() - featured) / 1000, epochs, bestValAccuracy: best };
}
