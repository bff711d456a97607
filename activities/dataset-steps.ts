// The data steps of the DAG after ingestion: validate the spec, balance, split. Each writes a small
// manifest (references to content-addressed images, never copies) keyed by what produced it.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../lib/errors';
import { artifactKeys } from '../lib/artifact-keys';
import { balanceClasses } from '../lib/balance';
import { contentId } from '../lib/content-id';
import { dataFitProblem } from '../lib/data-fit';
import { imagesPerClass } from '../lib/dataset-layout';
import { DatasetManifest, Sample, SplitManifest } from '../lib/manifest';
import { MIN_IMAGES_PER_CLASS, classesMissingFromSplits, stratifiedSplit } from '../lib/split';
import { SplitSummary } from '../lib/sweep-types';
import { SweepSpec } from '../lib/sweep-spec';
import { getJson, getJsonIfExists, putJson } from '../platform/storage';

export interface BalanceInput {
  datasetKey: string;
  perClass: number;
  seed: number;
  /** num_classes values from the grid, checked against the data before any training. */
  numClassesInGrid: number[];
}

export interface BalanceResult {
  balancedKey: string;
  classes: string[];
  perClass: number;
  oversampledClasses: string[];
}

export async function balanceDataset(input: BalanceInput): Promise<BalanceResult> {
  const dataset = await getJson<DatasetManifest>(input.datasetKey);
  const misfit = dataFitProblem(dataset.classes, input.perClass, input.numClassesInGrid);
  if (misfit) throw ApplicationFailure.nonRetryable(misfit, FailureType.spec);
  const balancedKey = artifactKeys.balanced(contentId({ dataset: dataset.datasetId, perClass: input.perClass, seed: input.seed }));
  const counts = imagesPerClass(dataset.images, dataset.classes);
  if (!(await getJsonIfExists(balancedKey))) {
    let samples: Sample[];
    try {
      samples = balanceClasses(dataset.images, dataset.classes, input.perClass, input.seed);
    } catch (error) {
      throw ApplicationFailure.nonRetryable((error as Error).message, FailureType.data);
    }
    await putJson(balancedKey, { datasetId: dataset.datasetId, classes: dataset.classes, samples });
  }
  return {
    balancedKey,
    classes: dataset.classes,
    perClass: input.perClass,
    oversampledClasses: dataset.classes.filter((c) => counts[c] < input.perClass),
  };
}

export interface SplitInput {
  balancedKey: string;
  fractions: SweepSpec['split'];
  seed: number;
}

export async function splitDataset(input: SplitInput): Promise<SplitSummary> {
  const balanced = await getJson<{ datasetId: string; classes: string[]; samples: Sample[] }>(input.balancedKey);
  const splitId = contentId({ balanced: input.balancedKey, fractions: input.fractions, seed: input.seed });
  const splitKey = artifactKeys.split(splitId);
  let manifest = await getJsonIfExists<SplitManifest>(splitKey);
  if (!manifest) {
    manifest = { splitId, datasetId: balanced.datasetId, classes: balanced.classes, ...stratifiedSplit(balanced.samples, input.fractions, input.seed) };
    for (const split of ['train', 'val', 'test'] as const) {
      if (manifest[split].length === 0) throw ApplicationFailure.nonRetryable(`the ${split} split is empty; raise balance.perClass or split.${split}`, FailureType.spec);
    }
    await putJson(splitKey, manifest);
  }
  // Checked on a stored split too: one stored before the check (or by an older worker) is as lopsided.
  const missing = classesMissingFromSplits(manifest, balanced.samples);
  if (missing.length) {
    const named = missing.map((m) => `class "${balanced.classes[m.label]}" has ${m.distinct} distinct image${m.distinct === 1 ? '' : 's'}, so the ${m.split} split has none of it`);
    throw ApplicationFailure.nonRetryable(`${named.join('; ')}. Copies of one image stay in one split, so each class needs at least ${MIN_IMAGES_PER_CLASS} distinct images (one per split): add images to it, or leave it out of data.classes`, FailureType.data);
  }
  return { splitId, splitKey, classes: manifest.classes, counts: { train: manifest.train.length, val: manifest.val.length, test: manifest.test.length } };
}
