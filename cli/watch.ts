// `sweep watch <id>`: follows a sweep until it closes. Every interval it asks the sweep for its live
// leaderboard (the `leaderboard` query) and reads the running trials' epochs from their trainTrial
// activities' last heartbeat (describe() of each trial workflow). On a terminal it redraws progress
// bars and the leaderboard in place; otherwise it prints one line per change. Then the final leaderboard.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, WorkflowExecutionDescription, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { formatLeaderboard } from '../views/leaderboard-table';
import { Leaderboard } from '../lib/sweep-types';
import { LiveLeaderboard, trialRunOf, trialWorkflowId } from '../lib/live-leaderboard';
import { ListedTrial, WatchSnapshot, changeLines, closedSweepTrials, renderFrame, waitingProgress } from '../views/watch-view';
import { trialProgress } from './trial-progress';
import { connectClient, temporalAddress } from '../platform/temporal-connection';
import { SEARCH_ATTRIBUTES, leaderboardQuery } from '../workflows';
import { exitCodeOf } from './commands';
import { fullLeaderboard, storedLeaderboard } from './full-leaderboard';
import { describeSweepFailure, failureLine } from './sweep-failure';
import { isTemporalUnreachable, stopWaitingOnInterrupt, untilTemporalAnswers } from './wait-for-temporal';
import { describeSweep } from './describe-sweep';
import { trialSummaryParams } from '../views/workflow-metadata';
import { idleQueuesWarning } from './idle-queues';
import { workerConfig } from '../platform/config';
import { LatestAnswer, QUERY_PATIENCE_MS, latestAnswer } from './sweep-queries';
import { activityWaits, describeChildren, ownQueueIdle } from './sweep-waits';

export interface WatchOptions {
  /** Seconds between polls. */
  interval: number;
  /** Plain lines even on a terminal. */
  plain: boolean;
  out: NodeJS.WriteStream;
}

