// How a bayesian search's budget falls into batches, and which of them TPE suggests rather than its
// random start-up trials: read by the sweep workflow, the spec checks and `sweep validate`. Pure.
import { SearchSpec } from './search-spec';
import { SearchSpace } from './space';

/**
 * TPE's random start-up trials for a space: twice the hyperparameters actually searched (a choice of one
 * value is not), at least 5, as Ax sizes its initial design. Optuna's fixed 10 is meant for open-ended
 * studies; at a sweep's budget of a few dozen trials it leaves the model little to do (at 24 trials, 10
 * are random). Measured on the search benchmark's data: docs/search.md, "Start-up trials".
 */
export function defaultStartupTrials(space: SearchSpace): number {
  const searched = Object.values(space).filter((d) => d.type !== 'choice' || d.values.length > 1).length;
  return Math.max(5, 2 * searched);
}

/**
 * The trials TPE suggests from results, the rest being its random start-up trials: a batch of
 * `concurrency` is suggested from the batches before it, so TPE models a batch only once its start-up
 * trials (set, or the space's default) have finished before it. 0: the search is a random one.
 */
export function tpeSuggestedTrials(search: Pick<SearchSpec, 'budget' | 'startupTrials' | 'space'>, concurrency: number): { trials: number; startup: number; budgetNeeded: number } {
  const startup = search.startupTrials ?? defaultStartupTrials(search.space);
  let finished = 0;
  let trials = 0;
  for (const size of batchSizes(search.budget, concurrency)) {
    if (finished >= startup) trials += size;
    finished += size;
  }
  // The first batch after the start-up trials' batches, and one trial of it.
  return { trials, startup, budgetNeeded: Math.ceil(startup / concurrency) * concurrency + 1 };
}

/** Batch sizes: `concurrency` trials at a time, the last batch what remains of the budget. */
export function batchSizes(budget: number, concurrency: number): number[] {
  return Array.from({ length: Math.ceil(budget / concurrency) }, (_, k) => Math.min(concurrency, budget - k * concurrency));
}
