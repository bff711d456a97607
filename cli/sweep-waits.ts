// Where a running sweep waits for a worker, as far as the server can tell (cli/idle-queues.ts says
// what each queue serves): what `start` warns of, and `status` and `watch` show.
import { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { queuePollers, queueWorkerHeartbeats } from '../platform/temporal-connection';
import { FullQueue, Poller, WorkerBeat, beatsOf, goneWorkers, queueFull, queueServed, workerBeat } from './worker-liveness';
import { IdleQueue, SweepQueue, pendingStepQueue } from './idle-queues';

/** What the server knows of one queue's workers: who polled it and their heartbeats (each undefined: it would not say). */
interface QueueWorkers {
  pollers?: Poller[];
  beats?: WorkerBeat[];
}

/**
 * Each queue's workers. A server that keeps no heartbeats (or will not list them) leaves the pollers to
 * answer alone.
 */
async function workersOf(client: Client, queues: readonly SweepQueue[]): Promise<QueueWorkers[]> {
  const [beats, pollers] = await Promise.all([
    queueWorkerHeartbeats(client, queues.map((q) => q.name)).then((list) => list.flatMap((h) => workerBeat(h) ?? []), () => undefined),
    Promise.all(queues.map((q) => queuePollers(client, q.name, q.type).then(
      (found) => found.map((p) => ({ identity: p.identity ?? '', lastPollAt: optionalTsToMs(p.lastAccessTime) })),
      () => undefined,
    ))),
  ]);
  return queues.map((q, i) => ({ pollers: pollers[i], beats: beats && beatsOf(beats, q.name, q.type) }));
}

/** No worker serves it (cli/worker-liveness.ts); a queue the server will not describe counts as served. */
const isIdle = (workers: QueueWorkers, now: number) => workers.pollers !== undefined && !queueServed(workers.pollers, workers.beats, now);

/** The queue as idle, with the workers it had that are gone (as far as the server still lists them). */
const idleQueue = (queue: SweepQueue, workers: QueueWorkers, now: number): IdleQueue => {
  const gone = goneWorkers(workers.beats ?? [], now);
  return gone.length ? { ...queue, gone } : queue;
};

/** Those of `queues` no worker serves: none polls, or those that polled are gone by their heartbeats. */
export async function idleOf(client: Client, queues: readonly SweepQueue[]): Promise<IdleQueue[]> {
  const workers = await workersOf(client, queues);
  const now = Date.now();
  return queues.flatMap((q, i) => (isIdle(workers[i], now) ? [idleQueue(q, workers[i], now)] : []));
}

/** The sweep's own queue (its and its trials' workflow tasks) when no worker polls it: a query would wait for one. */
export async function ownQueueIdle(client: Client, sweep: WorkflowExecutionDescription): Promise<IdleQueue[]> {
  return idleOf(client, [pendingStepQueue({ taskQueue: sweep.taskQueue })]);
}

/** Where the sweep's and its running trials' (`trials`) activities wait to be taken, beside its own queue (asked by the caller, with ownQueueIdle). */
export interface ActivityWaits {
  /** Queues no worker serves. */
  idle: IdleQueue[];
  /** Queues whose live workers have every activity slot taken (their trials, or other sweeps'). */
  full: Array<SweepQueue & FullQueue>;
}

export async function activityWaits(client: Client, sweep: WorkflowExecutionDescription, trials: ReadonlyArray<WorkflowExecutionDescription | undefined>, ownIdle: readonly SweepQueue[]): Promise<ActivityWaits> {
  const { waiting, busy } = waitingActivities([sweep, ...trials], ownIdle);
  const workers = await workersOf(client, waiting);
  const now = Date.now();
  return {
    // Where another of the sweep's activities runs, a worker is there, busy (it does not poll).
    idle: waiting.flatMap((q, i) => (!busy.has(q.name) && isIdle(workers[i], now) ? [idleQueue(q, workers[i], now)] : [])),
    full: waiting.flatMap((q, i) => {
      const { pollers, beats } = workers[i];
      const full = pollers && beats && queueFull(pollers, beats, now);
      return full ? [{ ...q, ...full }] : [];
    }),
  };
}

/** The sweep's running trials (its pending child workflows), described; one that cannot be is undefined. */
export async function describeChildren(client: Client, sweep: WorkflowExecutionDescription): Promise<Array<WorkflowExecutionDescription | undefined>> {
  return Promise.all((sweep.raw.pendingChildren ?? []).map((c) => client.workflow.getHandle(c.workflowId!).describe().catch(() => undefined)));
}

/**
 * The queues of activities waiting to be taken (not started, or between retries), each once, and those
 * where one of the sweep's activities runs (`busy`). A CPU step on the sweep's own queue is left out
 * when that queue is already known idle (`ownIdle`: no CPU worker at all); where its workflows are
 * served, the step may still wait (its step worker lost S3: workers/storage-gate.ts).
 */
function waitingActivities(descriptions: ReadonlyArray<WorkflowExecutionDescription | undefined>, ownIdle: readonly SweepQueue[]): { waiting: SweepQueue[]; busy: Set<string> } {
  const { PENDING_ACTIVITY_STATE_SCHEDULED } = temporal.api.enums.v1.PendingActivityState;
  const activities = descriptions.flatMap((d) => d?.raw.pendingActivities ?? [])
    .map((a) => ({ activity: a.activityType?.name ?? '?', taskQueue: a.activityOptions?.taskQueue?.name ?? '', scheduled: a.state === PENDING_ACTIVITY_STATE_SCHEDULED }))
    .filter((a) => a.taskQueue);
  const busy = new Set(activities.filter((a) => !a.scheduled).map((a) => a.taskQueue));
  const own = (q: SweepQueue) => q.role === 'cpu' && ownIdle.some((idle) => idle.name === q.name);
  const queues = activities.filter((a) => a.scheduled).map(pendingStepQueue).filter((q) => !own(q));
  return { waiting: queues.filter((q, i) => queues.findIndex((other) => other.name === q.name && other.role === q.role) === i), busy };
}
