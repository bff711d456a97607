// Plain-text rendering of a leaderboard for terminals.
import { DEFAULT_OBJECTIVE, Objective, usualDirection } from '../lib/search/objective';
import { Leaderboard, TrialSummary } from '../lib/sweep-types';
import { visible } from '../lib/visible-text';

// A diverged trial's NaN metric becomes null in a summary (JSON): shown as '-', not as 0 or a crash.
const noNumber = (x: number | null | undefined): x is null | undefined => x === undefined || x === null || Number.isNaN(x);
export const pct = (x: number | null | undefined) => (noNumber(x) ? '-' : `${(x * 100).toFixed(1)}%`);
export const num = (x: number | null | undefined) => (noNumber(x) ? '-' : x.toFixed(4));
/**
 * A hyperparameter's value as shown to people (tables, `k=v` lists, summaries): integers and strings as
 * they are, other numbers to 4 significant digits (a searched learning rate's 17 digits only widen the
 * column). The JSON, the CSV and the leaderboard's `best:` line keep every digit, for a spec to reuse.
 */
export const paramText = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : visible(String(v ?? '')));

const METRIC_NAMES: Record<string, string> = { valAccuracy: 'validation accuracy', valLoss: 'validation loss', trainAccuracy: 'train accuracy', trainLoss: 'train loss' };

/** What "best" means on a leaderboard: "validation accuracy" (the default), else e.g. "validation loss (lower is better)". */
export function rankedBy(objective: Objective = DEFAULT_OBJECTIVE): string {
  const name = METRIC_NAMES[objective.metric] ?? objective.metric;
  const usual = objective.direction === usualDirection(objective.metric);
  return usual && objective.metric === DEFAULT_OBJECTIVE.metric ? name : `${name} (${objective.direction === 'maximize' ? 'higher' : 'lower'} is better)`;
}

/**
 * ", ranked by <objective>" after a best trial's val accuracy, where the objective is not val accuracy:
 * the best trial by it need not have the highest. Empty for the default (or no) objective.
 */
export function rankedOtherwise(objective: Objective | undefined): string {
  return objective && rankedBy(objective) !== rankedBy() ? `, ranked by ${rankedBy(objective)}` : '';
}

/** The trial table as cells (also the HTML report's leaderboard): rank is the position in `trials`. */
export function trialTableCells(trials: readonly TrialSummary[]): { header: string[]; rows: string[][] } {
  const paramNames = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  // Trials that keep their best epoch show which one (its metrics are the row's).
  const kept = trials.some((t) => t.bestEpoch !== undefined);
  const header = ['rank', 'run', ...paramNames, 'epochs', ...(kept ? ['best_epoch'] : []), 'train_loss', 'train_acc', 'val_loss', 'val_acc', 'test_acc', 'note'];
  const rows = trials.map((t, i) => [
    String(i + 1), String(t.run), ...paramNames.map((p) => paramText(t.params[p])), String(t.epochsDone), ...(kept ? [String(t.bestEpoch ?? '-')] : []),
    num(t.trainLoss), pct(t.trainAccuracy), num(t.valLoss), pct(t.valAccuracy), pct(t.test?.accuracy),
    trialNote(t),
  ]);
  return { header, rows };
}

/** How the trial ended when not by its last epoch, and how this sweep came by its outcome: both for a stopped trial that was reused. */
function trialNote(t: TrialSummary): string {
  if (t.status === 'failed' || t.status === 'cancelled') return t.status;
  const ended = t.stopped ? `stopped@${t.stopped.epoch} (${t.stopped.rule})` : t.status === 'stopped' ? 'stopped' : '';
  const origin = t.sameAs ? `same as run ${t.sameAs}` : t.reused ? 'reused' : t.resumedFromEpoch ? `resumed@${t.resumedFromEpoch}` : '';
  return [ended, origin].filter(Boolean).join(', ');
}

export function formatTrialTable(trials: readonly TrialSummary[]): string {
  const { header, rows } = trialTableCells(trials);
  return alignColumns(header, rows);
}

/** Right-aligned columns two spaces apart, for monospace output; control characters are escaped, in the header (grid keys) too. */
export function alignColumns(header: string[], cells: string[][]): string {
  const [head, ...rows] = [header, ...cells].map((row) => row.map(visible));
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padStart(widths[c])).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export function formatLeaderboard(board: Leaderboard): string {
  const lines = [`sweep ${board.sweepId}: ${board.status}, ${board.ranked.length} trials ranked by ${rankedBy(board.objective)}` +
    (board.failed.length ? `, ${board.failed.length} not completed` : '') + (board.reusedTrials ? `, ${board.reusedTrials} reused from earlier runs` : ''), ''];
  lines.push(formatTrialTable([...board.ranked, ...board.failed]));
  if (board.best?.test) {
    const test = board.best.test;
    lines.push('', `best: run ${board.best.run} ${visible(JSON.stringify(board.best.params))}`);
    const perClass = test.perClass ? `; per class: ${test.perClass.map((c) => `${visible(c.className)} F1 ${c.f1.toFixed(2)}`).join(', ')}` : '';
    lines.push(`  test accuracy ${pct(test.accuracy)}, test loss ${num(test.loss)}${perClass}`);
  }
  if (board.model) lines.push(`model (run ${board.model.run}): ${board.model.modelJson}; classify images with: sweep predict ${board.sweepId} <image...>`);
  if (board.modelError) lines.push(`model not exported: ${visible(board.modelError)}`);
  lines.push(`artifacts: ${board.artifacts.prefix}`, `  ${board.artifacts.resultsCsv}`, `  ${board.artifacts.resultsJson}`);
  return lines.join('\n');
}
