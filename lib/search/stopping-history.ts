// What the median rule puts in workflow histories, estimated before a sweep starts. A trial waits for a
// decision after every decision epoch: it reports its objective values so far to the sweep, and each
// segment's result lists the epochs so far, so a trial's history and each run of the sweep's grow with
// decisions x epochs, and the values at decision epochs travel in the carry when the sweep continues
// as new. Past Temporal's limits a sweep fails hours in; this says so first, with the fix. Pure.
//
// The per-decision costs are measured (test/workflows/history-size.ts, `median:100`: 8 trials of 100
// epochs, 99 decisions each: a trial's history 1,705 events and 1.02 MB, the sweep's 5,119 events and
// 1.19 MB; `median:100:3`, 34 decisions: 573 events and 349 KB, 1,666 events and 418 KB) and rounded up.
// ASHA is not estimated: a trial makes one decision per rung (a handful), and most trials stop at the first.
import { DEFAULT_TRIALS_PER_RUN, TEMPORAL_LIMITS, trialsInRun } from '../workflow-limits';
import { MedianConfig, medianSchedule } from './early-stopping';
import { megabytes } from '../megabytes';

export interface StoppingHistory {
  trialEvents: number;
  trialBytes: number;
  /** One run of the sweep's workflow (it continues as new every DEFAULT_TRIALS_PER_RUN trials, in whole bayesian batches). */
  runEvents: number;
  runBytes: number;
  /** The early-stopping values a run hands the next (continue-as-new), at the last run: the values at decision epochs. */
  carryBytes: number;
}

/** Kept under Temporal's warnings for a trial, and well under its limits for a run of the sweep and the carry. */
export const STOPPING_HISTORY_BUDGET: StoppingHistory = {
  trialEvents: 10_240,
  trialBytes: 10 * 1024 * 1024,
  runEvents: 40_000,
  runBytes: 25 * 1024 * 1024,
  carryBytes: TEMPORAL_LIMITS.payloadBytes * 0.75,
};

/** The longest trial's decisions: how many, their epochs' sum (values reported, epochs listed by results) and the last. */
function decisions(rule: MedianConfig, longestTrial: number): { count: number; sum: number; last: number } {
  const { first, every, count } = medianSchedule(rule, longestTrial);
  return { count, sum: count * first + (every * count * (count - 1)) / 2, last: count ? first + every * (count - 1) : 0 };
}

/** A carried trial's run, id, epochs reached and brackets: `[123,"<24 hex>",100,[]],` */
const CARRIED_TRIAL = 60;

/**
 * The histories of a median-rule sweep of `budget` trials, the longest `longestTrial` epochs, if no trial
 * stops early (the worst case); `batch` is a bayesian sweep's concurrency (its runs hold whole batches).
 */
export function medianRuleHistory(rule: MedianConfig, longestTrial: number, budget: number, batch = 1): StoppingHistory {
  const made = decisions(rule, longestTrial);
  const trialsPerRun = Math.min(budget, trialsInRun(DEFAULT_TRIALS_PER_RUN, batch));
  const JSON_NUMBER = 19;
  return {
    trialEvents: 20 + 18 * made.count,
    trialBytes: 170 * (made.sum + longestTrial) + 1700 * (made.count + 1),
    runEvents: trialsPerRun * (10 + 6.5 * made.count),
    runBytes: trialsPerRun * (3500 + JSON_NUMBER * made.sum + 550 * made.count),
    // Each ended trial's id, how far it got and its values at the decision epochs (sweep-ledger-at-decisions),
    // and never more than the estimate before it (every epoch up to the last decision's, ids left out):
    // a spec accepted then is accepted on replay.
    carryBytes: budget > trialsPerRun ? Math.min(JSON_NUMBER * budget * made.last, budget * (CARRIED_TRIAL + JSON_NUMBER * made.count)) : 0,
  };
}

/** Where each part of the history lies, in words. */
function parts(budget: number, batch: number): Record<keyof StoppingHistory, { where: string; unit: 'events' | 'bytes' }> {
  const perRun = trialsInRun(DEFAULT_TRIALS_PER_RUN, batch);
  const run = budget > perRun ? `each run of the sweep's workflow history (it continues as new every ${perRun} trials)` : "the sweep's workflow history";
  return {
    trialEvents: { where: "a trial's workflow history", unit: 'events' },
    trialBytes: { where: "a trial's workflow history", unit: 'bytes' },
    runEvents: { where: run, unit: 'events' },
    runBytes: { where: run, unit: 'bytes' },
    carryBytes: { where: 'the early-stopping values one run of the sweep hands the next (one payload)', unit: 'bytes' },
  };
}

/** The parts of `history` over the budget. */
function overBudget(history: StoppingHistory): Array<keyof StoppingHistory> {
  return (Object.keys(STOPPING_HISTORY_BUDGET) as Array<keyof StoppingHistory>).filter((key) => history[key] > STOPPING_HISTORY_BUDGET[key]);
}

/** The parts of `history` over the budget, in words. */
function overBudgetInWords(history: StoppingHistory, budget: number, batch: number): string[] {
  const where = parts(budget, batch);
  return overBudget(history).map((key) => {
    const { where: place, unit } = where[key];
    const amount = (n: number) => (unit === 'events' ? `${round(n)} events` : megabytes(n));
    return `about ${amount(history[key])} in ${place}, more than the ${amount(STOPPING_HISTORY_BUDGET[key])} allowed there`;
  });
}

/** An interval worth suggesting leaves the rule a few decisions to make. */
const MIN_DECISIONS = 3;

/**
 * Why a median-rule sweep would outgrow its workflow histories, with the smallest intervalEpochs that
 * fits; undefined when it fits. `batch`: a bayesian sweep's concurrency.
 */
export function medianRuleHistoryProblem(rule: MedianConfig, longestTrial: number, budget: number, batch = 1): string | undefined {
  const history = medianRuleHistory(rule, longestTrial, budget, batch);
  if (!overBudget(history).length) return undefined;
  const { every } = medianSchedule(rule, longestTrial);
  let fits: number | undefined;
  for (let interval = every + 1; fits === undefined && decisions({ ...rule, intervalEpochs: interval }, longestTrial).count >= MIN_DECISIONS; interval++) {
    if (!overBudget(medianRuleHistory({ ...rule, intervalEpochs: interval }, longestTrial, budget, batch)).length) fits = interval;
  }
  const fix = fits === undefined
    ? 'lower the budget or the epochs, or use ASHA (one decision per rung)'
    : `set search.earlyStopping.intervalEpochs to ${fits} (decide every ${fits} epochs, as Optuna's interval_steps), or use ASHA (one decision per rung)`;
  return `search.earlyStopping: the median rule deciding every ${every === 1 ? 'epoch' : `${every} epochs`} from epoch ${rule.minEpochs} of trials up to ${longestTrial} epochs long, ` +
    `over ${budget} trials, would put ${overBudgetInWords(history, budget, batch).join('; and ')}, if no trial stopped early (Temporal's limits: ${round(TEMPORAL_LIMITS.events)} events or ${megabytes(TEMPORAL_LIMITS.bytes)} per history, ` +
    `${megabytes(TEMPORAL_LIMITS.payloadBytes)} per payload; near or past them, a sweep can fail hours in): ${fix}`;
}

function round(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
