// What a sweep's TensorBoard folder holds, as bytes (no I/O; activities/tensorboard-events.ts stores them):
//
//   sweeps/<sweepId>/tensorboard/
//     events.out.tfevents.0000000000.sweep.00000000          the HParams experiment (every grid key, metrics)
//     run-003_hidden_units=512,dropout=0.4,.../              one run folder per trial
//       events.out.tfevents.0000000000.trial-<id>.00000000   header: head graph + HParams session start
//       events.out.tfevents.0000000000.trial-<id>.0000000<e+1>  epoch e: scalars + weight histograms, step e
//       events.out.tfevents.0000000000.trial-<id>.99999999   footer: HParams session end (status)
//
// File names are a pure function of the trial id (see formats/tensorboard/naming.ts): the "timestamp" field is
// 0 on purpose, and the host field is the trial id, so every attempt on every worker writes an epoch to
// the same object and a resumed trial replaces files instead of adding duplicate steps.
import { ParamValue, Params } from '../lib/grid';
import { EpochMetrics } from '../lib/epoch-rows';
import { SearchSpace } from '../lib/search/space';
import { TrialSummary } from '../lib/sweep-types';
import {
  EventFileSeries,
  EventFileWriter,
  classifierHeadGraph,
  hparamSpecsFromGrid,
  type ClassifierHeadOptions,
  type HParamSpec,
  type MetricSpec,
  type SessionStatusName,
} from './tensorboard';

/** Scalar tags, one per EpochMetrics field; the HParams tab reads its metric columns from them. */
export const SCALAR_TAGS = {
  trainLoss: 'train/loss',
  trainAccuracy: 'train/accuracy',
  valLoss: 'val/loss',
  valAccuracy: 'val/accuracy',
} as const satisfies Partial<Record<keyof EpochMetrics, string>>;

export const HPARAMS_METRICS: readonly MetricSpec[] = [
  { tag: SCALAR_TAGS.valAccuracy, displayName: 'val accuracy', dataset: 'validation' },
  { tag: SCALAR_TAGS.valLoss, displayName: 'val loss', dataset: 'validation' },
  { tag: SCALAR_TAGS.trainAccuracy, displayName: 'train accuracy', dataset: 'training' },
  { tag: SCALAR_TAGS.trainLoss, displayName: 'train loss', dataset: 'training' },
];

/** Longest run folder name: keeps a local copy of the folder within a file system's 255-byte name limit. */
const MAX_RUN_NAME = 200;

/** `run-003_hidden_units=512,dropout=0.4,...`: the grid position, then every hyperparameter, readable and unique. */
export function trialRunName(run: number, params: Params): string {
  const values = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(',');
  const name = `run-${String(run).padStart(3, '0')}${values ? `_${values}` : ''}`.replace(/[^A-Za-z0-9_.,=+-]/g, '_');
  return name.length > MAX_RUN_NAME ? name.slice(0, MAX_RUN_NAME) : name;
}

export function trialEventSeries(trialId: string): EventFileSeries {
  return new EventFileSeries(0, `trial-${trialId}`);
}

export const SWEEP_EVENT_SERIES = new EventFileSeries(0, 'sweep');

/** Grid keys as discrete hparams; a key whose values mix types (labels) is declared without a domain. */
export function hparamSpecs(grid: Readonly<Record<string, readonly ParamValue[]>>): HParamSpec[] {
  return hparamSpecsFromGrid(grid).map((spec) =>
    new Set(spec.values!.map((v) => typeof v)).size > 1 ? { name: spec.name } : spec);
}

/**
 * A search's space as hparams, the same in every run of a sweep that continues as new: a range as an
 * interval (every value drawn from it falls inside), a choice as its values.
 */
export function hparamSpecsOfSpace(space: Readonly<SearchSpace>): HParamSpec[] {
  return Object.entries(space).map(([name, domain]) => (domain.type === 'choice'
    ? hparamSpecs({ [name]: domain.values })[0]
    : { name, type: 'float', interval: { min: domain.low, max: domain.high } }));
}

