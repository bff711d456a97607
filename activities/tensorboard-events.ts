// TensorBoard event files of a sweep, on S3 (layout and names: formats/tensorboard-layout.ts). Every file is
// one complete object written with a single PUT, so `tensorboard --logdir s3://...` (or a copy of the
// folder) never sees half a file, and a rewrite replaces an object instead of appending to it.
import { artifactKeys } from '../lib/artifact-keys';
import { forEachBounded } from '../lib/bounded';
import { EpochMetrics } from '../lib/epoch-rows';
import { ParamValue, Params } from '../lib/grid';
import { SearchSpace } from '../lib/search/space';
import { TrainResult, TrialInput, TrialSummary } from '../lib/sweep-types';
import { EventFileSeries, type SessionStatusName } from '../formats/tensorboard';
import {
  SWEEP_EVENT_SERIES, epochEventFile, experimentEventFile, replayWallTimes, sessionEndEventFile, sessionStatus, trialOutcomeText,
  trialEventSeries, trialHeaderEventFile, trialRunName,
} from '../formats/tensorboard-layout';
import { HEAD_TENSOR_NAMES, HeadArrays } from '../model/head';
import { deleteObject, listKeys, putObject } from '../platform/storage';

const now = () => Date.now() / 1000;

/** Event files stored at once; a checkpoint after many short epochs has one per epoch. */
const PARALLEL_PUTS = 16;

export interface EpochEventFile { name: string; bytes: Uint8Array }

/** One trial's run folder: sweeps/<sweepId>/tensorboard/<run name>/. */
export class TrialEvents {
  readonly prefix: string;
  readonly series: EventFileSeries;

  constructor(sweepId: string, trial: { trialId: string; run: number; params: Params }) {
    this.prefix = artifactKeys.tensorboardRun(sweepId, trialRunName(trial.run, trial.params));
    this.series = trialEventSeries(trial.trialId);
  }

  private async put(name: string, bytes: Uint8Array): Promise<void> {
    await putObject(`${this.prefix}/${name}`, bytes);
  }

  /** The head's graph and the trial's hyperparameters (HParams session start). */
  async writeHeader(input: TrialInput): Promise<void> {
    const { head, params } = input.trial;
    const graph = { featureDim: input.val.dim, hiddenUnits: head.hidden_units, numClasses: head.num_classes, dropoutRate: head.dropout };
    await this.put(this.series.headerName(), trialHeaderEventFile(params, graph, now()));
  }

  /**
   * An epoch's file: its scalars, and a histogram of every head tensor when `weights` (after that epoch)
   * are given, made now and stored by writeEpochFiles.
   */
  epochFile(metrics: EpochMetrics, weights: HeadArrays | undefined, wallTime = now()): EpochEventFile {
    const histograms = weights ? HEAD_TENSOR_NAMES.map((name, i) => [name, weights[i]] as const) : [];
    return { name: this.series.epochName(metrics.epoch), bytes: epochEventFile(metrics, histograms, wallTime) };
  }

  /** Stores epoch files, a few at a time (a checkpoint stores those of every epoch trained since the last). */
  async writeEpochFiles(files: readonly EpochEventFile[]): Promise<void> {
    await forEachBounded(files, PARALLEL_PUTS, (file) => this.put(file.name, file.bytes));
  }

  /**
   * Epoch files for those of `epochs` the folder lacks, from their stored metrics (spaced in time as
   * they were trained); `weights` gives an epoch's histograms where its weights are known.
   */
  async writeMissingEpochs(epochs: readonly EpochMetrics[], weights: (epoch: EpochMetrics) => Promise<HeadArrays | undefined> = async () => undefined): Promise<void> {
    const existing = new Set(await this.existing());
    const missing = epochs.filter((e) => !existing.has(this.series.epochName(e.epoch)));
    if (missing.length === 0) return;
    const wallTimes = replayWallTimes(epochs, now());
    await this.writeEpochFiles(await Promise.all(missing.map(async (e) => this.epochFile(e, await weights(e), wallTimes[epochs.indexOf(e)]))));
  }

  /** HParams session end. The footer sorts after every epoch file, so a live TensorBoard reads it last. */
  async writeEnd(status: SessionStatusName, outcome?: { text: string; step: number }): Promise<void> {
    await this.put(this.series.footerName(), sessionEndEventFile(status, now(), outcome));
  }

  /** Names of this trial's files in the folder. */
  async existing(): Promise<string[]> {
    const names: string[] = [];
    for await (const { key } of listKeys(`${this.prefix}/`)) if (this.series.owns(key)) names.push(key.slice(this.prefix.length + 1));
    return names;
  }

  /**
   * Deletes epoch files after `lastEpoch`: written by an earlier attempt that got further than the
   * checkpoint this attempt resumes from (an epoch's events are stored before its checkpoint).
   * `beforeDelete` throws when this attempt may no longer write (a retry may have trained on and
   * stored those epochs' files since it resumed). Returns their names.
   */
  async removeStaleEpochs(lastEpoch: number, beforeDelete: () => void): Promise<string[]> {
    const stale = this.series.staleEpochFiles(await this.existing(), lastEpoch);
    for (const name of stale) {
      beforeDelete();
      await deleteObject(`${this.prefix}/${name}`);
    }
    return stale;
  }
}

/**
 * A trial reused from an earlier sweep: writes its events into this sweep's folder from the stored
 * result. Scalars for every epoch come from result.json (with the original spacing in time); only the
 * final weights are stored, so histograms are written for the last epoch alone (none when the stored
 * weights are of a later epoch than `result` ends at). Epoch files already in the folder (this sweep
 * ran the trial before) are kept as they are, histograms included. `end`: the trial ends here.
 */
export async function writeReusedTrialEvents(input: TrialInput, result: TrainResult, finalWeights: (() => Promise<HeadArrays>) | undefined, end = true): Promise<void> {
  const events = new TrialEvents(input.sweepId, input.trial);
  await events.writeHeader(input);
  // The stored head is the kept epoch's: its best, for a trial that keeps it, else its last.
  const kept = result.epochs.find((e) => e.epoch === result.bestEpoch) ?? result.epochs.at(-1)!;
  await events.writeMissingEpochs(result.epochs, async (e) => (e === kept ? finalWeights?.() : undefined));
  if (end) await events.writeEnd('success');
}

export interface TensorboardExperimentInput {
  sweepId: string;
  name: string;
  grid: Record<string, ParamValue[]>;
  /** A search's space: declared instead of the values drawn so far (sweeps started before it was passed send none). */
  space?: SearchSpace;
}

/**
 * The sweep's HParams experiment (every grid key with its values, or the search space's domains; the
 * metric tags), in the folder's root, written when the trials are planned so the HPARAMS tab has every
 * column from the first epoch on.
 * Returns the folder's s3 key prefix.
 */
export async function writeTensorboardExperiment(input: TensorboardExperimentInput): Promise<string> {
  const root = artifactKeys.tensorboard(input.sweepId);
  await putObject(`${root}/${SWEEP_EVENT_SERIES.headerName()}`, experimentEventFile(input, now()));
  return root;
}

/** Final HParams status of trials that did not complete (completed ones wrote "success" when training ended; stopped ones end here). */
export async function writeSessionEnds(sweepId: string, trials: readonly TrialSummary[]): Promise<void> {
  for (const trial of trials) {
    // A repeat (sameAs) has no run folder of its own: its first run's holds the events.
    if (trial.status !== 'completed' && trial.sameAs === undefined) await new TrialEvents(sweepId, trial).writeEnd(sessionStatus(trial.status), trialOutcomeText(trial));
  }
}
