// What a bayesian search puts in the sweep's workflow history, estimated before it starts. Each batch's
// suggestion request carries every trial finished so far (TPE models them all), so a run's requests
// grow with the trials before it, and the finished trials travel in the carry when the sweep continues
// as new. At 1,000 trials one at a time the last run's 100 requests hold ~12 MB (past Temporal's
// 10 MB warning); at ~2,000, twice that. This says so before the sweep starts, with the fix. Pure.
import { DEFAULT_TRIALS_PER_RUN, TEMPORAL_LIMITS, trialsInRun } from '../workflow-limits';
import { megabytes } from '../megabytes';
import { SearchSpace } from './space';
import { STOPPING_HISTORY_BUDGET } from './stopping-history';

/** A double as JSON at its longest (0.00012345678901234567). */
const JSON_NUMBER = 22;

/** The JSON bytes of one finished trial in a request (lib/search/bayesian.ts FinishedTrial) at its longest, with a comma. */
export function finishedTrialBytes(space: SearchSpace): number {
  const params = Object.entries(space).map(([name, domain]) => {
    const value = domain.type === 'choice' ? Math.max(...domain.values.map((v) => JSON.stringify(v).length)) : JSON_NUMBER;
    return JSON.stringify(name).length + 1 + value;
  });
  // {"params":{...},"value":<number>,"stoppedAtEpoch":<int>},
  return '{"params":{},"value":,"stoppedAtEpoch":10000},'.length + params.reduce((a, b) => a + b + 1, 0) + JSON_NUMBER;
}

/**
 * The bytes of the requests of a bayesian sweep's last run, of its largest request (one payload), and
 * of the finished trials the run before hands it (in the carry).
 */
export function suggestHistory(space: SearchSpace, budget: number, concurrency: number): { runBytes: number; requestBytes: number; carryBytes: number } {
  const perTrial = finishedTrialBytes(space);
  const perRun = Math.min(budget, trialsInRun(DEFAULT_TRIALS_PER_RUN, concurrency));
  const batches = Math.ceil(perRun / concurrency);
  const before = budget - perRun;
  // Batch j of the last run carries the trials of earlier runs and its own run's j batches before it.
  const carried = batches * before + (concurrency * batches * (batches - 1)) / 2;
  return { runBytes: carried * perTrial, requestBytes: Math.max(0, budget - concurrency) * perTrial, carryBytes: before * perTrial };
}

/**
 * Why a bayesian sweep's suggestion requests would outgrow its workflow histories, with the fix; undefined
 * when they fit. `alongside`: what the median rule puts in the same run and carry (stopping-history.ts).
 */
export function suggestHistoryProblem(space: SearchSpace, budget: number, concurrency: number, alongside = { runBytes: 0, carryBytes: 0 }): string | undefined {
  const { runBytes, requestBytes, carryBytes } = suggestHistory(space, budget, concurrency);
  const beside = alongside.runBytes ? ' beside the median rule\'s decisions' : '';
  const runOver = (bytes: number) => bytes + alongside.runBytes > STOPPING_HISTORY_BUDGET.runBytes;
  const over = [
    ...runOver(runBytes) ? [`about ${megabytes(runBytes)} of suggestion requests${beside} in the last run of the sweep's workflow history, more than the ${megabytes(STOPPING_HISTORY_BUDGET.runBytes)} allowed there`] : [],
    ...requestBytes > STOPPING_HISTORY_BUDGET.carryBytes ? [`about ${megabytes(requestBytes)} in its last request (one payload), more than the ${megabytes(STOPPING_HISTORY_BUDGET.carryBytes)} allowed`] : [],
    ...alongside.carryBytes && carryBytes + alongside.carryBytes > STOPPING_HISTORY_BUDGET.carryBytes
      ? [`about ${megabytes(carryBytes + alongside.carryBytes)} of finished trials and early-stopping values handed from one run to the next (one payload), more than the ${megabytes(STOPPING_HISTORY_BUDGET.carryBytes)} allowed`] : [],
  ];
  if (!over.length) return undefined;
  let fits = concurrency;
  while (fits < budget && runOver(suggestHistory(space, budget, fits).runBytes)) fits++;
  const fix = over.length === 1 && runOver(runBytes) && fits < budget ? `a concurrency of at least ${fits} (fewer, larger batches)` : 'a smaller budget';
  return `search.budget: a bayesian search of ${budget} trials at concurrency ${concurrency} would put ${over.join('; and ')} (every batch's request carries every trial finished before it; ` +
    `Temporal's limits: ${megabytes(TEMPORAL_LIMITS.bytes)} per history, ${megabytes(TEMPORAL_LIMITS.payloadBytes)} per payload; near or past them, a sweep fails hours in): use ${fix}`;
}
