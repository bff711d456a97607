// `sweep status <id>`: where a sweep stands. A running sweep answers its progress query; a closed one's
// progress is in its leaderboard. When a running sweep does not answer (no workflow worker takes its
// tasks), the server still knows its stage and counts (search attributes), its running trials and
// their activities: status shows those, says so, and says where the sweep waits for a worker.
import { WorkflowExecutionDescription, WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import { DataSummary, formatDataSummary } from '../lib/data-summary';
import { rootMessage } from '../lib/errors';
import { inLeaderboardOrder, trialCounts, trialRunOf } from '../lib/live-leaderboard';
import type { Objective } from '../lib/search/objective';
import { Leaderboard } from '../lib/sweep-types';
import { visible } from '../lib/visible-text';
import { WorkerRole, workerConfig } from '../platform/config';
import { connectClient } from '../platform/temporal-connection';
import { formatTrialTable, rankedOtherwise } from '../views/leaderboard-table';
import { stopReasonLines } from '../views/stop-reasons';
import { TrialProgress, trialProgressText } from '../views/watch-view';
import { trialProgress } from './trial-progress';
import { SEARCH_ATTRIBUTES, SweepProgress, progressQuery, trialWorkflow } from '../workflows';
import { describeSweep, startedSpec } from './describe-sweep';
import { fullLeaderboard, storedLeaderboard } from './full-leaderboard';
import { SweepQueue, idleQueuesWarning, sweepQueue } from './idle-queues';
import type { GoneWorker } from './worker-liveness';
import { SweepFailure, describeSweepFailure, failureLine } from './sweep-failure';
import { querySweep, unansweredLine } from './sweep-queries';
import { activityWaits, describeChildren, ownQueueIdle } from './sweep-waits';

/** The stable `sweep status --json` document. */
export interface StatusDocument {
  sweepId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  stage?: SweepProgress['stage'];
  trialsTotal?: number;
  trialsCompleted?: number;
  /** Of the completed: how many early stopping ended before their last epoch (each trial says where and why). */
  trialsStopped?: number;
  trialsRunning?: number[];
  trialsFailed?: number;
  /**
   * The running trials' training, read from their trainTrial activities as `watch` reads it: the epoch
   * under way and the last one's metrics, or queued for a slot, retrying, evaluating; or, from the
   * sweep's answer, waiting at an early-stopping rung for its decision. A trial starting is not listed.
   */
  trialsTraining?: Array<{ run: number } & TrialProgress>;
  /** The val accuracy of the best trial by `objective` (which need not be the highest). */
  bestValAccuracy?: number;
  /** What the trials are ranked by (a search's objective; for a sweep that does not answer, read from its spec); absent: validation accuracy (a grid spec). */
  objective?: Objective;
  trials?: SweepProgress['trials'];
  /**
   * Set when a running sweep did not answer its progress query (no workflow worker takes its tasks):
   * why, in a line. Stage, counts and best are then the sweep's search attributes (as of its last
   * update), the running trials its pending trial workflows, and the total and the trials are absent.
   */
  unanswered?: string;
  /** For a failed sweep: the one-line summary, and the same as a document. */
  failure?: string;
  failureDetails?: SweepFailure;
  /** What ingestion found: images per class, files skipped per reason (once ingestion is done). */
  data?: DataSummary;
  /** Activities of the sweep and its running trials that are in flight or waiting to be retried. */
  pendingActivities?: PendingActivity[];
  /**
   * Queues where a step of the running sweep waits and no worker polls: it waits until one does. `gone`:
   * the workers that served the queue and are gone, by their last heartbeats, the last heard first.
   */
  waitingForWorkers?: Array<{ role: WorkerRole; taskQueue: string; type: SweepQueue['type']; gone?: Array<{ identity: string; at: string; how: GoneWorker['how'] }> }>;
  /**
   * Queues where a step of the running sweep waits for a free slot: their live workers (`workers`)
   * have all their activity slots (`slots`) taken, as of their last heartbeats (every 10 s).
   */
  waitingForSlots?: Array<{ role: WorkerRole; taskQueue: string; workers: number; slots: number }>;
}

export interface PendingActivity {
  workflowId: string;
  activity: string;
  /** 1 for the first try; higher while Temporal retries it. */
  attempt: number;
  /** Why the previous attempt failed (innermost message), e.g. storage unreachable. */
  lastFailure?: string;
}

export async function sweepStatus(sweepId: string): Promise<StatusDocument> {
  const client = await connectClient();
  const handle = client.workflow.getHandle(sweepId);
  const description = await describeSweep(handle);
  const document: StatusDocument = { sweepId, status: description.status.name };
  if (description.status.name !== 'RUNNING') {
    // A query to a closed workflow waits for a worker; its progress is in its leaderboard.
    const progress = await closedProgress(handle, description.status.name);
    if (progress) Object.assign(document, progressFields(progress));
  } else {
    // With no worker on the sweep's own queue the query is not asked: it could only wait.
    const ownIdle = await ownQueueIdle(client, description);
    const outcome = ownIdle.length > 0 ? undefined : await querySweep(client, () => handle.query(progressQuery));
    // Trials are child workflows: their activities (training) are pending there, not on the sweep.
    const trials = await describeChildren(client, description);
    const training = trials.flatMap((trial) => {
      const run = trial && trialRunOf(sweepId, trial.workflowId);
      const progress = run === undefined ? undefined : trialProgress(client, trial, 0);
      return progress ? [{ run: run!, ...progress }] : [];
    });
    // Between two steps, a trial at an early-stopping rung waits for the sweep's decision (the sweep says which).
    const atRung = outcome && 'answer' in outcome ? outcome.answer.waiting ?? [] : [];
    training.push(...atRung.filter((w) => !training.some((t) => t.run === w.run)).map((w) => ({ run: w.run, epochsDone: w.epoch, of: w.of, attempt: 1, waiting: true })));
    if (training.length > 0) document.trialsTraining = training.sort((a, b) => a.run - b.run);
    if (outcome && 'answer' in outcome) Object.assign(document, progressFields(outcome.answer));
    else {
      // The search attributes hold the best trial's val accuracy, not what it is best by. Without the
      // spec (a server too busy to give the history, a spec that never parsed) status says the rest.
      const objective = (await startedSpec(client, description).catch(() => undefined))?.search?.objective;
      Object.assign(document, attributeProgress(description), objective ? { objective } : {}, { unanswered: unansweredLine(outcome) });
    }
    document.pendingActivities = [description, ...trials].flatMap((d) => (d?.raw.pendingActivities ?? []).map((a) => ({
      workflowId: d!.workflowId,
      activity: a.activityType?.name ?? '?',
      attempt: a.attempt ?? 1,
      ...(a.lastFailure ? { lastFailure: rootMessage(a.lastFailure) } : {}),
    })));
    const waits = await activityWaits(client, description, trials, ownIdle);
    const idle = [...ownIdle, ...waits.idle];
    if (idle.length > 0) {
      document.waitingForWorkers = idle.map((q) => ({
        role: q.role, taskQueue: q.name, type: q.type,
        ...(q.gone ? { gone: q.gone.map((w) => ({ identity: w.identity, at: new Date(w.at).toISOString(), how: w.how })) } : {}),
      }));
    }
    if (waits.full.length > 0) document.waitingForSlots = waits.full.map((q) => ({ role: q.role, taskQueue: q.name, workers: q.workers, slots: q.slots }));
  }
  if (description.status.name === 'FAILED') {
    try {
      await handle.result();
    } catch (error) {
      document.failureDetails = describeSweepFailure(sweepId, (error as WorkflowFailedError).cause ?? error);
      document.failure = failureLine(document.failureDetails);
    }
  }
  return document;
}

/** What `status` says of a sweep's progress. */
export function progressFields(progress: SweepProgress): Omit<StatusDocument, 'sweepId' | 'status'> {
  // A long sweep's later runs list only some earlier trials and count the rest (continue-as-new).
  const counts = trialCounts(progress.trials, progress.unlisted);
  return {
    stage: progress.stage,
    trialsTotal: progress.trialsTotal,
    trialsCompleted: counts.ranked,
    trialsStopped: counts.stopped,
    trialsRunning: progress.running,
    trialsFailed: counts.failed,
    bestValAccuracy: progress.bestValAccuracy,
    ...(progress.objective ? { objective: progress.objective } : {}),
    trials: progress.trials,
    ...(progress.data ? { data: progress.data } : {}),
  };
}

/** What the server knows of a running sweep's progress without asking it: its search attributes (as of its last update) and its pending trial workflows. */
export function attributeProgress(sweep: Pick<WorkflowExecutionDescription, 'workflowId' | 'typedSearchAttributes' | 'raw'>): Omit<StatusDocument, 'sweepId' | 'status'> {
  const attr = sweep.typedSearchAttributes;
  const stage = attr.get(SEARCH_ATTRIBUTES.status) as SweepProgress['stage'] | undefined;
  // Before the sweep's first update there is nothing to tell.
  if (stage === undefined) return {};
  const best = attr.get(SEARCH_ATTRIBUTES.best);
  const running = (sweep.raw.pendingChildren ?? []).filter((c) => c.workflowTypeName === trialWorkflow.name)
    .map((c) => trialRunOf(sweep.workflowId, c.workflowId ?? '')).filter((run): run is number => run !== undefined);
  return {
    stage,
    trialsCompleted: attr.get(SEARCH_ATTRIBUTES.done),
    trialsRunning: running.sort((a, b) => a - b),
    trialsFailed: attr.get(SEARCH_ATTRIBUTES.failed),
    ...(best === undefined ? {} : { bestValAccuracy: best }),
  };
}

/** A closed sweep's progress, from its leaderboard (the result, or leaderboard.json for a cancelled one). */
async function closedProgress(handle: WorkflowHandle, status: string): Promise<SweepProgress | undefined> {
  const board = status === 'COMPLETED'
    ? await fullLeaderboard(await handle.result() as Leaderboard)
    : status === 'CANCELLED' ? await storedLeaderboard(handle.workflowId) : undefined;
  if (!board) return undefined;
  const trials = [...board.ranked, ...board.failed];
  return { stage: status === 'COMPLETED' ? 'done' : 'cancelled', trialsTotal: trials.length, trials, running: [], bestValAccuracy: board.best?.valAccuracy, ...(board.objective ? { objective: board.objective } : {}), data: board.data };
}

/** `sweep status` as text. */
export function statusText(doc: StatusDocument): string {
  // In finishing order the table's rank column would not be a rank.
  const trials = inLeaderboardOrder(doc.trials ?? [], doc.objective);
  const trialsLine = doc.trialsTotal
    ? `trials: ${doc.trialsCompleted} of ${doc.trialsTotal} done${doc.trialsStopped ? ` (${doc.trialsStopped} stopped early)` : ''}, running ${doc.trialsRunning?.length ?? 0}, failed ${doc.trialsFailed}`
    // Unanswered: the total is not among the search attributes.
    : doc.trialsCompleted !== undefined ? `trials: ${doc.trialsCompleted} done, running ${doc.trialsRunning?.length ?? 0}${doc.trialsRunning?.length ? ` (runs ${doc.trialsRunning.join(', ')})` : ''}, failed ${doc.trialsFailed ?? 0}` : '';
  return [`sweep ${doc.sweepId}: ${doc.status}${doc.stage ? ` (${doc.stage})` : ''}`,
    doc.data ? `data: ${formatDataSummary(doc.data)}` : '',
    trialsLine,
    ...(doc.trialsTraining ?? []).map((t) => `  run ${t.run}: ${trialProgressText(t)}`),
    doc.bestValAccuracy !== undefined ? `best val accuracy so far: ${(doc.bestValAccuracy * 100).toFixed(1)}%${rankedOtherwise(doc.objective)}` : '',
    trials.length ? formatTrialTable(trials) : '',
    ...stopReasonLines(trials, `\`sweep status ${doc.sweepId} --json\` has every reason (trials[].stopped.reason)`),
    ...(doc.pendingActivities ?? []).filter((a) => a.lastFailure).map((a) =>
      `retrying ${a.activity} (${a.workflowId}), attempt ${a.attempt}: last failure: ${visible(a.lastFailure ?? '')}`),
    doc.unanswered ? `note: ${doc.unanswered}` : '',
    idleQueuesWarning((doc.waitingForWorkers ?? []).map((w) => ({
      ...sweepQueue(w.role, w.taskQueue, w.type),
      ...(w.gone ? { gone: w.gone.map((g) => ({ ...g, at: Date.parse(g.at) })) } : {}),
    })), workerConfig()) ?? '',
    ...(doc.waitingForSlots ?? []).map((w) => `waiting for a free slot on the ${w.role} queue "${w.taskQueue}": ${w.workers === 1 ? 'its worker has its' : `its ${w.workers} workers have all`} ${w.slots} slot${w.slots === 1 ? '' : 's'} taken (as of ${w.workers === 1 ? 'its last heartbeat' : 'their last heartbeats'}); the step starts when one frees, or on a worker started for the queue`),
    doc.failure ?? ''].filter(Boolean).join('\n');
}
