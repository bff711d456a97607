// The sweep's deliverable: the best trial's head on top of its frozen backbone as ONE TF.js
// LayersModel (normalised image in, class probabilities out) under sweeps/<id>/model/, with a
// metadata.json saying how to feed it. Runs on the GPU queue, where the backbone's weights are.
import { ApplicationFailure } from '@temporalio/common';
import * as tf from '@tensorflow/tfjs';
import { FailureType } from '../lib/errors';
import { artifactKeys } from '../lib/artifact-keys';
import { EVAL_PREPROCESSING, ExportedModelMetadata } from '../formats/exported-model';
import { ExportedModel, TrainResult, TrialSummary } from '../lib/sweep-types';
import { headParams } from '../lib/head-params';
import { SweepSpec } from '../lib/sweep-spec';
import { loadLayersFeatureModel } from '../model/backbone';
import { saveHandler } from '../model/model-io';
import { decodeHeadWeights } from '../model/checkpoint';
import { initTensorflow } from '../model/tf-backend';
import { getJson, getObject, putJson, s3Url } from '../platform/storage';
import { retriedOnlyWhenTransient } from './failures';

export interface ExportInput {
  sweepId: string;
  best: TrialSummary;
  classes: string[];
  image: SweepSpec['image'];
  backbone: SweepSpec['backbone'];
  splitKey: string;
}

/** A failed export is reported in the leaderboard (modelError), not fatal; storage and other transient errors are retried. */
export async function exportModel(input: ExportInput): Promise<ExportedModel> {
  try {
    return await exportBestTrial(input);
  } catch (error) {
    throw retriedOnlyWhenTransient(error, 'exporting the best trial', FailureType.exportFailed);
  }
}

async function exportBestTrial(input: ExportInput): Promise<ExportedModel> {
  await initTensorflow();
  const { best, backbone } = input;
  // The head the trial kept; summaries made before they named it leave it to the trial's result.
  const headKey = best.headKey ?? (await getJson<TrainResult>(artifactKeys.trialResult(best.trialId))).headKey;
  if (backbone.format !== 'layers') {
    throw ApplicationFailure.nonRetryable(`only a LayersModel backbone can be exported together with its head; ${backbone.uri} is a graph model. The trained head of run ${best.run} is at ${s3Url(headKey)}`, FailureType.exportUnsupported);
  }
  const features = await loadLayersFeatureModel(backbone);
  const made: tf.Tensor[] = [];
  let model: tf.LayersModel | undefined;
  try {
    let x = features.outputs[0];
    // The same flattening as feature extraction (row-major per image).
    if (x.shape.length > 2) x = tf.layers.flatten({ name: 'classifier_flatten' }).apply(x) as tf.SymbolicTensor;
    const inputDim = x.shape[1]!;
    const head = headParams(best.params, input.classes.length);
    const shape = { inputDim, hiddenUnits: head.hidden_units, numClasses: input.classes.length };
    const weights = decodeHeadWeights(shape, await getObject(headKey));
    // The head of model/head.ts in inference mode (dropout is the identity); softmax instead of log-softmax, same argmax.
    const hidden = tf.layers.dense({ name: 'classifier_hidden', units: shape.hiddenUnits, activation: 'relu' });
    const output = tf.layers.dense({ name: 'classifier_output', units: shape.numClasses, activation: 'softmax' });
    model = tf.model({ name: 'sweep_classifier', inputs: features.inputs, outputs: output.apply(hidden.apply(x)) as tf.SymbolicTensor });
    made.push(tf.tensor2d(weights[0], [inputDim, shape.hiddenUnits]), tf.tensor1d(weights[1]), tf.tensor2d(weights[2], [shape.hiddenUnits, shape.numClasses]), tf.tensor1d(weights[3]));
    hidden.setWeights(made.slice(0, 2));
    output.setWeights(made.slice(2));

    const prefix = artifactKeys.sweepModel(input.sweepId);
    await model.save(saveHandler(s3Url(prefix)));
    const metadata: ExportedModelMetadata = {
      format: 'tfjs-layers-model',
      modelJson: 'model.json',
      classes: input.classes,
      input: { ...input.image, layout: 'NHWC float32 RGB', mean: backbone.mean, std: backbone.std, preprocessing: EVAL_PREPROCESSING },
      output: 'softmax probabilities, one per class, in the order of `classes`',
      backbone: { name: backbone.name, uri: backbone.uri, featureLayer: backbone.featureLayer },
      trial: { sweepId: input.sweepId, trialId: best.trialId, run: best.run, params: best.params, valAccuracy: best.valAccuracy, testAccuracy: best.test?.accuracy },
      splitKey: input.splitKey,
    };
    const metadataKey = artifactKeys.sweepModelFile(input.sweepId, 'metadata.json');
    await putJson(metadataKey, metadata);
    return { trialId: best.trialId, run: best.run, modelJson: s3Url(artifactKeys.sweepModelFile(input.sweepId, 'model.json')), metadata: s3Url(metadataKey) };
  } finally {
    tf.dispose(made);
    (model ?? features).dispose();
  }
}
