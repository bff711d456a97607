// Training one trial's head on cached features, checkpointed every few seconds of training. A retry
// on any worker resumes from the last checkpoint, and because every random draw is keyed by (seed,
// trial, epoch, batch) the resumed trial computes exactly what an uninterrupted one would have.
// Attempts that overlap (a retry started while an earlier attempt still runs) are fenced by the
// checkpoint protocol (./checkpoints.ts), and an attempt that cannot reach Temporal for its heartbeat
// timeout stops.
import { ApplicationFailure } from '@temporalio/common';
import { CancelledFailure, Context, log, metricMeter } from '@temporalio/activity';
import * as tf from '@tensorflow/tfjs';
import { allSettledOrThrow } from '../lib/bounded';
import { artifactKeys } from '../lib/artifact-keys';
import { sha256Of } from '../lib/content-id';
import { EpochMetrics } from '../lib/epoch-rows';
import { FeatureRows } from '../formats/feature-shard';
import { randomStream, shuffled } from '../lib/random';
import { bestEpoch } from '../lib/search/objective';
import { DEFAULT_CHECKPOINT_EVERY_SECONDS } from '../lib/sweep-spec';
import { FeatureSetRef, TrainResult, TrialInput } from '../lib/sweep-types';
import { testEvaluationInput } from '../lib/trial-input';
import { decodeHeadWeights, decodeState, encodeHeadWeights, encodeState, headWeightsBytes } from '../model/checkpoint';
import { HeadShape, HeadTrainer, dropoutMask, initHeadArrays, zeroAdamState } from '../model/head';
import { initTensorflow } from '../model/tf-backend';
import { nodeName } from '../platform/config';
import { openFeatureSet } from '../platform/feature-cache';
import { deleteObject, getJsonIfExists, getObject, listKeys, objectExists, putObject } from '../platform/storage';
import { CheckpointState, CheckpointStore, TrialCheckpoint, attemptOwner, attemptRef, s3CheckpointStore } from './checkpoints';
import { longestSilenceSince } from './temporal-contact';
import { evaluateHeadOnSplit } from './evaluate';
import { testScores } from '../lib/test-scores';
import { heartbeatingWhile } from './heartbeat-while-running';
import { storeResult } from './trial-result';
import { EpochEventFile, TrialEvents, writeReusedTrialEvents } from './tensorboard-events';

/** Epochs trained since the last checkpoint: what the next one stores. */
interface Unsaved {
  pointer: CheckpointState;
  /** Weights and Adam moments after `pointer.epoch`. */
  state: Uint8Array;
  /** The best epoch so far and its state (a trial that keeps its best epoch). */
  best?: { epoch: number; weights: Uint8Array };
  files: EpochEventFile[];
}

export async function trainTrial(input: TrialInput, store: CheckpointStore = s3CheckpointStore()): Promise<TrainResult> {
  const startedAt = Date.now();
  const { trained, head } = await trainHead(input, store);
  // A stored result that went further holds a later epoch's head: the trial trains its own if it stops here.
  if (!input.evaluateTest || trained.storedEpochs) return trained;
  // Scored here, the test split costs the trial workflow no activity of its own and one workflow task less.
  // It heartbeats meanwhile (the test features' download can take longer than the heartbeat timeout),
  // with the epoch details `sweep watch` reads. An attempt presumed dead while it scored (its process
  // hung, say) stores no scores: the retry has stored them, and a later rung's may be beside the same head key.
  const done = epochDetails(trained.epochs, input.trial.head.n_epochs);
  const scores = () => evaluateHeadOnSplit(testEvaluationInput(input, trained), undefined, head, () => throwIfPresumedDead(startedAt));
  return { ...trained, test: testScores(await heartbeatingWhile(done, scores)) };
}

/**
 * The heartbeat details `sweep watch` reads (views/watch-view.ts parseTrainHeartbeat): the epochs done
 * and the last one's metrics, or before any has finished, the first named as in progress.
 */
function epochDetails(done: readonly EpochMetrics[], of: number): { epoch: number; of: number; metrics?: EpochMetrics } {
  return done.length ? { epoch: done.length, of, metrics: done.at(-1) } : { epoch: 1, of };
}

