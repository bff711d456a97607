// A large sweep runs as a chain of workflow runs (continue-as-new), each training a bounded chunk of
// trials and draining it before the next run starts, so every run's history stays small whatever the
// budget. This is what one run hands the next: the prepared data, where the plan resumes, and a compact
// record of the trials so far (their full summaries go to S3, one part per run). Pure.
import type { DataSummary } from './data-summary';
import type { SweepFeatures } from './feature-plan';
import { UnlistedCounts, completedTrials, trialCounts } from './live-leaderboard';
import { rankTrials } from './rank';
import type { FinishedTrial } from './search/bayesian';
import type { Objective } from './search/objective';
import type { LedgerState } from './search/stop-ledger';
import { SpecError } from './sweep-spec';
import type { Leaderboard, SplitSummary, TrialSummary } from './sweep-types';
import { testScores } from './test-scores';
import { DEFAULT_TRIALS_PER_RUN, trialsInRun } from './workflow-limits';

/** Best and not-completed trials carried (for the live leaderboard and the best trial); the others are counted. */
export const CARRIED_ROWS = 20;
/** Rows of each list in the workflow's result; leaderboard.json in S3 has them all. */
export const RESULT_ROWS = 100;

export interface SweepCarry {
  /** What the first run prepared (the split, the feature sets, what ingestion found): later runs train at once. */
  prepared: { split: SplitSummary; features: SweepFeatures; data?: DataSummary };
  /** The first run not yet planned. */
  nextRun: number;
  /** Trial summary parts written to S3, one per earlier run (artifactKeys.sweepTrialPart). */
  parts: number;
  /** The best trials so far, then the latest that did not complete; CARRIED_ROWS of each at most. */
  listed: TrialSummary[];
  unlisted: UnlistedCounts;
  /** The early-stopping ledger (ASHA, median rule). */
  ledger?: LedgerState;
  /** Every finished trial, compactly, for a bayesian search's next suggestions. */
  finished?: FinishedTrial[];
}

/** What a run passes itself when it continues as new; `trialsPerRun` is for tests and the history measurement. */
export interface SweepContinuation {
  trialsPerRun?: number;
  carry?: SweepCarry;
}

/** The runs one workflow run plans: from `first`, whole batches (bayesian: `batch` = concurrency) up to `trialsPerRun`. */
export function runChunk(first: number, total: number, trialsPerRun: number, batch = 1): { first: number; count: number } {
  return { first, count: Math.max(0, Math.min(total - first + 1, trialsInRun(trialsPerRun, batch))) };
}

export function validTrialsPerRun(value: unknown): number {
  if (value === undefined) return DEFAULT_TRIALS_PER_RUN;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new SpecError([`trialsPerRun (the sweep workflow's second argument) must be a positive integer, got ${JSON.stringify(value)}: pass e.g. { trialsPerRun: 100 } or nothing`]);
  }
  return value;
}

/** The trials a run keeps listing: the best CARRIED_ROWS by the objective, then the latest CARRIED_ROWS that did not complete. */
export function keptListed(trials: readonly TrialSummary[], objective?: Objective): TrialSummary[] {
  const notCompleted = trials.filter((t) => t.status === 'failed' || t.status === 'cancelled').sort((a, b) => a.run - b.run);
  return [...rankTrials(completedTrials(trials), objective).slice(0, CARRIED_ROWS), ...notCompleted.slice(-CARRIED_ROWS)];
}

/** The next run's carry: `listed` is every trial this run lists (those carried in and those it finished). */
export function nextCarry(
  prev: SweepCarry | undefined,
  next: Pick<SweepCarry, 'prepared' | 'nextRun' | 'ledger' | 'finished'> & { listed: readonly TrialSummary[]; objective?: Objective },
): SweepCarry {
  const listed = keptListed(next.listed, next.objective);
  const all = trialCounts(next.listed, prev?.unlisted);
  const kept = trialCounts(listed);
  return {
    prepared: next.prepared,
    nextRun: next.nextRun,
    parts: (prev?.parts ?? 0) + 1,
    listed,
    unlisted: { ranked: all.ranked - kept.ranked, failed: all.failed - kept.failed, cancelled: all.cancelled - kept.cancelled, stopped: all.stopped - kept.stopped },
    ...(next.ledger ? { ledger: next.ledger } : {}),
    ...(next.finished ? { finished: next.finished } : {}),
  };
}

/**
 * JSON bytes of the best trial's per-class scores and confusion matrix that the workflow's result carries:
 * about 500 classes' worth (the matrix grows with classes²: at 1,000 it alone is 1.9 MB, and the result
 * passed Temporal's 2 MB payload limit, so a sweep that had trained everything could not complete).
 */
export const RESULT_BEST_SCORES_BYTES = 512 * 1024;

/**
 * The workflow's result: at most RESULT_ROWS of each list, and the best trial's per-class scores and
 * confusion matrix up to RESULT_BEST_SCORES_BYTES; `truncated` says what it left out (leaderboard.json has all).
 */
export function resultLeaderboard(board: Leaderboard): Leaderboard {
  const rowsCut = board.ranked.length > RESULT_ROWS || board.failed.length > RESULT_ROWS;
  const test = board.best?.test;
  const scoresCut = test !== undefined && JSON.stringify([test.perClass, test.confusion]).length > RESULT_BEST_SCORES_BYTES;
  if (!rowsCut && !scoresCut) return board;
  return {
    ...board,
    ranked: board.ranked.slice(0, RESULT_ROWS),
    failed: board.failed.slice(0, RESULT_ROWS),
    ...(scoresCut ? { best: { ...board.best!, test: testScores(test) } } : {}),
    truncated: { ranked: board.ranked.length, failed: board.failed.length, ...(scoresCut ? { bestScores: true as const } : {}) },
  };
}
