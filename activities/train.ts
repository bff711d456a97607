// Training one trial's head on cached features, checkpointed every epoch. A retry on any worker
// resumes from the last checkpoint, and because every random draw is keyed by (seed, trial, epoch,
// batch) the resumed trial computes exactly what an uninterrupted one would have.
import { CancelledFailure, Context } from '@temporalio/activity';
import * as tf from '@tensorflow/tfjs';
import { artifactKeys } from '../lib/artifact-keys';
import { EpochMetrics } from '../lib/epoch-rows';
import { FeatureRows } from '../formats/feature-shard';
import { randomStream, shuffled } from '../lib/random';
import { TrainResult, TrialInput } from '../lib/sweep-types';
import { decodeState, encodeState } from '../model/checkpoint';
import { HeadArrays, HeadShape, HeadTrainer, dropoutMask, initHeadArrays, zeroAdamState } from '../model/head';
import { initTensorflow } from '../model/tf-backend';
import { openFeatureSet } from '../platform/feature-cache';
import { deleteObject, getJsonIfExists, getObject, putJson, putObject } from '../platform/storage';
import { TrialEvents, writeReusedTrialEvents } from './tensorboard-events';

interface Checkpoint {
  /** The sweep whose attempt wrote it. */
  sweepId: string;
  /** Epochs completed. */
  epoch: number;
  epochs: EpochMetrics[];
  weightsKey: string;
  adamStep: number;
}

export async function trainTrial(input: TrialInput): Promise<TrainResult> {
  const backend = (await initTensorflow()).name;
  const { trial } = input;
  const shape: HeadShape = { inputDim: input.val.dim, hiddenUnits: trial.head.hidden_units, numClasses: trial.head.num_classes };
  if (input.reuse) {
    const finished = await getJsonIfExists<TrainResult>(artifactKeys.trialResult(trial.trialId));
    if (finished) {
      await writeReusedTrialEvents(input, finished, async () => decodeState(shape, await getObject(finished.headKey), 0).weights);
      return { ...finished, run: trial.run, params: trial.params, reused: true };
    }
  }
  const saved = await getJsonIfExists<Checkpoint>(artifactKeys.trialCheckpoint(trial.trialId));
  // Without reuse, only this sweep's own earlier attempts count: another sweep's checkpoint (even a
  // finished one) would make "retrain" a no-op.
  const checkpoint = saved && (input.reuse || saved.sweepId === input.sweepId) ? saved : undefined;
  let weightsKey = saved?.weightsKey;
  const start = checkpoint
    ? decodeState(shape, await getObject(checkpoint.weightsKey), checkpoint.adamStep)
    : { weights: initHeadArrays(shape, input.seed, trial.trialId), adam: zeroAdamState(shape) };
  const epochs = checkpoint?.epochs.slice() ?? [];
  const events = new TrialEvents(input.sweepId, trial);
  await events.writeHeader(input);
  await events.removeStaleEpochs(epochs.length);
  const val = await openFeatureSet(input.val);
  const trainer = new HeadTrainer(shape, trial.head.lr, start.weights, start.adam);
  try {
    for (let epoch = epochs.length; epoch < trial.head.n_epochs; epoch++) {
      const began = Date.now();
      const train = await openFeatureSet(input.train[epoch % input.train.length]);
      const { loss, accuracy } = await trainEpoch(trainer, train, input, epoch, epochs.at(-1)).finally(() => train.close());
      const evaluation = await trainer.evaluate(val);
      const epochDuration = (Date.now() - began) / 1000;
      epochs.push({
        epoch: epoch + 1,
        trainLoss: loss,
        trainAccuracy: accuracy,
        valLoss: evaluation.loss,
        valAccuracy: evaluation.accuracy,
        epochDuration,
        runDuration: (epochs.at(-1)?.runDuration ?? 0) + epochDuration,
      });
      // One read of the weights serves the histograms and the checkpoint. The epoch's events are stored
      // before its checkpoint, so a crash in between retrains the epoch and rewrites the same file.
      const weights = await trainer.weights();
      await events.writeEpoch(epochs.at(-1)!, weights);
      weightsKey = await saveCheckpoint(trial.trialId, input.sweepId, epochs, weights, trainer, weightsKey);
      Context.current().heartbeat({ epoch: epoch + 1, of: trial.head.n_epochs, metrics: epochs.at(-1) });
    }
    const headKey = `${artifactKeys.trialHead(trial.trialId)}/weights.bin`;
    await putObject(headKey, encodeState(await trainer.weights(), await trainer.adamState()));
    const result: TrainResult = {
      trialId: trial.trialId,
      run: trial.run,
      params: trial.params,
      epochs,
      backend,
      resumedFromEpoch: checkpoint?.epoch ?? 0,
      reused: false,
      headKey,
    };
    await putJson(artifactKeys.trialResult(trial.trialId), result);
    await events.writeEnd('success');
    return result;
  } finally {
    trainer.dispose();
    val.close();
  }
}

