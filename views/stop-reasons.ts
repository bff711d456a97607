// Why early stopping ended each stopped trial, as `sweep status` and the Web UI's details list it.
import { TrialSummary } from '../lib/sweep-types';

/** Stop reasons beyond this many, in table order, are counted rather than listed: a search of hundreds would list hundreds. */
export const STOP_REASONS_SHOWN = 10;

/**
 * `run N <reason>` for the first STOP_REASONS_SHOWN stopped trials in `trials`' order, then one line
 * counting the rest (those beyond the cap plus `unlisted` more the caller knows of) and saying `where` they are.
 */
export function stopReasonLines(trials: readonly Pick<TrialSummary, 'run' | 'stopped'>[], where: string, unlisted = 0): string[] {
  const stopped = trials.filter((t) => t.stopped);
  const shown = stopped.slice(0, STOP_REASONS_SHOWN).map((t) => `run ${t.run} ${t.stopped!.reason}`);
  const rest = stopped.length - shown.length + unlisted;
  return rest > 0 ? [...shown, `and ${rest} more stopped early: ${where}`] : shown;
}