/** The trial's result, and its head's bytes as stored at `headKey` when it trained them (not when reused). */
async function trainHead(input: TrialInput, store: CheckpointStore): Promise<{ trained: TrainResult; head?: Uint8Array }> {
  const backend = (await initTensorflow()).name;
  const { trial } = input;
  const shape: HeadShape = { inputDim: input.val.dim, hiddenUnits: trial.head.hidden_units, numClasses: trial.head.num_classes };
  // Early stopping trains rung by rung; only the last epoch ends the trial's TensorBoard session.
  const until = Math.min(input.untilEpoch ?? trial.head.n_epochs, trial.head.n_epochs);
  const final = until === trial.head.n_epochs;
  const { info } = Context.current();
  const trainedBy = info.workflowExecution?.runId;
  const stored = input.reuse ? await storedResult(input, until) : undefined;
  // This trial workflow's own earlier attempt stored it (and then failed): trained here, not reused.
  const reused = !trainedBy || stored?.trainedBy !== trainedBy;
  const found = stored && reused ? await withHeadOfItsOwn(stored) : stored;
  if (found) {
    const head = async () => decodeHeadWeights(shape, await getObject(found.headKey));
    await writeReusedTrialEvents(input, found, found.storedEpochs ? undefined : head, final);
    return { trained: { ...found, run: trial.run, params: trial.params, reused } };
  }
  const startedAt = Date.now();
  const { checkpoint, resume } = await TrialCheckpoint.claim(store, trial.trialId, input.sweepId,
    attemptOwner(info.workflowExecution?.workflowId ?? info.activityId, info.activityId, info.attempt),
    // Without reuse, only this sweep's own earlier attempts count: another sweep's checkpoint (even a
    // finished one) would make "retrain" a no-op.
    // A checkpoint past `until` (another sweep went further) cannot be wound back: train from scratch.
    (saved) => (input.reuse || saved.sweepId === input.sweepId) && saved.epoch <= until,
    // Given up on (a later attempt of this run owns the pointer, or this process lost Temporal for the
    // heartbeat timeout since the attempt was scheduled: it hung, or was cut off): no claim.
    { attempt: attemptRef(trainedBy, info.activityId, info.attempt), stillCurrent: () => throwIfPresumedDead(info.currentAttemptScheduledTimestampMs || startedAt) });
  if (resume.repaired) log.warn(`trial ${trial.trialId}: ${resume.repaired}`);
  const start = resume.weights
    ? decodeState(shape, resume.weights, resume.pointer.adamStep)
    : { weights: initHeadArrays(shape, input.seed, trial.trialId), adam: zeroAdamState(shape) };
  const epochs = resume.pointer.epochs.slice();
  // A trial that keeps its best epoch carries the best weights so far (resumed with the checkpoint).
  let bestWeights = resume.bestWeights;
  const events = new TrialEvents(input.sweepId, trial);
  // Epoch files are written by attempts that claimed the trial: after the first claim there are none to
  // remove. An attempt stores the header before its first checkpoint, so a checkpoint of this sweep's
  // (the next early-stopping segment) means the header is there.
  const headerStored = resume.pointer.sweepId === input.sweepId && resume.pointer.epoch > 0;
  // An attempt that hung after its claim, while a retry trained on, must not delete the retry's files.
  const removeStale = () => events.removeStaleEpochs(epochs.length, () => throwIfPresumedDead(startedAt));
  await allSettledOrThrow([headerStored || events.writeHeader(input), checkpoint.firstClaim || removeStale()]);
  // Resumed from another sweep's checkpoint: the epochs it trained are in that sweep's folder, and this
  // sweep's gets their scalars (TensorBoard shows every epoch that result.json lists).
  if (resume.pointer.sweepId !== input.sweepId && epochs.length > 0) await events.writeMissingEpochs(epochs);
  // A set's first download to this node (thousands of shards at ImageNet's size) can outlast the
  // heartbeat timeout: it heartbeats by timer meanwhile, as the test split's does.
  const open = (set: FeatureSetRef) => heartbeatingWhile(epochDetails(epochs, trial.head.n_epochs), () => openFeatureSet(set));
  const val = await open(input.val);
  // The trainer allocates the head's variables; if that fails, the val set opened above is closed.
  const trainer = closingOnThrow(val, () => new HeadTrainer(shape, trial.head.lr, start.weights, start.adam));
  // A checkpoint stores the state after the last epoch, once `checkpointEverySeconds` have passed since
  // the one before (and always at `until`): with short epochs, storing each one would cost more than
  // training it, and a resumed trial computes the same bytes from any checkpoint. The epochs in between
  // are held here: their event files, and for a trial that keeps its best epoch, the best one's state.
  const everyMs = (input.checkpointEverySeconds ?? DEFAULT_CHECKPOINT_EVERY_SECONDS) * 1000;
  let unsaved: Unsaved | undefined;
  let savedAt = Date.now();
  // The last checkpoint, still being stored while the next epochs train in memory. Nothing of those
  // epochs is written before it is stored (a fenced save stops the attempt before its next write), so
  // the writes keep their order: event files and weights, pointer, then the next checkpoint's.
  let saving: Promise<void> = Promise.resolve();
  const heartbeatEpoch = (done: EpochMetrics[]) => Context.current().heartbeat(epochDetails(done, trial.head.n_epochs));
  // The worker's metrics (workers/metrics.ts), tagged with the activity and queue: a node's training rate.
  const epochsTrained = metricMeter.createCounter('sweep_epochs_trained', 'epoch', 'epochs of trial heads trained by this worker process (a resumed trial counts those it trains)');
  const save = (u: Unsaved) => checkpoint.save(u.pointer, u.state, u.best, () => events.writeEpochFiles(u.files)).then(() => heartbeatEpoch(u.pointer.epochs));
  try {
    for (let epoch = epochs.length; epoch < until; epoch++) {
      const began = Date.now();
      const train = await open(input.train[epoch % input.train.length]);
      const { loss, accuracy } = await trainEpoch(trainer, train, input, epoch, epochs.at(-1), startedAt).finally(() => train.close());
      const evaluation = await trainer.evaluate(val);
      const epochDuration = (Date.now() - began) / 1000;
      await saving;
      epochs.push({
        epoch: epoch + 1,
        trainLoss: loss,
        trainAccuracy: accuracy,
        valLoss: evaluation.loss,
        valAccuracy: evaluation.accuracy,
        epochDuration,
        runDuration: (epochs.at(-1)?.runDuration ?? 0) + epochDuration,
      });
      epochsTrained.add(1);
      // One read of the weights serves the histograms and the checkpoint. An epoch's events are stored
      // (alongside the checkpoint's weights) before the pointer names a later epoch, so a crash in
      // between retrains the epoch and rewrites the same file.
      const weights = await trainer.weights();
      throwIfPresumedDead(startedAt);
      const state = encodeState(weights, await trainer.adamState());
      const best = input.keepBest ? bestEpoch(epochs, input.keepBest)!.epoch : undefined;
      if (best === epochs.length) bestWeights = state;
      unsaved = {
        pointer: { sweepId: input.sweepId, epoch: epochs.length, epochs: epochs.slice(), adamStep: trainer.step },
        state,
        ...(best === undefined ? {} : { best: { epoch: best, weights: bestWeights! } }),
        files: [...unsaved?.files ?? [], events.epochFile(epochs.at(-1)!, weights)],
      };
      if (epochs.length < until && Date.now() - savedAt < everyMs) {
        heartbeatEpoch(epochs);
        continue;
      }
      saving = save(unsaved);
      // Marked handled here; the next epoch (or the end of training) awaits it and sees its error.
      saving.catch(() => undefined);
      unsaved = undefined;
      savedAt = Date.now();
    }
    await saving;
    // A stale attempt (the retry has already run) writes nothing more.
    throwIfPresumedDead(startedAt);
    const kept = input.keepBest ? bestEpoch(epochs, input.keepBest)!.epoch : epochs.length;
    const owner = trainedBy ?? input.sweepId;
    const headKey = final || input.endsHere ? artifactKeys.trialHeadWeights(trial.trialId, kept) : artifactKeys.trialRungHead(trial.trialId, owner, until);
    // The head is its weights alone: a third of its state's bytes (nothing resumes from it).
    const head = input.keepBest ? headWeightsBytes(shape, bestWeights!) : encodeHeadWeights(await trainer.weights());
    await putObject(headKey, head);
    const result: TrainResult = {
      headSha256: sha256Of(head),
      trialId: trial.trialId,
      run: trial.run,
      params: trial.params,
      epochs,
      backend,
      node: nodeName(),
      resumedFromEpoch: resume.pointer.epoch,
      reused: false,
      ...(trainedBy ? { trainedBy } : {}),
      headKey,
      ...(input.keepBest ? { bestEpoch: kept } : {}),
    };
    await storeResult(result);
    // Checked again after the head and result (it may have hung there): a stale attempt must not delete a
    // newer owner's checkpoint files, nor write "success" over the end a cancelled sweep's ranking wrote.
    throwIfPresumedDead(startedAt);
    await allSettledOrThrow([
      checkpoint.removeOrphans(),
      final && events.writeEnd('success'),
      // A rung's head lies before this segment's start, which resumed from that rung's checkpoint: a first
      // segment, which started from nothing (most of an ASHA search's), has none to look for.
      input.stopping && resume.pointer.epoch > 0 && removeEarlierRungHeads(trial.trialId, owner, until, () => throwIfPresumedDead(startedAt)),
    ]);
    return { trained: result, head };
  } catch (error) {
    // A cancelled attempt (the sweep cancelled, the worker shutting down) keeps the epochs it finished:
    // they are stored before it stops, so a later start resumes after them. A crash loses them.
    const pending = unsaved;
    if (pending && Context.current().cancellationSignal.aborted) {
      await saving.then(() => save(pending)).catch((saveError: Error) => log.warn(`trial ${trial.trialId}: epochs since the last checkpoint not stored on cancellation: ${saveError.message}`));
    }
    throw error;
  } finally {
    // A save in flight when training failed ends before the attempt does (its own error, if any, is the lesser).
    await saving.catch(() => undefined);
    trainer.dispose();
    val.close();
  }
}

