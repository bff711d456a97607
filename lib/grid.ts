// The parameter grid: an ordered map of name -> values, expanded to its cartesian product
// in the order a person reads it (last key varies fastest, like itertools.product).

export type ParamValue = number | string | boolean;
export type Grid = Record<string, ParamValue[]>;
export type Params = Record<string, ParamValue>;

/**
 * A value a hyperparameter can take. A number too large for a double (1e400) parses as Infinity, which
 * JSON cannot carry; lib/spec-mistakes.ts refuses it for new sweeps, so one started before replays.
 */
export function isParamValue(v: unknown): v is ParamValue {
  return typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number';
}

export function gridSize(grid: Grid): number {
  return Object.values(grid).reduce((n, values) => n * values.length, 1);
}

export function expandGrid(grid: Grid): Params[] {
  let runs: Params[] = [{}];
  for (const [name, values] of Object.entries(grid)) {
    runs = runs.flatMap((run) => values.map((value) => ({ ...run, [name]: value })));
  }
  return runs;
}

/** The distinct values each name takes over some trials' params, in first-seen order: the grid they span. */
export function valuesByName(runs: readonly Params[]): Grid {
  const grid: Grid = {};
  for (const run of runs) {
    for (const [name, value] of Object.entries(run)) {
      grid[name] ??= [];
      if (!grid[name].includes(value)) grid[name].push(value);
    }
  }
  return grid;
}