/** Follows the sweep until it closes; resolves to the exit code for how it ended. */
export async function watch(sweepId: string, options: Partial<WatchOptions> = {}): Promise<number> {
  const { interval = 1, out = process.stdout } = options;
  const tty = Boolean(out.isTTY) && !options.plain;
  const patiently = <T>(call: () => Promise<T>) => untilTemporalAnswers(call, { address: temporalAddress() });
  const client = await patiently(connectClient);
  const stopHandling = stopWaitingOnInterrupt(sweepId);
  try {
    let previous: WatchSnapshot | undefined;
    let frameRows = 0;
    let sweepStart: Date | undefined;
    const askLeaderboard = latestAnswer(() => client.workflow.getHandle(sweepId).query(leaderboardQuery));
    for (;;) {
      const { description, snap } = await patiently(async () => {
        const description = await describeSweep(client.workflow.getHandle(sweepId));
        sweepStart ??= await sweepStartTime(client, description);
        return { description, snap: await snapshot(client, description, sweepStart, previous, askLeaderboard) };
      });
      if (tty) {
        const frame = renderFrame(snap, { width: out.columns || 120, maxRows: Math.max(10, (out.rows || 40) - 1), leaderboard: snap.status === 'RUNNING' });
        // Back to the first line of the previous frame, clear below, draw the new one.
        out.write(`${frameRows ? `\x1b[${frameRows}F\x1b[J` : ''}${frame.join('\n')}\n`);
        frameRows = frame.length;
      } else {
        for (const line of changeLines(previous, snap)) out.write(`${line}\n`);
      }
      previous = snap;
      if (description.status.name !== 'RUNNING') break;
      await sleep(interval * 1000);
    }
    out.write(`\n${await patiently(() => finalReport(client, sweepId, previous!))}\n`);
    return exitCodeOf(previous!.status);
  } finally {
    stopHandling();
    await client.connection.close();
  }
}

/**
 * When the sweep began: its first run's start. A sweep of many trials continues as new, and each
 * run's own start would reset the elapsed time; the first run's does not change, so it is asked once.
 */
export async function sweepStartTime(client: Client, description: WorkflowExecutionDescription): Promise<Date> {
  const firstRunId = description.raw.workflowExecutionInfo?.firstRunId;
  if (!firstRunId || firstRunId === description.runId) return description.startTime;
  try {
    return (await client.workflow.getHandle(description.workflowId, firstRunId).describe()).startTime;
  } catch (error) {
    // Past the namespace's retention the first run is gone: the current run's start is the best left.
    if (error instanceof WorkflowNotFoundError) return description.startTime;
    throw error;
  }
}

/** How long a poll waits for the sweep's answer before it goes on with the last one (a busy worker answers within a second or two). */
const ANSWER_WAIT_MS = 2_000;

/**
 * One poll: the sweep's live leaderboard (its newest answer: a query waits for a workflow worker, and
 * the poll does not), its running trials' training from their activities, and the queues where the
 * sweep waits for a worker; while it does not answer, its stage from its search attributes.
 */
async function snapshot(client: Client, description: WorkflowExecutionDescription, sweepStart: Date, previous: WatchSnapshot | undefined, ask: AskLeaderboard): Promise<WatchSnapshot> {
  const running = description.status.name === 'RUNNING';
  const snap: WatchSnapshot = {
    sweepId: description.workflowId,
    status: description.status.name,
    elapsed: ((description.closeTime ?? new Date()).getTime() - sweepStart.getTime()) / 1000,
    board: previous?.board,
    training: {},
  };
  const [{ answer, unansweredMs }, trials, ownIdle] = await Promise.all([
    ask(ANSWER_WAIT_MS), running ? describeChildren(client, description) : [], running ? ownQueueIdle(client, description) : [],
  ]);
  snap.board = answer ?? previous?.board;
  if (running && unansweredMs >= QUERY_PATIENCE_MS) snap.unansweredSeconds = unansweredMs / 1000;
  // Until it answers: none yet, or none for a while.
  if (running && (!snap.board || snap.unansweredSeconds !== undefined)) snap.serverStage = description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.status);
  if (running) snap.waitingWarning = idleQueuesWarning([...ownIdle, ...(await activityWaits(client, description, trials, ownIdle)).idle], workerConfig());
  const byId = new Map(trials.flatMap((t) => (t ? [[t.workflowId, t] as const] : [])));
  for (const trial of snap.board?.running ?? []) {
    const progress = trialProgress(client, byId.get(trial.workflowId), trial.epochs, previous?.training[trial.run]) ?? waitingProgress(trial);
    if (progress) snap.training[trial.run] = progress;
  }
  if (running && !snap.board) {
    snap.listed = await listedTrials(description.workflowId, trials);
    for (const { run } of snap.listed) {
      // Its epochs are known from its heartbeat alone (0 until the first).
      const progress = trialProgress(client, byId.get(trialWorkflowId(description.workflowId, run)), 0, previous?.training[run]);
      if (progress) snap.training[run] = progress;
    }
  }
  if (snap.status !== 'RUNNING' && snap.board) snap.board = { ...snap.board, running: [] };
  return snap;
}

/** The running trials the server lists (the sweep's pending trial workflows), by run, with the parameters their summaries name. */
async function listedTrials(sweepId: string, trials: ReadonlyArray<WorkflowExecutionDescription | undefined>): Promise<ListedTrial[]> {
  const listed = await Promise.all(trials.map(async (trial) => {
    const run = trial && trialRunOf(sweepId, trial.workflowId);
    return run === undefined ? [] : [{ run, params: trialSummaryParams((await trial!.staticSummary()) ?? '') }];
  }));
  return listed.flat().sort((a, b) => a.run - b.run);
}

type AskLeaderboard = (waitMs: number) => Promise<LatestAnswer<LiveLeaderboard>>;

async function finalReport(client: Client, sweepId: string, last: WatchSnapshot): Promise<string> {
  const handle = client.workflow.getHandle(sweepId);
  if (last.status === 'COMPLETED') {
    const board = await fullLeaderboard(await handle.result() as Leaderboard);
    return `${formatLeaderboard(board)}${board.artifacts.report ? `\nreport: ${board.artifacts.report} (or: sweep report ${sweepId} --out report.html)` : ''}`;
  }
  let ending = `sweep ${sweepId} ended ${last.status}`;
  // A cancelled sweep ranked what finished: that partial leaderboard, which needs no worker to answer a
  // query (without S3 from here, the live table below).
  const partial = last.status === 'CANCELLED'
    ? await storedLeaderboard(sweepId).catch(() => undefined) : undefined;
  if (partial) return `${ending}\n${formatLeaderboard(partial)}`;
  try {
    await handle.result();
  } catch (error) {
    if (isTemporalUnreachable(error)) throw error;
    if (last.status === 'FAILED') ending = failureLine(describeSweepFailure(sweepId, (error as WorkflowFailedError).cause ?? error));
  }
  return [ending, closedSweepTrials(sweepId, last.board)].join('\n');
}