/** make(), closing `opened` if it throws (once made, the caller's `finally` closes both). */
function closingOnThrow<T>(opened: { close(): void }, make: () => T): T {
  try {
    return make();
  } catch (error) {
    opened.close();
    throw error;
  }
}

/**
 * The stored result this trial can use up to `until`, or undefined when it must train. A result whose
 * head weights are gone is trained again (the same bytes come out). A result that went further than
 * asked (a sweep that did not stop the trial here) serves its first epochs, with the head of the epoch
 * kept at `until` when a sweep that stopped it there stored one; else with `storedEpochs` set: its head
 * is of a later epoch, and a trial that stops here trains its own.
 */
async function storedResult(input: TrialInput, until: number): Promise<TrainResult | undefined> {
  const finished = await getJsonIfExists<TrainResult>(artifactKeys.trialResult(input.trial.trialId));
  if (!finished || finished.epochs.length < until) return undefined;
  if (finished.epochs.length === until) return await objectExists(finished.headKey) ? finished : undefined;
  const epochs = finished.epochs.slice(0, until);
  const best = input.keepBest ? bestEpoch(epochs, input.keepBest)!.epoch : undefined;
  // The head named below is not always the finished result's: its hash goes with it.
  const { bestEpoch: _further, headSha256: _headOfFinished, ...rest } = finished;
  const served = { ...rest, epochs, ...(best === undefined ? {} : { bestEpoch: best }) };
  const keptHead = artifactKeys.trialHeadWeights(input.trial.trialId, best ?? until);
  if (await objectExists(keptHead)) return { ...served, headKey: keptHead };
  return await objectExists(finished.headKey) ? { ...served, storedEpochs: finished.epochs.length } : undefined;
}

