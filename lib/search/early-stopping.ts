// Early stopping as pure decisions on what has been reported so far: the sweep calls a rule when a
// trial finishes an epoch, with every trial's per-epoch objective values, and records the answer.
// Nothing here depends on arrival order beyond the histories passed in, so with concurrency > 1 a
// decision is a function of the reported values, and ties go by trial id.
import { HEAD_PARAM_DEFAULTS } from '../head-params';
import { Objective, better } from './objective';

/** One trial's objective values so far: values[i] is the value after epoch i + 1. */
export interface TrialHistory {
  trialId: string;
  values: readonly number[];
}

/**
 * Asynchronous successive halving (Li et al. 2018), in its "stop" form (Ray Tune's ASHAScheduler):
 * rungs at gracePeriod * reductionFactor^k epochs, below maxEpochs.
 */
export interface AshaConfig {
  gracePeriod: number;
  reductionFactor: number;
  maxEpochs: number;
}

/**
 * The median stopping rule (Golovin et al. 2017), close to Optuna's MedianPruner: from epoch
 * minEpochs on (n_warmup_steps + 1), every intervalEpochs epochs (interval_steps), stop a trial whose
 * best value so far is worse than the median of the other trials' values at the same epoch, once at
 * least minTrials others have reported that epoch. Unlike Optuna, whose n_startup_trials counts
 * completed trials and whose median is over completed trials, every trial that reported the epoch
 * counts (running, stopped or finished), so decisions need not wait for trials to finish.
 */
export interface MedianConfig {
  minEpochs: number;
  minTrials: number;
  /** Epochs between decisions; absent means 1 (and specs that do not set it parse as they always did). */
  intervalEpochs?: number;
}

export type EarlyStopping = ({ rule: 'asha' } & AshaConfig) | ({ rule: 'median' } & MedianConfig);

export interface StopDecision {
  stop: boolean;
  rule: 'asha' | 'median';
  /** The epoch just finished, which the decision is about. */
  epoch: number;
  /** ASHA: index k of the rung at gracePeriod * reductionFactor^k; absent when the epoch is not a rung. */
  rung?: number;
  /** ASHA: the trial's value at the rung; median: its best value so far. */
  value: number;
  /** ASHA: the worst value that continues; median: the others' median. Absent when there was nothing to compare. */
  cutoff?: number;
  /** One line for the record, e.g. "stopped at epoch 3 by ASHA rung 1 (value 0.52, cutoff 0.61): ...". */
  reason: string;
}

const DEFAULTS = {
  // eta = 3 as in the Hyperband and ASHA papers: a third of the trials go on at each rung.
  asha: { gracePeriod: 1, reductionFactor: 3, maxEpochs: HEAD_PARAM_DEFAULTS.n_epochs },
  // As Optuna MedianPruner's defaults (n_warmup_steps=0: the first epoch is already judged; 5 trials to compare with).
  median: { minEpochs: 1, minTrials: 5, intervalEpochs: 1 },
};

/** The fields of each rule's section. */
export const EARLY_STOPPING_FIELDS: Record<EarlyStopping['rule'], readonly string[]> = {
  asha: ['rule', ...Object.keys(DEFAULTS.asha)],
  median: ['rule', ...Object.keys(DEFAULTS.median)],
};

