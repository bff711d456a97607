// Ranking trials: best objective value first (by default validation accuracy, maximised); ties go to
// lower validation loss, then to the trial id, so the order never depends on completion order.
import { DEFAULT_OBJECTIVE, Objective, better, objectiveValue } from './search/objective';

export interface RankableTrial {
  trialId: string;
  valAccuracy: number;
  valLoss: number;
  trainAccuracy?: number;
  trainLoss?: number;
}

export function rankTrials<T extends RankableTrial>(trials: readonly T[], objective: Objective = DEFAULT_OBJECTIVE): T[] {
  const value = (t: T) => objectiveValue(t, objective);
  return trials.slice().sort((a, b) =>
    (better(value(a), value(b), objective) ? -1 : better(value(b), value(a), objective) ? 1 : 0) ||
    a.valLoss - b.valLoss || (a.trialId < b.trialId ? -1 : a.trialId > b.trialId ? 1 : 0));
}
