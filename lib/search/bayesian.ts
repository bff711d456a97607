// What a bayesian search asks the Python suggestTrials activity (search/optuna/suggest.py) for each
// batch. Batches are deterministic: batch k (trials k*size+1 .. (k+1)*size, in plan order) is suggested
// from exactly the trials of batches 0..k-1, in run order, so a rerun proposes the same trials.
import { Params } from '../grid';
import { TrialSummary } from '../sweep-types';
import { objectiveValue } from './objective';
import { SearchSpace } from './space';
import { SearchSpec } from './search-spec';
import { defaultStartupTrials } from './tpe-batches';

export interface SuggestRequest {
  space: SearchSpace;
  seed: number;
  objective: SearchSpec['objective'];
  /** Finished trials in run order. */
  finished: FinishedTrial[];
  count: number;
  /** TPE's random start-up trials (absent from the requests of workers before it was sent: Optuna's 10). */
  startupTrials?: number;
}

/** A finished trial as TPE sees it: the objective at the kept epoch (null: failed), and where early stopping ended it. */
export interface FinishedTrial {
  params: Params;
  value: number | null;
  stoppedAtEpoch?: number;
  /**
   * With a null value: the trial ended, but its objective is NaN (a diverged head), at this epoch.
   * TPE counts it among the worst trials; as a failed one it would learn nothing from it.
   */
  divergedAtEpoch?: number;
}

/** Trials in run order, as TPE sees them. */
export function finishedTrials(trials: readonly TrialSummary[], objective: SearchSpec['objective']): FinishedTrial[] {
  return trials.slice().sort((a, b) => a.run - b.run).map((t) => {
    const ended = t.status === 'completed' || t.status === 'stopped';
    const value = ended ? objectiveValue(t, objective) : NaN;
    return {
      params: t.params,
      value: Number.isNaN(value) ? null : value,
      ...(t.stopped ? { stoppedAtEpoch: t.stopped.epoch } : {}),
      ...(ended && Number.isNaN(value) ? { divergedAtEpoch: t.stopped?.epoch ?? t.epochsDone } : {}),
    };
  });
}

/** The request for the batch that follows `finished` (every trial of the earlier batches, in run order). */
export function suggestRequest(search: SearchSpec, seed: number, finished: FinishedTrial[], count: number): SuggestRequest {
  return { space: search.space, seed, objective: search.objective, finished, count, startupTrials: search.startupTrials ?? defaultStartupTrials(search.space) };
}
