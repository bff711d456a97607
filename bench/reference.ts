// The reference method, as the article's PyTorch loop does it: every epoch of every trial sends every
// image through decoding, augmentation and the frozen backbone again, then takes a head step. It trains
// with the product's own epoch loop and head (activities/train.ts trainEpoch, model/head.ts), only with
// rows computed by the backbone instead of read from the feature cache, and with the same keyed draws
// (augmentation per image and epoch, shuffles, dropout masks, initial weights), so the two methods'
// accuracies are directly comparable.
import * as tf from '@tensorflow/tfjs';
import { preprocessImage } from '../model/image-preprocessing';
import { trainEpoch } from '../activities/train';
import { FeatureRows, memoryRows } from '../formats/feature-shard';
import { drawAugmentation } from '../lib/augmentation';
import { Sample, SplitManifest } from '../lib/manifest';
import { randomStream } from '../lib/random';
import { SweepSpec } from '../lib/sweep-spec';
import { TrialInput, ViewName } from '../lib/sweep-types';
import { Backbone } from '../model/backbone-types';
import { HeadShape, HeadTrainer, initHeadArrays, zeroAdamState } from '../model/head';

/** Counts what went through the backbone and how long it took, preprocessing included. */
export interface BackboneMeter {
  images: number;
  seconds: number;
}

/** Features of `samples` in `view`, computed now: decode, augment (train views), normalise, forward pass. */
export async function computeFeatures(
  backbone: Backbone, spec: SweepSpec, images: ReadonlyMap<string, Buffer>, samples: readonly Sample[], view: ViewName, meter?: BackboneMeter,
): Promise<Float32Array> {
  const began = performance.now();
  const { size } = spec.image;
  const pixels = size * size * 3;
  const input = new Float32Array(samples.length * pixels);
  await Promise.all(samples.map(async (sample, i) => {
    // The same draw the feature cache makes for this (image, copy, view): keyed, not sequential.
    const augment = view === 'eval' ? undefined : drawAugmentation(spec.augmentation, randomStream(spec.seed, 'augment', sample.sha256, sample.copy, view));
    const bytes = images.get(sample.sha256);
    if (!bytes) throw new Error(`image ${sample.sha256} was not loaded`);
    input.set(await preprocessImage(bytes, spec.image, augment, { mean: spec.backbone.mean, std: spec.backbone.std }), i * pixels);
  }));
  const x = tf.tensor4d(input, [samples.length, size, size, 3]);
  try {
    return await backbone.embed(x);
  } finally {
    x.dispose();
    if (meter) {
      meter.images += samples.length;
      meter.seconds += (performance.now() - began) / 1000;
    }
  }
}

export interface ReferenceTrialResult {
  trialId: string;
  valAccuracy: number;
  valLoss: number;
  testAccuracy: number;
}

/**
 * One trial the reference way: n_epochs of (train on freshly augmented images, evaluate val through the
 * backbone), then the test split. Epoch e uses augmentation view e, like the product's one view per epoch.
 */
export async function referenceTrial(
  backbone: Backbone, featureDim: number, spec: SweepSpec, images: ReadonlyMap<string, Buffer>, split: SplitManifest, input: TrialInput, meter: BackboneMeter,
): Promise<ReferenceTrialResult> {
  const { trial } = input;
  const shape: HeadShape = { inputDim: featureDim, hiddenUnits: trial.head.hidden_units, numClasses: trial.head.num_classes };
  const trainer = new HeadTrainer(shape, trial.head.lr, initHeadArrays(shape, input.seed, trial.trialId), zeroAdamState(shape));
  const batch = trial.head.batch_size;
  const evaluate = async (samples: readonly Sample[]) => {
    const features = new Float32Array(samples.length * featureDim);
    for (let start = 0; start < samples.length; start += batch) {
      features.set(await computeFeatures(backbone, spec, images, samples.slice(start, start + batch), 'eval', meter), start * featureDim);
    }
    return trainer.evaluate(memoryRows({ count: samples.length, dim: featureDim, labels: Int32Array.from(samples, (s) => s.label), features }));
  };
  try {
    let val = { accuracy: 0, loss: 0 };
    for (let epoch = 0; epoch < trial.head.n_epochs; epoch++) {
      const rows: FeatureRows = {
        count: split.train.length,
        dim: featureDim,
        labels: Int32Array.from(split.train, (s) => s.label),
        read: async (indices, out) => out.set(await computeFeatures(backbone, spec, images, Array.from(indices, (i) => split.train[i]), epoch, meter)),
        close: () => undefined,
      };
      await trainEpoch(trainer, rows, input, epoch);
      val = await evaluate(split.val);
    }
    const test = await evaluate(split.test);
    return { trialId: trial.trialId, valAccuracy: val.accuracy, valLoss: val.loss, testAccuracy: test.accuracy };
  } finally {
    trainer.dispose();
  }
}