/** Validates a raw earlyStopping section, filling defaults; undefined when absent (no early stopping). */
export function parseEarlyStopping(raw: unknown, field = 'earlyStopping'): { earlyStopping?: EarlyStopping; problems: string[] } {
  if (raw === undefined) return { problems: [] };
  const r = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  if (r.rule !== 'asha' && r.rule !== 'median') {
    return { problems: [`${field}.rule: must be "asha" or "median", e.g. {"rule": "asha", "gracePeriod": 1, "reductionFactor": 3, "maxEpochs": 27}`] };
  }
  const problems: string[] = [];
  const int = (key: string, fallback: number, min: number): number => {
    const v = r[key] ?? fallback;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min) return v;
    problems.push(`${field}.${key}: ${JSON.stringify(v)} is not valid: expected an integer >= ${min} (default ${fallback})`);
    return fallback;
  };
  if (r.rule === 'median') {
    const d = DEFAULTS.median;
    const intervalEpochs = r.intervalEpochs === undefined ? {} : { intervalEpochs: int('intervalEpochs', d.intervalEpochs, 1) };
    return { earlyStopping: { rule: 'median', minEpochs: int('minEpochs', d.minEpochs, 1), minTrials: int('minTrials', d.minTrials, 1), ...intervalEpochs }, problems };
  }
  const d = DEFAULTS.asha;
  const asha = { rule: 'asha' as const, gracePeriod: int('gracePeriod', d.gracePeriod, 1), reductionFactor: int('reductionFactor', d.reductionFactor, 2), maxEpochs: int('maxEpochs', d.maxEpochs, 2) };
  if (!problems.length && asha.maxEpochs <= asha.gracePeriod) {
    problems.push(`${field}.maxEpochs: ${asha.maxEpochs} leaves no rung; it must be above gracePeriod (${asha.gracePeriod}), e.g. ${asha.gracePeriod * asha.reductionFactor ** 3}`);
  }
  return { earlyStopping: asha, problems };
}

/** The decision for a trial that has just finished `epoch`, by whichever rule the sweep uses. */
export function stopDecision(trialId: string, epoch: number, histories: readonly TrialHistory[], rule: EarlyStopping, objective: Objective): StopDecision {
  return rule.rule === 'asha'
    ? ashaDecision(trialId, epoch, histories, rule, objective)
    : medianDecision(trialId, epoch, histories, rule, objective);
}

/** Rung epochs: gracePeriod * reductionFactor^k below maxEpochs (reaching maxEpochs ends a trial anyway). */
export function ashaRungs(config: AshaConfig): number[] {
  const rungs: number[] = [];
  for (let r = config.gracePeriod; r < config.maxEpochs; r *= config.reductionFactor) rungs.push(r);
  return rungs;
}

/**
 * ASHA at `epoch`: if it is rung k, the trial continues iff it ranks in the top
 * max(1, floor(n / reductionFactor)) of the n trials (itself included) that have reported this rung
 * so far, by value at the rung, ties to the smaller trial id. The first trial at a rung always
 * continues (as in Ray, there is nothing to compare with yet). Between rungs, trials continue.
 */
export function ashaDecision(trialId: string, epoch: number, histories: readonly TrialHistory[], config: AshaConfig, objective: Objective): StopDecision {
  const value = valueAt(historyOf(trialId, epoch, histories), epoch);
  const rungs = ashaRungs(config);
  const rung = rungs.indexOf(epoch);
  if (rung < 0) {
    return { stop: false, rule: 'asha', epoch, value, reason: `epoch ${epoch} is not an ASHA rung (rungs at epochs ${rungs.join(', ')})` };
  }
  const ranked = histories.filter((h) => h.values.length >= epoch)
    .map((h) => ({ trialId: h.trialId, value: valueAt(h, epoch) }))
    .sort((a, b) => (better(a.value, b.value, objective) ? -1 : better(b.value, a.value, objective) ? 1 : compareIds(a.trialId, b.trialId)));
  const keep = Math.max(1, Math.floor(ranked.length / config.reductionFactor));
  const rank = ranked.findIndex((t) => t.trialId === trialId);
  const cutoff = ranked[keep - 1].value;
  const stop = rank >= keep;
  // A stopped trial level with the cutoff lost the tie by id; say so, or its reason reads as a contradiction.
  const tie = stop && value === cutoff ? '; level with the cutoff, it ranks after the trials of smaller ids (ties go by trial id)' : '';
  const standing = `rank ${rank + 1} of ${ranked.length} reported at this rung, the top ${keep} continue${tie}`;
  const head = stop ? `stopped at epoch ${epoch} by ASHA rung ${rung}` : `continues past ASHA rung ${rung} at epoch ${epoch}`;
  const [shownValue, shownCutoff] = shownApart(value, cutoff);
  return { stop, rule: 'asha', epoch, rung, value, cutoff, reason: `${head} (value ${shownValue}, cutoff ${shownCutoff}): ${standing}` };
}

