// The live leaderboard a running sweep answers its `leaderboard` query with: finished trials ranked,
// the ones that did not complete, and the ones training now (with their workflow ids, so a watcher
// can read their epoch heartbeats). Pure, so the workflow can build it.
import { Params } from './grid';
import { rankTrials } from './rank';
import { Objective } from './search/objective';
import { TrialPlan, TrialSummary } from './sweep-types';

export interface RunningTrial {
  run: number;
  trialId: string;
  params: Params;
  /** The trial's child workflow; its pending trainTrial activity heartbeats {epoch, of, batch|metrics}. */
  workflowId: string;
  epochs: number;
  /** Trained to this epoch and waiting for the sweep's early-stopping decision there. */
  waitingAt?: number;
}

export interface LiveLeaderboard {
  sweepId: string;
  name: string;
  /** The sweep's stage, as in the `progress` query. */
  stage: string;
  trialsTotal: number;
  /** What the trials are ranked by; absent: validation accuracy (a grid spec). */
  objective?: Objective;
  /** Completed trials, best objective value first (the final leaderboard's order). */
  ranked: TrialSummary[];
  /** Failed or cancelled trials, by run. */
  notCompleted: TrialSummary[];
  running: RunningTrial[];
  /** Trials finished in earlier runs of a long sweep (continue-as-new) that the lists above leave out. */
  unlisted?: UnlistedCounts;
}

/** Finished trials by outcome; in a long sweep's later runs, also those earlier runs stopped listing (lib/sweep-continuation.ts). */
export interface UnlistedCounts {
  ranked: number;
  failed: number;
  cancelled: number;
  /** Of `ranked`, those early stopping ended (absent in the carries of runs before it was counted). */
  stopped?: number;
}

export function trialCounts(listed: readonly TrialSummary[], unlisted?: UnlistedCounts): Required<UnlistedCounts> {
  const count = (status: TrialSummary['status']) => listed.filter((t) => t.status === status).length;
  return {
    ranked: (unlisted?.ranked ?? 0) + count('completed') + count('stopped'),
    failed: (unlisted?.failed ?? 0) + count('failed'),
    cancelled: (unlisted?.cancelled ?? 0) + count('cancelled'),
    stopped: (unlisted?.stopped ?? 0) + count('stopped'),
  };
}

/** A live leaderboard's finished trials by outcome, listed or not. */
export function boardCounts(board: Pick<LiveLeaderboard, 'ranked' | 'notCompleted' | 'unlisted'>): UnlistedCounts {
  return trialCounts([...board.ranked, ...board.notCompleted], board.unlisted);
}

export function trialWorkflowId(sweepId: string, run: number): string {
  return `${sweepId}.trial-${String(run).padStart(3, '0')}`;
}

/** The run whose trial workflow of this sweep has this id (trialWorkflowId's inverse); undefined for any other id. */
export function trialRunOf(sweepId: string, workflowId: string): number | undefined {
  const prefix = `${sweepId}.trial-`;
  const digits = workflowId.startsWith(prefix) ? workflowId.slice(prefix.length) : '';
  return /^\d{3,}$/.test(digits) ? Number(digits) : undefined;
}

/** Trials with results to rank: completed, or stopped early (ranked by the epoch they kept). */
export function completedTrials(trials: readonly TrialSummary[]): Array<TrialSummary & { valAccuracy: number; valLoss: number }> {
  return trials.filter((t): t is TrialSummary & { valAccuracy: number; valLoss: number } =>
    (t.status === 'completed' || t.status === 'stopped') && t.valAccuracy !== undefined && t.valLoss !== undefined);
}

/** Trials in the leaderboard's order: those with results ranked by the objective, then the failed and cancelled by run. */
export function inLeaderboardOrder(trials: readonly TrialSummary[], objective?: Objective): TrialSummary[] {
  return [...rankTrials(completedTrials(trials), objective), ...notCompletedTrials(trials)];
}

function notCompletedTrials(trials: readonly TrialSummary[]): TrialSummary[] {
  return trials.filter((t) => t.status === 'failed' || t.status === 'cancelled').sort((a, b) => a.run - b.run);
}

export function liveLeaderboard(
  sweep: { sweepId: string; name: string; stage: string; trialsTotal: number },
  trials: readonly TrialSummary[],
  runningRuns: readonly number[],
  plans: readonly TrialPlan[],
  objective?: Objective,
  unlisted?: UnlistedCounts,
  waiting?: ReadonlyMap<number, number>,
): LiveLeaderboard {
  return {
    ...sweep,
    ...(objective ? { objective } : {}),
    ...(unlisted ? { unlisted } : {}),
    ranked: rankTrials(completedTrials(trials), objective),
    notCompleted: notCompletedTrials(trials),
    running: plans.filter((p) => runningRuns.includes(p.run)).map((p) => ({
      run: p.run,
      trialId: p.trialId,
      params: p.params,
      workflowId: trialWorkflowId(sweep.sweepId, p.run),
      epochs: p.head.n_epochs,
      ...(waiting?.has(p.run) ? { waitingAt: waiting.get(p.run) } : {}),
    })),
  };
}