/** `space`, for a search: its domains, rather than the values drawn so far (`grid`). */
export function experimentEventFile(sweep: { sweepId: string; name: string; grid: Readonly<Record<string, readonly ParamValue[]>>; space?: Readonly<SearchSpace> }, wallTime: number): Buffer {
  return new EventFileWriter()
    .addHParamsExperiment({
      name: sweep.name,
      description: `sweep ${sweep.sweepId}`,
      timeCreatedSecs: Math.floor(wallTime),
      hparams: sweep.space ? hparamSpecsOfSpace(sweep.space) : hparamSpecs(sweep.grid),
      metrics: HPARAMS_METRICS,
    }, wallTime)
    .drain();
}

export function trialHeaderEventFile(params: Params, head: ClassifierHeadOptions, wallTime: number): Buffer {
  return new EventFileWriter()
    .addGraph(classifierHeadGraph(head), wallTime)
    .addHParamsSessionStart({ hparams: params, startTimeSecs: Math.floor(wallTime) }, wallTime)
    .drain();
}

/**
 * One epoch at step `metrics.epoch`: the four scalars and, when given, a histogram per weight tensor
 * (tag = tensor name, e.g. dense1/kernel).
 */
export function epochEventFile(metrics: EpochMetrics, weights: ReadonlyArray<readonly [string, ArrayLike<number>]>, wallTime: number): Buffer {
  const writer = new EventFileWriter();
  const scalars: Record<string, number> = {};
  // A diverged epoch read back from JSON has null where it had NaN (JSON has no NaN): written as NaN.
  for (const [field, tag] of Object.entries(SCALAR_TAGS)) scalars[tag] = metrics[field as keyof typeof SCALAR_TAGS] ?? NaN;
  writer.addScalars(scalars, metrics.epoch, wallTime);
  for (const [tag, values] of weights) writer.addHistogram(tag, values, metrics.epoch, { wallTime });
  return writer.drain();
}

/** Tag of the text that says how a trial ended when its HParams status cannot (stopped early, failed). */
export const OUTCOME_TEXT_TAG = 'trial/outcome';

/** HParams session end, with `outcome` (markdown, at step `step`) in the Text tab when given. */
export function sessionEndEventFile(status: SessionStatusName, wallTime: number, outcome?: { text: string; step: number }): Buffer {
  const writer = new EventFileWriter().addHParamsSessionEnd({ status, endTimeSecs: Math.floor(wallTime) }, wallTime);
  if (outcome) writer.addText(OUTCOME_TEXT_TAG, outcome.text, outcome.step, wallTime);
  return writer.drain();
}

/** What the Text tab says about a trial that did not simply complete; nothing for a completed one. */
export function trialOutcomeText(trial: Pick<TrialSummary, 'status' | 'stopped' | 'error' | 'epochsDone'>): { text: string; step: number } | undefined {
  if (trial.status === 'stopped' && trial.stopped) return { text: `**stopped early**: ${trial.stopped.reason} (${trial.stopped.rule})`, step: trial.stopped.epoch };
  if (trial.status === 'failed' || trial.status === 'cancelled') return { text: `**${trial.status}**${trial.error ? `: ${trial.error}` : ''}`, step: trial.epochsDone };
  return undefined;
}

/** HParams has no "cancelled": a cancelled trial's outcome is unknown rather than a failure. */
export function sessionStatus(status: TrialSummary['status']): SessionStatusName {
  // HParams has no "stopped": a trial stopped early ended normally with its metrics, so it counts as a
  // success; the Text tab says it stopped (trialOutcomeText).
  return status === 'completed' || status === 'stopped' ? 'success' : status === 'failed' ? 'failure' : 'unknown';
}

/**
 * Wall times for epochs rewritten from stored metrics (a reused trial): the original spacing
 * (runDuration), ending at `end`.
 */
export function replayWallTimes(epochs: readonly EpochMetrics[], end: number): number[] {
  const total = epochs.at(-1)?.runDuration ?? 0;
  return epochs.map((e) => end - total + e.runDuration);
}