/**
 * Deletes the heads, with their test scores, that this trial workflow run stored at its rungs before
 * `epoch`: its result names a later head now. `beforeDelete` throws when this attempt may no longer write.
 */
async function removeEarlierRungHeads(trialId: string, owner: string, epoch: number, beforeDelete: () => void): Promise<void> {
  const earlier: string[] = [];
  for await (const { key } of listKeys(artifactKeys.trialRungHeads(trialId, owner))) {
    if (artifactKeys.rungOfHeadFile(key) < epoch) earlier.push(key);
  }
  if (earlier.length === 0) return;
  beforeDelete();
  await allSettledOrThrow(earlier.map((key) => deleteObject(key)));
}

/**
 * A result another trial workflow stored at one of its rungs names that workflow's rung head, which it
 * deletes once it trains on to a later rung (heads stored before 2026-12-07 it rewrote): reused as it
 * is, this trial's ranking, test scores and export would lose their head. The head is copied under its
 * epoch's key, which every writer writes with the same bytes. The lease this attempt holds keeps the
 * owner from training on meanwhile; bytes that are not the result's all the same (a rewritten head of
 * before) are not copied, and the trial trains (undefined).
 */
async function withHeadOfItsOwn(found: TrainResult): Promise<TrainResult | undefined> {
  const kept = artifactKeys.trialHeadWeights(found.trialId, found.bestEpoch ?? found.epochs.length);
  if (found.storedEpochs || found.headKey === kept) return found;
  const head = await getObject(found.headKey);
  if (found.headSha256 !== undefined && sha256Of(head) !== found.headSha256) return undefined;
  await putObject(kept, head);
  return { ...found, headKey: kept };
}

