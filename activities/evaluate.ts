// Evaluating a trained head on a held-out split (the test split at the end of a trial): the scores,
// every prediction, and the misclassified images by source path.
import { Context } from '@temporalio/activity';
import { artifactKeys } from '../lib/artifact-keys';
import { keepLast } from '../lib/keep-last';
import { confusionMatrix, perClassScores } from '../lib/classification-metrics';
import { DatasetManifest } from '../lib/manifest';
import { misclassifiedImages } from '../lib/misclassified';
import { EvaluateInput, Evaluation, TestScores } from '../lib/sweep-types';
import { HeadShape, evaluateHead, headTensorShapes } from '../model/head';
import { decodeHeadWeights } from '../model/checkpoint';
import { initTensorflow } from '../model/tf-backend';
import { openFeatureSet } from '../platform/feature-cache';
import { encodeProbabilities } from '../formats/probabilities';
import { getJson, getObject, putJson, putObject, s3Url } from '../platform/storage';
import * as tf from '@tensorflow/tfjs';
import { testScores } from '../lib/test-scores';
import { splitManifest } from './split-manifest';

export async function evaluateTrial(input: EvaluateInput): Promise<TestScores> {
  // Heartbeat between the slow parts: the trial workflow gives this activity a heartbeat timeout.
  return testScores(await evaluateHeadOnSplit(input, (stage) => Context.current().heartbeat(stage)));
}

/**
 * The scores of a trained head on a split, its predictions and its misclassified images, stored beside
 * the trial; `progress` is told each slow part as it begins. trainTrial calls it too, for the test split
 * at a trial's end, without an activity of its own, with `head`: the bytes it has just stored at
 * `input.trained.headKey`, so they need not be read back, and `beforeWrites`, run before the scores are
 * stored: a training attempt presumed dead meanwhile stops there.
 */
export async function evaluateHeadOnSplit(
  input: EvaluateInput, progress: (stage: string) => void = () => undefined, head?: Uint8Array, beforeWrites: () => void = () => undefined,
): Promise<Evaluation> {
  await initTensorflow();
  progress('loading features');
  // The head and classes first: a set read from disk holds a file per shard open until closed, and a failed read
  // (S3 down, retried) must not leave them open attempt after attempt.
  const headBytes = head ?? await getObject(input.trained.headKey);
  // Trials started since 2026-12-08 are not given the class names: the split manifest (kept per process) has them.
  const classes = input.classes ?? (await splitManifest(input.splitKey)).classes;
  const data = await openFeatureSet(input.features);
  let params: tf.Tensor[] = [];
  try {
    progress('evaluating');
    const shape: HeadShape = { inputDim: data.dim, hiddenUnits: input.hiddenUnits, numClasses: classes.length };
    params = decodeHeadWeights(shape, headBytes).map((w, i) => tf.tensor(w, headTensorShapes(shape)[i]));
    const result = await evaluateHead(params, data, shape.numClasses);
    const confusion = confusionMatrix(data.labels, result.predictions, shape.numClasses);
    const wrong = await misclassified(input, classes, data.labels, result.predictions, result.logProbs);
    beforeWrites();
    const listKey = artifactKeys.headMisclassified(input.trained.headKey, input.split);
    await putJson(listKey, { split: input.split, count: wrong.length, of: data.labels.length, images: wrong });
    const evaluation: Evaluation = {
      split: input.split,
      loss: result.loss,
      accuracy: result.accuracy,
      perClass: perClassScores(confusion, classes),
      confusion,
      misclassified: { count: wrong.length, list: s3Url(listKey) },
    };
    const probabilitiesKey = artifactKeys.headProbabilities(input.trained.headKey, input.split);
    await putObject(probabilitiesKey, encodeProbabilities(result.logProbs));
    await putJson(artifactKeys.headEvaluation(input.trained.headKey, input.split), {
      ...evaluation,
      predictions: Array.from(result.predictions),
      labels: Array.from(data.labels),
      probabilitiesFile: { url: s3Url(probabilitiesKey), rows: data.labels.length, classes: shape.numClasses },
    });
    return evaluation;
  } finally {
    tf.dispose(params);
    data.close();
  }
}

/** The wrong predictions, named by the images' source paths (split manifest -> data set manifest). */
async function misclassified(input: EvaluateInput, classes: string[], labels: Int32Array, predictions: Int32Array, logProbs: Float32Array) {
  const { manifest, sources } = await splitSources(input.splitKey);
  const rows = manifest[input.split];
  if (rows.length !== labels.length || rows.some((r, i) => r.label !== labels[i])) {
    throw new Error(`the ${input.split} features (${labels.length} rows) do not match ${input.splitKey} (${rows.length} rows): features and split come from different sweeps`);
  }
  return misclassifiedImages(rows, predictions, logProbs, classes, sources);
}

/**
 * A split manifest and the source path of every image, for the split manifest evaluated last in this
 * process. Every trial of a sweep scores the same split, which meant two manifests read from S3 and
 * parsed per trial; both are content-addressed (their keys are hashes of what made them), so a kept
 * copy is never stale. One is kept: a worker serves one sweep at a time, and a data set's manifest can
 * be large.
 */
const splitSources = keepLast(async (splitKey: string) => {
  const manifest = await splitManifest(splitKey);
  const dataset = await getJson<DatasetManifest>(artifactKeys.dataset(manifest.datasetId));
  return { manifest, sources: new Map(dataset.images.map((i) => [i.sha256, i.source])) };
});
