// Evaluating a trained head on a held-out split (the test split at the end of a trial).
import { artifactKeys } from '../lib/artifact-keys';
import { confusionMatrix, perClassScores } from '../lib/classification-metrics';
import { SplitName } from '../lib/manifest';
import { Evaluation, FeatureSetRef, TrainResult } from '../lib/sweep-types';
import { HeadShape, evaluateHead, headTensorShapes } from '../model/head';
import { initTensorflow } from '../model/tf-backend';
import { loadFeatureSet } from './feature-store';
import { getObject, putJson } from './storage';
import { decodeState } from './train';
import * as tf from '@tensorflow/tfjs';

export interface EvaluateInput {
  trained: Pick<TrainResult, 'trialId' | 'headKey' | 'params'>;
  hiddenUnits: number;
  split: SplitName;
  features: FeatureSetRef;
  classes: string[];
}

export async function evaluateTrial(input: EvaluateInput): Promise<Evaluation> {
  await initTensorflow();
  const data = await loadFeatureSet(input.features);
  const shape: HeadShape = { inputDim: data.dim, hiddenUnits: input.hiddenUnits, numClasses: input.classes.length };
  const { weights } = decodeState(shape, await getObject(input.trained.headKey), 0);
  const params = weights.map((w, i) => tf.tensor(w, headTensorShapes(shape)[i]));
  try {
    const result = await evaluateHead(params, data.features, data.labels, shape.inputDim, shape.numClasses);
    const confusion = confusionMatrix(data.labels, result.predictions, shape.numClasses);
    const evaluation: Evaluation = {
      split: input.split,
      loss: result.loss,
      accuracy: result.accuracy,
      perClass: perClassScores(confusion, input.classes),
      confusion,
    };
    await putJson(`${artifactKeys.trial(input.trained.trialId)}/evaluation-${input.split}.json`, {
      ...evaluation,
      predictions: Array.from(result.predictions),
      labels: Array.from(data.labels),
    });
    return evaluation;
  } finally {
    tf.dispose(params);
  }
}
