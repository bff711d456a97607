// Evaluating a trained head on a held-out split (the test split at the end of a trial): the scores,
// every prediction, and the misclassified images by source path.
import { Context } from '@temporalio/activity';
import { artifactKeys } from '../lib/artifact-keys';
import { confusionMatrix, perClassScores } from '../lib/classification-metrics';
import { DatasetManifest, SplitManifest } from '../lib/manifest';
import { misclassifiedImages } from '../lib/misclassified';
import { EvaluateInput, Evaluation } from '../lib/sweep-types';
import { HeadShape, evaluateHead, headTensorShapes } from '../model/head';
import { decodeState } from '../model/checkpoint';
import { initTensorflow } from '../model/tf-backend';
import { openFeatureSet } from '../platform/feature-cache';
import { getJson, getObject, putJson, s3Url } from '../platform/storage';
import * as tf from '@tensorflow/tfjs';

export async function evaluateTrial(input: EvaluateInput): Promise<Evaluation> {
  // Heartbeat between the slow parts: the trial workflow gives this activity a heartbeat timeout.
  return evaluateHeadOnSplit(input, (stage) => Context.current().heartbeat(stage));
}

/**
 * The scores of a trained head on a split, its predictions and its misclassified images, stored beside
 * the trial; `progress` is told each slow part as it begins. trainTrial calls it too, for the test split
 * at a trial's end, without an activity of its own.
 */
export async function evaluateHeadOnSplit(input: EvaluateInput, progress: (stage: string) => void = () => undefined): Promise<Evaluation> {
  await initTensorflow();
  progress('loading features');
  const data = await openFeatureSet(input.features);
  progress('evaluating');
  const shape: HeadShape = { inputDim: data.dim, hiddenUnits: input.hiddenUnits, numClasses: input.classes.length };
  const { weights } = decodeState(shape, await getObject(input.trained.headKey), 0);
  const params = weights.map((w, i) => tf.tensor(w, headTensorShapes(shape)[i]));
  try {
    const result = await evaluateHead(params, data, shape.numClasses);
    const confusion = confusionMatrix(data.labels, result.predictions, shape.numClasses);
    const wrong = await misclassified(input, data.labels, result.predictions, result.logProbs);
    const listKey = artifactKeys.trialMisclassified(input.trained.trialId, input.split);
    await putJson(listKey, { split: input.split, count: wrong.length, of: data.labels.length, images: wrong });
    const evaluation: Evaluation = {
      split: input.split,
      loss: result.loss,
      accuracy: result.accuracy,
      perClass: perClassScores(confusion, input.classes),
      confusion,
      misclassified: { count: wrong.length, list: s3Url(listKey) },
    };
    await putJson(artifactKeys.trialEvaluation(input.trained.trialId, input.split), {
      ...evaluation,
      predictions: Array.from(result.predictions),
      labels: Array.from(data.labels),
      probabilities: Array.from(result.logProbs, Math.exp),
    });
    return evaluation;
  } finally {
    tf.dispose(params);
    data.close();
  }
}

/** The wrong predictions, named by the images' source paths (split manifest -> data set manifest). */
async function misclassified(input: EvaluateInput, labels: Int32Array, predictions: Int32Array, logProbs: Float32Array) {
  const split = await getJson<SplitManifest>(input.splitKey);
  const rows = split[input.split];
  if (rows.length !== labels.length || rows.some((r, i) => r.label !== labels[i])) {
    throw new Error(`the ${input.split} features (${labels.length} rows) do not match ${input.splitKey} (${rows.length} rows): features and split come from different sweeps`);
  }
  const dataset = await getJson<DatasetManifest>(artifactKeys.dataset(split.datasetId));
  return misclassifiedImages(rows, predictions, logProbs, input.classes, new Map(dataset.images.map((i) => [i.sha256, i.source])));
}
