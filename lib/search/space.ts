// The search space: per hyperparameter, a set of values (choice) or a range to sample from.
// Pure: no Node APIs, no Math.random, no clock, so workflow code can import it and a replayed
// sample is the same sample.
import { RESULT_COLUMNS } from '../epoch-rows';
import { Grid, ParamValue, Params, isParamValue } from '../grid';
import { headParamLimit, withinHeadLimit } from '../head-params';
import { randomStream } from '../random';

export type Domain =
  | { type: 'choice'; values: ParamValue[] }
  /** Every value in [low, high) equally likely. */
  | { type: 'uniform'; low: number; high: number }
  /** log(value) uniform in [log low, log high): as many draws in 1e-4..1e-3 as in 1e-3..1e-2. */
  | { type: 'loguniform'; low: number; high: number }
  /** One of low, low + step, ..., high (high - low is a multiple of step). */
  | { type: 'int'; low: number; high: number; step: number };

/** The fields of each domain type. */
export const DOMAIN_FIELDS: Record<Domain['type'], readonly string[]> = {
  choice: ['type', 'values'],
  uniform: ['type', 'low', 'high'],
  loguniform: ['type', 'low', 'high'],
  int: ['type', 'low', 'high', 'step'],
};

/** Ordered map of hyperparameter name -> domain; keys the head does not know are labels, as in the grid. */
export type SearchSpace = Record<string, Domain>;

const EXAMPLE = '{"lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2}, "hidden_units": {"type": "choice", "values": [128, 256, 512]}}';

/** Validates a raw (parsed JSON) space; `problems` names each bad field and how to fix it (empty when valid). */
export function parseSearchSpace(raw: unknown, field = 'space'): { space: SearchSpace; problems: string[] } {
  const problems: string[] = [];
  const space: SearchSpace = {};
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    return { space, problems: [`${field}: must be an object of hyperparameter name -> domain, e.g. ${EXAMPLE}`] };
  }
  for (const [name, rawDomain] of Object.entries(raw)) {
    const at = `${field}.${name}`;
    if (RESULT_COLUMNS.includes(name) || name === '__proto__') {
      problems.push(`${at}: "${name}" is reserved (a results column or JavaScript name); rename the hyperparameter`);
    } else if (name === 'num_classes') {
      problems.push(`${at}: the number of classes comes from the data, not the search; leave num_classes out of the space`);
    } else {
      const domain = parseDomain(at, rawDomain, problems);
      if (domain) {
        const before = problems.length;
        checkHeadLimits(at, name, domain, problems);
        if (problems.length === before) space[name] = domain;
      }
    }
  }
  return { space, problems };
}

function parseDomain(at: string, raw: unknown, problems: string[]): Domain | undefined {
  if (!isObject(raw) || typeof raw.type !== 'string') {
    problems.push(`${at}: must be a domain object with a "type" of choice, uniform, loguniform or int, e.g. {"type": "choice", "values": [1, 2]}`);
    return undefined;
  }
  if (raw.type === 'choice') {
    const values = raw.values;
    if (!Array.isArray(values) || values.length === 0 || !values.every(isParamValue)) {
      problems.push(`${at}.values: must be a non-empty list of numbers, strings or booleans, e.g. {"type": "choice", "values": [128, 256]}`);
      return undefined;
    }
    if (new Set(values).size !== values.length) {
      problems.push(`${at}.values: lists a value twice; list each value once`);
      return undefined;
    }
    return { type: 'choice', values: values as ParamValue[] };
  }
  if (raw.type !== 'uniform' && raw.type !== 'loguniform' && raw.type !== 'int') {
    problems.push(`${at}.type: ${JSON.stringify(raw.type)} is not a domain type; use "choice", "uniform", "loguniform" or "int"`);
    return undefined;
  }
  const { low, high } = raw;
  const integer = raw.type === 'int';
  const kind = integer ? 'integers' : 'finite numbers';
  if (!isNumber(low, integer) || !isNumber(high, integer) || !(low < high)) {
    problems.push(`${at}: low and high must be ${kind} with low < high, e.g. {"type": "${raw.type}", "low": ${integer ? 1 : 0.1}, "high": ${integer ? 8 : 0.5}}; for a single value use {"type": "choice", "values": [v]}`);
    return undefined;
  }
  if (raw.type === 'loguniform' && low <= 0) {
    problems.push(`${at}.low: a loguniform range must be positive (got ${low}); use a small positive low such as 1e-5, or "uniform"`);
    return undefined;
  }
  if (raw.type === 'uniform' || raw.type === 'loguniform') {
    if (raw.step !== undefined) problems.push(`${at}.step: only "int" ranges take a step; use {"type": "int", ...} or a choice of values`);
    return { type: raw.type, low, high };
  }
  const step = raw.step ?? 1;
  if (!isNumber(step, true) || step < 1) {
    problems.push(`${at}.step: ${JSON.stringify(step)} is not valid: expected a positive integer (default 1)`);
    return undefined;
  }
  if ((high - low) % step !== 0) {
    const fixed = low + Math.floor((high - low) / step) * step;
    // A step past the whole range leaves low alone: the fix is the step, not high.
    const fix = fixed === low ? `"step": ${high - low}, or a choice of values` : `"high": ${fixed}`;
    problems.push(`${at}: high - low (${high - low}) must be a multiple of step ${step}, so high is a value it can take; use ${fix}`);
    return undefined;
  }
  return { type: 'int', low, high, step };
}

