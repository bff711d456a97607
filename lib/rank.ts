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

/** Validation loss as the tie-break: lower first, and a loss that is no number (NaN, or null after JSON) last. */
const VAL_LOSS: Objective = { metric: 'valLoss', direction: 'minimize' };

export function rankTrials<T extends RankableTrial>(trials: readonly T[], objective: Objective = DEFAULT_OBJECTIVE): T[] {
  // better() puts NaN last, so each key is a consistent order even for diverged trials; a subtraction
  // with NaN (or null, which a NaN becomes in a trial summary) would make the order depend on the input's.
  const compare = (a: T, b: T, by: Objective) => {
    const [x, y] = [objectiveValue(a, by), objectiveValue(b, by)];
    return better(x, y, by) ? -1 : better(y, x, by) ? 1 : 0;
  };
  return trials.slice().sort((a, b) => compare(a, b, objective) || compare(a, b, VAL_LOSS) || (a.trialId < b.trialId ? -1 : a.trialId > b.trialId ? 1 : 0));
}
