// What a search optimises: one per-epoch metric and a direction. Pure, so workflow code can import it.
import { EpochMetrics } from '../epoch-rows';

export interface Objective {
  /** An EpochMetrics field (valAccuracy, valLoss, ...) or a metric a later trial reports under that name. */
  metric: 'valAccuracy' | 'valLoss' | (string & {});
  direction: 'maximize' | 'minimize';
}

/** What the grid sweep ranks by today. */
export const DEFAULT_OBJECTIVE: Objective = { metric: 'valAccuracy', direction: 'maximize' };

/** The objective section's fields. */
export const OBJECTIVE_FIELDS = ['metric', 'direction'];

/** Which way a metric gets better, by its name: losses are minimised, anything else (an accuracy) maximised. */
export function usualDirection(metric: string): Objective['direction'] {
  return /loss/i.test(metric) ? 'minimize' : 'maximize';
}

/** Validates a raw objective; a missing direction follows the metric's name (losses are minimised). */
export function parseObjective(raw: unknown, field = 'objective'): { objective: Objective; problems: string[] } {
  if (raw === undefined) return { objective: DEFAULT_OBJECTIVE, problems: [] };
  const r = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  const problems: string[] = [];
  let metric = DEFAULT_OBJECTIVE.metric;
  if (!r || typeof r.metric !== 'string' || !/^[A-Za-z_]\w*$/.test(r.metric)) {
    problems.push(`${field}.metric: must name a per-epoch metric, e.g. {"metric": "valAccuracy", "direction": "maximize"} or {"metric": "valLoss", "direction": "minimize"}`);
  } else {
    metric = r.metric;
  }
  const direction = r?.direction ?? usualDirection(metric);
  if (direction !== 'maximize' && direction !== 'minimize') {
    problems.push(`${field}.direction: ${JSON.stringify(direction)} is not valid: expected "maximize" or "minimize"`);
    return { objective: { metric, direction: 'maximize' }, problems };
  }
  return { objective: { metric, direction }, problems };
}

/** The objective's value of one epoch (or of a trial's kept epoch); NaN when it does not carry the metric. */
export function objectiveValue(epoch: Partial<EpochMetrics>, objective: Objective): number {
  const v = (epoch as unknown as Record<string, unknown>)[objective.metric];
  return typeof v === 'number' ? v : NaN;
}

/** Whether value a is strictly better than b; NaN is worse than any number, so a diverged run never wins. */
export function better(a: number, b: number, objective: Objective): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return objective.direction === 'maximize' ? a > b : a < b;
}

/**
 * The epoch whose weights a trial should keep: the best objective value, ties to the earliest epoch
 * (fewer epochs, less overfit for the same score). `last: true` keeps the last epoch, as the grid
 * sweep does today. Undefined for no epochs.
 */
export function bestEpoch(epochs: readonly EpochMetrics[], objective: Objective = DEFAULT_OBJECTIVE, options: { last?: boolean } = {}): EpochMetrics | undefined {
  const ordered = epochs.slice().sort((a, b) => a.epoch - b.epoch);
  if (options.last) return ordered[ordered.length - 1];
  let best: EpochMetrics | undefined;
  for (const e of ordered) if (!best || better(objectiveValue(e, objective), objectiveValue(best, objective), objective)) best = e;
  return best;
}