/**
 * The median rule at `epoch`: the trial's best value over epochs 1..epoch against the median of the
 * other trials' values at this epoch (every other trial that has reported it: running, stopped or
 * finished, so decisions need not wait for trials to finish). Stops only when strictly worse.
 */
export function medianDecision(trialId: string, epoch: number, histories: readonly TrialHistory[], config: MedianConfig, objective: Objective): StopDecision {
  const own = historyOf(trialId, epoch, histories).values.slice(0, epoch);
  const value = own.reduce((best, v) => (better(v, best, objective) ? v : best), NaN);
  const base = { stop: false, rule: 'median' as const, epoch, value };
  if (epoch < config.minEpochs) return { ...base, reason: `epoch ${epoch} is before minEpochs ${config.minEpochs}` };
  const others = histories.filter((h) => h.trialId !== trialId && h.values.length >= epoch)
    .map((h) => valueAt(h, epoch)).filter((v) => !Number.isNaN(v));
  if (others.length < config.minTrials) {
    return { ...base, reason: `only ${others.length} other trial${others.length === 1 ? ' has' : 's have'} reported epoch ${epoch}; the median rule needs ${config.minTrials}` };
  }
  const cutoff = median(others);
  const stop = better(cutoff, value, objective);
  const head = stop ? `stopped at epoch ${epoch} by the median rule` : `continues at epoch ${epoch} under the median rule`;
  const [shownValue, shownCutoff] = shownApart(value, cutoff);
  return { ...base, stop, cutoff, reason: `${head} (best so far ${shownValue}, median of ${others.length} other trials at this epoch ${shownCutoff})` };
}

function historyOf(trialId: string, epoch: number, histories: readonly TrialHistory[]): TrialHistory {
  const h = histories.find((t) => t.trialId === trialId);
  if (!h || h.values.length < epoch || !Number.isInteger(epoch) || epoch < 1) {
    throw new Error(`no value for trial ${trialId} at epoch ${epoch}: pass its history with the epoch just finished`);
  }
  return h;
}

function valueAt(h: TrialHistory, epoch: number): number {
  return h.values[epoch - 1];
}

function median(values: readonly number[]): number {
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Two values for a reason line: 4 significant digits (0.9944, not 0.9944444444444445), more where
 * that would show two different values as one. The decision's own fields keep the exact values.
 */
export function shownApart(a: number, b: number): [string, string] {
  for (let digits = 4; digits < 17; digits++) {
    const shown: [string, string] = [String(Number(a.toPrecision(digits))), String(Number(b.toPrecision(digits)))];
    if (a === b || shown[0] !== shown[1]) return shown;
  }
  return [String(a), String(b)];
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The median rule's decision epochs for a trial of `nEpochs` epochs: `count` of them, every `every`
 * epochs from minEpochs, all before the last epoch (reaching it ends the trial anyway). A closed form,
 * so the history estimate (lib/search/stopping-history.ts) costs nothing at 10,000 epochs.
 */
export function medianSchedule(rule: MedianConfig, nEpochs: number): { first: number; every: number; count: number } {
  const every = rule.intervalEpochs ?? 1;
  const count = rule.minEpochs < nEpochs ? Math.floor((nEpochs - 1 - rule.minEpochs) / every) + 1 : 0;
  return { first: rule.minEpochs, every, count };
}

/** Epochs after which a trial of `nEpochs` epochs waits for a decision: ASHA's rungs, or the median rule's schedule. */
export function decisionEpochs(rule: EarlyStopping, nEpochs: number): number[] {
  if (rule.rule === 'median') {
    const { first, every, count } = medianSchedule(rule, nEpochs);
    return Array.from({ length: count }, (_, i) => first + every * i);
  }
  // Reaching the last epoch ends the trial anyway.
  return ashaRungs(rule).filter((e) => e < nEpochs);
}