/**
 * How often an epoch heartbeats its batch position. The worker sends at most one heartbeat per 2 s to
 * the server anyway (maxHeartbeatThrottleInterval), but each call converts its details to a payload
 * in this thread: once per batch (1-2 ms steps) that was a few percent of a trial's CPU.
 */
const BATCH_HEARTBEAT_MS = 100;

/**
 * One epoch of shuffled mini-batches; shuffling and dropout are keyed by (seed, trial, epoch, batch).
 * Batches heartbeat their position with the previous epoch's metrics (the first batch, then every
 * BATCH_HEARTBEAT_MS): the one that reaches the server is usually a batch's, and watchers should
 * still see current metrics.
 */
export async function trainEpoch(trainer: HeadTrainer, data: FeatureRows, input: TrialInput, epoch: number, previous?: EpochMetrics, attemptStartedAt = Date.now()): Promise<{ loss: number; accuracy: number }> {
  const { trial } = input;
  const dim = trainer.shape.inputDim;
  const batchSize = trial.head.batch_size;
  const order = shuffled([...Array(data.count).keys()], randomStream(input.seed, trial.trialId, 'shuffle', epoch));
  // A batch_size beyond the split is one batch of the whole split: buffers for more rows would be unused (or unallocatable).
  const rowsPerBatch = Math.min(batchSize, data.count);
  const batch = new Float32Array(rowsPerBatch * dim);
  const labels = new Int32Array(rowsPerBatch);
  let lossSum = 0;
  let correct = 0;
  let heartbeatAt = -Infinity;
  for (let start = 0, b = 0; start < order.length; start += batchSize, b++) {
    throwIfCancelled();
    throwIfPresumedDead(attemptStartedAt);
    const batchRows = order.slice(start, start + batchSize);
    const rows = batchRows.length;
    await data.read(batchRows, batch);
    batchRows.forEach((row, i) => { labels[i] = data.labels[row]; });
    const x = tf.tensor2d(batch.subarray(0, rows * dim), [rows, dim]);
    const mask = tf.tensor2d(dropoutMask(rows, trainer.shape.hiddenUnits, trial.head.dropout, input.seed, trial.trialId, epoch, b), [rows, trainer.shape.hiddenUnits]);
    const stats = await trainer.trainBatch(x, labels.subarray(0, rows), mask).finally(() => tf.dispose([x, mask]));
    lossSum += stats.lossSum;
    correct += stats.correct;
    if (performance.now() - heartbeatAt >= BATCH_HEARTBEAT_MS) {
      heartbeatAt = performance.now();
      Context.current().heartbeat({ epoch: epoch + 1, of: trial.head.n_epochs, batch: b + 1, metrics: previous });
    }
    await yieldToEventLoop();
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count };
}

/**
 * A head step is synchronous (tfjs-node), and awaiting it only queues a microtask, so without this an
 * epoch would hold the event loop from its first batch to its last: the workflow tasks, heartbeats and
 * S3 replies of everything else in this worker process would wait for it (hundreds of ms per epoch).
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Cancellation reaches an activity through heartbeats; stop at the next batch. */
function throwIfCancelled(): void {
  const signal = Context.current().cancellationSignal;
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledFailure('trial cancelled');
}

/**
 * Temporal presumes an attempt dead once it has had no heartbeat for the heartbeat timeout, and starts
 * a retry. Where this process could not reach Temporal for that long since the attempt started, the
 * retry may be running already: stop training and writing (the checkpoint protocol fences whatever
 * was in flight). The failure is reported if Temporal still listens; the retry resumes either way.
 */
function throwIfPresumedDead(attemptStartedAt: number): void {
  const limit = Context.current().info.heartbeatTimeoutMs;
  const silent = longestSilenceSince(attemptStartedAt);
  if (!limit || silent === undefined || silent <= limit) return;
  throw ApplicationFailure.retryable(`this attempt could not reach Temporal for ${(silent / 1000).toFixed(1)} s, longer than its heartbeat timeout ` +
    `(${limit / 1000} s), so Temporal has presumed it dead; it stopped, and a retry resumes from the last checkpoint`, 'PresumedDead');
}
