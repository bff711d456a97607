// The per-(run, epoch) results table, as the reference RunManager writes it: run, epoch, train and
// validation loss/accuracy, epoch and run duration, then every hyperparameter. CSV and JSON.
import { ParamValue } from './grid';

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Seconds spent on this epoch. */
  epochDuration: number;
  /** Seconds since the trial started, summed over epochs (a resumed trial does not count the gap). */
  runDuration: number;
}

export interface EpochRow extends EpochMetrics {
  run: number;
  trialId: string;
  params: Record<string, ParamValue>;
}

/** Columns before the hyperparameters; grid keys may not reuse these names (the spec refuses them). */
export const RESULT_COLUMNS = ['run', 'trial_id', 'epoch', 'train_loss', 'train_accuracy', 'val_loss', 'val_accuracy', 'epoch_duration', 'run_duration'];

/** Flat records (one object per row, hyperparameters as columns) for results.json. */
export function rowsAsRecords(rows: readonly EpochRow[]): Array<Record<string, ParamValue>> {
  return rows.map((r) => ({
    run: r.run,
    trial_id: r.trialId,
    epoch: r.epoch,
    train_loss: r.trainLoss,
    train_accuracy: r.trainAccuracy,
    val_loss: r.valLoss,
    val_accuracy: r.valAccuracy,
    epoch_duration: r.epochDuration,
    run_duration: r.runDuration,
    ...r.params,
  }));
}

export function rowsAsCsv(rows: readonly EpochRow[]): string {
  const paramColumns: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.params)) if (!paramColumns.includes(k)) paramColumns.push(k);
  const header = [...RESULT_COLUMNS, ...paramColumns];
  const lines = rowsAsRecords(rows).map((record) => header.map((column) => csvCell(record[column])).join(','));
  return [header.map(csvCell).join(','), ...lines].join('\n') + '\n';
}

/**
 * A cell as RFC 4180 quotes it. Text that a spreadsheet would run as a formula (first character =, +,
 * -, @, tab or CR: a label or key from a shared spec) gets a leading ' as OWASP advises; numbers
 * keep their text.
 */
function csvCell(value: ParamValue | undefined): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
