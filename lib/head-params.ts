// The head's hyperparameters: which ones it understands, their defaults, and a trial's values.
// Its own module so the spec parser and the search rules both read the defaults and limits without a cycle.
import { ParamValue } from './grid';

/** Hyperparameters the head understands, with defaults when the grid leaves them out. */
export const HEAD_PARAM_DEFAULTS = { hidden_units: 256, dropout: 0.5, lr: 0.001, batch_size: 25, n_epochs: 40 } as const;
export type HeadParams = { -readonly [K in keyof typeof HEAD_PARAM_DEFAULTS]: number } & { num_classes: number };

/** What the head accepts for each hyperparameter: grid values and search domains are both checked against it. */
export type HeadParamLimit = { integer: boolean; min: number; max: number; maxExclusive?: boolean; text: string };
export const HEAD_PARAM_LIMITS: Record<string, HeadParamLimit> = {
  hidden_units: { integer: true, min: 1, max: Infinity, text: 'a positive integer' },
  batch_size: { integer: true, min: 1, max: Infinity, text: 'a positive integer' },
  n_epochs: { integer: true, min: 1, max: Infinity, text: 'a positive integer' },
  num_classes: { integer: true, min: 2, max: Infinity, text: 'an integer of at least 2' },
  dropout: { integer: false, min: 0, max: 1, maxExclusive: true, text: 'a number in [0, 1)' },
  lr: { integer: false, min: Number.MIN_VALUE, max: 10, text: 'a number in (0, 10]' },
};

/** The limits of a head hyperparameter, or undefined for a label (any other key). */
export function headParamLimit(name: string): HeadParamLimit | undefined {
  return Object.hasOwn(HEAD_PARAM_LIMITS, name) ? HEAD_PARAM_LIMITS[name] : undefined;
}

/** Whether a value is within a head hyperparameter's limits. */
export function withinHeadLimit(limit: HeadParamLimit, v: ParamValue): boolean {
  return typeof v === 'number' && (!limit.integer || Number.isInteger(v)) && v >= limit.min && (limit.maxExclusive ? v < limit.max : v <= limit.max);
}

/** The head's hyperparameters of one trial: grid values over defaults. Other grid keys are labels. */
export function headParams(params: Record<string, ParamValue>, numClasses: number): HeadParams {
  const out = { ...HEAD_PARAM_DEFAULTS, num_classes: numClasses } as HeadParams;
  for (const key of Object.keys(out) as Array<keyof HeadParams>) {
    if (typeof params[key] === 'number') out[key] = params[key] as number;
  }
  return out;
}
