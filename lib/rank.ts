// Ranking trials: best validation accuracy first; ties go to lower validation loss, then to the
// trial id, so the order never depends on completion order.

export interface RankableTrial {
  trialId: string;
  valAccuracy: number;
  valLoss: number;
}

export function rankTrials<T extends RankableTrial>(trials: readonly T[]): T[] {
  return trials.slice().sort((a, b) =>
    b.valAccuracy - a.valAccuracy || a.valLoss - b.valLoss || (a.trialId < b.trialId ? -1 : a.trialId > b.trialId ? 1 : 0));
}
