// The sweep spec's `search` section: how trials are chosen (grid, random, bayesian), how many, over
// which space, by which objective, with which early stopping. Pure, like the rest of the spec.
import { Grid, gridSize } from '../grid';
import { EarlyStopping, parseEarlyStopping } from './early-stopping';
import { Objective, parseObjective } from './objective';
import { SearchSpace, gridOf, parseSearchSpace } from './space';

export const SEARCH_METHODS = ['grid', 'random', 'bayesian'] as const;

export interface SearchSpec {
  /** grid: every combination of a choice-only space; random: sampleConfig(space, seed, i); bayesian: Optuna TPE. */
  method: (typeof SEARCH_METHODS)[number];
  /** Trials to run; for the grid method, the grid's size. */
  budget: number;
  space: SearchSpace;
  objective: Objective;
  earlyStopping?: EarlyStopping;
  /** Keep each trial's best epoch by the objective (its weights are ranked, tested and exported) instead of its last. */
  keepBestEpoch: boolean;
  /** Bayesian: trials drawn at random before TPE models anything (Optuna's n_startup_trials); default defaultStartupTrials(space). */
  startupTrials?: number;
}

/** Per-epoch metrics a trial reports, so the ones an objective can name. */
export const OBJECTIVE_METRICS = ['valAccuracy', 'valLoss', 'trainAccuracy', 'trainLoss'];

/** The search section's fields. */
export const SEARCH_FIELDS = ['method', 'budget', 'space', 'objective', 'earlyStopping', 'keepBestEpoch', 'startupTrials'];
const EXAMPLE = '{"method": "random", "budget": 20, "space": {"lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2}}}';

/**
 * Validates a raw `search` section. `grid` is the grid a grid-method search expands (the same grid a
 * `grid` section would give, so the trials and their ids are the same), empty for the other methods.
 */
export function parseSearchSection(raw: unknown, field = 'search'): { search?: SearchSpec; grid: Grid; problems: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { grid: {}, problems: [`${field}: must be an object, e.g. ${EXAMPLE}`] };
  }
  const r = raw as Record<string, unknown>;
  const problems = Object.keys(r).filter((k) => !SEARCH_FIELDS.includes(k))
    .map((k) => `${field}.${k}: not a search field; the fields are ${SEARCH_FIELDS.join(', ')}`);
  const method = SEARCH_METHODS.find((m) => m === r.method);
  if (!method) problems.push(`${field}.method: ${JSON.stringify(r.method)} is not valid: expected "grid", "random" or "bayesian"`);
  const { space, problems: spaceProblems } = parseSearchSpace(r.space, `${field}.space`);
  const { objective, problems: objectiveProblems } = parseObjective(r.objective, `${field}.objective`);
  const { earlyStopping, problems: stoppingProblems } = parseEarlyStopping(r.earlyStopping, `${field}.earlyStopping`);
  problems.push(...spaceProblems, ...objectiveProblems, ...stoppingProblems);
  if (!objectiveProblems.length && !OBJECTIVE_METRICS.includes(objective.metric)) {
    problems.push(`${field}.objective.metric: "${objective.metric}" is not a metric trials report; use one of ${OBJECTIVE_METRICS.join(', ')}`);
  }
  if (earlyStopping?.rule === 'asha' && 'n_epochs' in space) {
    problems.push(`${field}.space.n_epochs: with ASHA, earlyStopping.maxEpochs is every trial's epoch budget; leave n_epochs out of the space`);
  }
  const keepBestEpoch = r.keepBestEpoch ?? false;
  if (typeof keepBestEpoch !== 'boolean') problems.push(`${field}.keepBestEpoch: ${JSON.stringify(keepBestEpoch)} is not valid: expected true or false (default false: the last epoch)`);

  const startupTrials = r.startupTrials;
  if (startupTrials !== undefined && method !== 'bayesian') {
    problems.push(`${field}.startupTrials: only the bayesian method has start-up trials (random draws before TPE models the results); leave it out, or use "method": "bayesian"`);
  } else if (startupTrials !== undefined && (typeof startupTrials !== 'number' || !Number.isInteger(startupTrials) || startupTrials < 1)) {
    problems.push(`${field}.startupTrials: ${JSON.stringify(startupTrials)} is not valid: expected an integer >= 1 (default: twice the hyperparameters searched, at least 5)`);
  }

  let grid: Grid = {};
  if (method === 'grid' && !spaceProblems.length) {
    try {
      grid = gridOf(space);
    } catch (error) {
      problems.push(`${field}.space: ${(error as Error).message}`);
    }
  }
  const size = gridSize(grid);
  const budget = method === 'grid' && r.budget === undefined ? size : r.budget;
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1) {
    problems.push(`${field}.budget: ${JSON.stringify(budget)} is not valid: expected the number of trials, an integer >= 1${method === 'grid' ? ' (default: the grid\'s size)' : ''}`);
  } else if (method === 'grid' && !problems.length && budget !== size) {
    problems.push(`${field}.budget: the grid method runs every combination, ${size} here; leave budget out, or use the random method for ${budget} trials`);
  }
  if (problems.length || !method) return { grid: {}, problems };
  return {
    search: {
      method, budget: budget as number, space, objective, ...(earlyStopping ? { earlyStopping } : {}), keepBestEpoch: keepBestEpoch as boolean,
      ...(startupTrials === undefined ? {} : { startupTrials: startupTrials as number }),
    },
    grid,
    problems,
  };
}
