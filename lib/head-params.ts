// The head's hyperparameters: which ones it understands, their defaults, and a trial's values.
// Its own module so the spec parser and the search rules both read the defaults without a cycle.
import { ParamValue } from './grid';

/** Hyperparameters the head understands, with defaults when the grid leaves them out. */
export const HEAD_PARAM_DEFAULTS = { hidden_units: 256, dropout: 0.5, lr: 0.001, batch_size: 25, n_epochs: 40 } as const;
export type HeadParams = { -readonly [K in keyof typeof HEAD_PARAM_DEFAULTS]: number } & { num_classes: number };

/** The head's hyperparameters of one trial: grid values over defaults. Other grid keys are labels. */
export function headParams(params: Record<string, ParamValue>, numClasses: number): HeadParams {
  const out = { ...HEAD_PARAM_DEFAULTS, num_classes: numClasses } as HeadParams;
  for (const key of Object.keys(out) as Array<keyof HeadParams>) {
    if (typeof params[key] === 'number') out[key] = params[key] as number;
  }
  return out;
}