/** Head hyperparameters must stay within what the head accepts, whatever the domain. */
function checkHeadLimits(at: string, name: string, domain: Domain, problems: string[]): void {
  const limit = headParamLimit(name);
  if (!limit) return;
  if (limit.integer && (domain.type === 'uniform' || domain.type === 'loguniform')) {
    problems.push(`${at}: ${name} is an integer; use {"type": "int", "low": ..., "high": ..., "step": ...} or a choice`);
    return;
  }
  const within = (v: ParamValue) => withinHeadLimit(limit, v);
  // A uniform range never draws `high` itself, so an exclusive limit may equal it.
  const highOk = (high: number) => within(high) || (domain.type === 'uniform' && limit.maxExclusive === true && high === limit.max);
  const bad = domain.type === 'choice'
    ? domain.values.filter((v) => !within(v)).map((v) => JSON.stringify(v))
    : [within(domain.low) ? '' : `low ${domain.low}`, highOk(domain.high) ? '' : `high ${domain.high}`].filter(Boolean);
  if (bad.length) problems.push(`${at}: ${bad.join(', ')} out of range; ${name} must be ${limit.text}`);
}

/**
 * The configuration of random-search trial `index`: a pure function of (seed, index). Each
 * hyperparameter draws from its own stream, so adding or reordering keys leaves the others' draws alone.
 */
export function sampleConfig(space: SearchSpace, seed: number, index: number): Params {
  const config: Params = {};
  for (const [name, domain] of Object.entries(space)) {
    config[name] = sampleDomain(domain, randomStream('search', seed, index, name)());
  }
  return config;
}

/** Maps u in [0, 1) onto the domain. */
function sampleDomain(domain: Domain, u: number): ParamValue {
  switch (domain.type) {
    case 'choice':
      return domain.values[Math.floor(u * domain.values.length)];
    case 'uniform':
      return domain.low + u * (domain.high - domain.low);
    case 'loguniform':
      // exp(log) can round a hair outside [low, high); clamp so bounds hold exactly.
      return Math.min(Math.max(Math.exp(Math.log(domain.low) + u * Math.log(domain.high / domain.low)), domain.low), domain.high);
    case 'int':
      return domain.low + domain.step * Math.floor(u * intValueCount(domain));
  }
}

/** How many values an int range takes: low, low + step, ..., high (high - low is a multiple of step). */
export function intValueCount(domain: Extract<Domain, { type: 'int' }>): number {
  return (domain.high - domain.low) / domain.step + 1;
}

/** The largest number hyperparameter `name` takes: its domain's (a choice's largest, a range's high) when the space has one, else the grid's. */
export function largestValue(name: string, grid: Grid, space?: SearchSpace): number | undefined {
  const domain = space?.[name];
  const values = domain ? (domain.type === 'choice' ? domain.values : [domain.high]) : grid[name] ?? [];
  const numbers = values.filter((v): v is number => typeof v === 'number');
  return numbers.length ? Math.max(...numbers) : undefined;
}

/** The grid method: a choice-only space as a grid (lib/grid.ts); throws naming the fields that are ranges. */
export function gridOf(space: SearchSpace): Grid {
  const grid: Grid = {};
  const ranges: string[] = [];
  for (const [name, domain] of Object.entries(space)) {
    if (domain.type === 'choice') grid[name] = domain.values;
    else ranges.push(name);
  }
  if (ranges.length) {
    throw new Error(`a grid needs a choice of values for every hyperparameter; ${ranges.join(', ')} ${ranges.length > 1 ? 'are ranges' : 'is a range'}: list values, or use the random or bayesian method`);
  }
  return grid;
}

function isNumber(v: unknown, integer: boolean): v is number {
  return typeof v === 'number' && Number.isFinite(v) && (!integer || Number.isInteger(v));
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