/**
 * One epoch of shuffled mini-batches; shuffling and dropout are keyed by (seed, trial, epoch, batch).
 * Every batch heartbeats its position with the previous epoch's metrics: heartbeats are throttled, so
 * the one that reaches the server is usually a batch's, and watchers should still see current metrics.
 */
export async function trainEpoch(trainer: HeadTrainer, data: FeatureRows, input: TrialInput, epoch: number, previous?: EpochMetrics): Promise<{ loss: number; accuracy: number }> {
  const { trial } = input;
  const dim = trainer.shape.inputDim;
  const batchSize = trial.head.batch_size;
  const order = shuffled([...Array(data.count).keys()], randomStream(input.seed, trial.trialId, 'shuffle', epoch));
  const batch = new Float32Array(batchSize * dim);
  const labels = new Int32Array(batchSize);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0, b = 0; start < order.length; start += batchSize, b++) {
    throwIfCancelled();
    const batchRows = order.slice(start, start + batchSize);
    const rows = batchRows.length;
    await data.read(batchRows, batch);
    batchRows.forEach((row, i) => { labels[i] = data.labels[row]; });
    const x = tf.tensor2d(batch.subarray(0, rows * dim), [rows, dim]);
    const mask = tf.tensor2d(dropoutMask(rows, trainer.shape.hiddenUnits, trial.head.dropout, input.seed, trial.trialId, epoch, b), [rows, trainer.shape.hiddenUnits]);
    const stats = await trainer.trainBatch(x, labels.subarray(0, rows), mask);
    tf.dispose([x, mask]);
    lossSum += stats.lossSum;
    correct += stats.correct;
    Context.current().heartbeat({ epoch: epoch + 1, of: trial.head.n_epochs, batch: b + 1, metrics: previous });
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count };
}

/** Cancellation reaches an activity through heartbeats; stop at the next batch. */
function throwIfCancelled(): void {
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledFailure('trial cancelled');
}

/** Stores the state after `epochs`, then drops the previous checkpoint's weights; returns the new weights key. */
async function saveCheckpoint(trialId: string, sweepId: string, epochs: EpochMetrics[], weights: HeadArrays, trainer: HeadTrainer, previousKey: string | undefined): Promise<string> {
  const weightsKey = artifactKeys.trialCheckpointWeights(trialId, epochs.length);
  await putObject(weightsKey, encodeState(weights, await trainer.adamState()));
  // The pointer moves only after the new weights are stored, so a crash never leaves it dangling.
  const checkpoint: Checkpoint = { sweepId, epoch: epochs.length, epochs, weightsKey, adamStep: trainer.step };
  await putJson(artifactKeys.trialCheckpoint(trialId), checkpoint);
  if (previousKey && previousKey !== weightsKey) await deleteObject(previousKey);
  return weightsKey;
}
