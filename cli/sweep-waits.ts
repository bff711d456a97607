// Where a running sweep waits for a worker, as far as the server can tell (cli/idle-queues.ts says
// what each queue serves): what `start` warns of, and `status` and `watch` show.
import { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { queuePollers, queueWorkerHeartbeats } from '../platform/temporal-connection';
import { queueServed, workerBeat } from './worker-liveness';
import { SweepQueue, pendingStepQueue } from './idle-queues';

/**
 * Those of `queues` no worker serves (cli/worker-liveness.ts): none polls, or those that polled are gone
 * by their heartbeats. A queue the server will not describe counts as served; a server that keeps no
 * heartbeats (or will not list them) leaves the pollers to answer alone.
 */
export async function idleOf(client: Client, queues: readonly SweepQueue[]): Promise<SweepQueue[]> {
  const [beats, pollers] = await Promise.all([
    queueWorkerHeartbeats(client, queues.map((q) => q.name)).then((list) => list.flatMap((h) => workerBeat(h) ?? []), () => []),
    Promise.all(queues.map((q) => queuePollers(client, q.name, q.type).then((pollers) => pollers.map((p) => p.identity ?? ''), () => undefined))),
  ]);
  const now = Date.now();
  return queues.filter((q, i) => pollers[i] !== undefined && !queueServed(pollers[i], beats.filter((b) => b.taskQueue === q.name), now));
}

/** The sweep's own queue (its and its trials' workflow tasks) when no worker polls it: a query would wait for one. */
export async function ownQueueIdle(client: Client, sweep: WorkflowExecutionDescription): Promise<SweepQueue[]> {
  return idleOf(client, [pendingStepQueue({ taskQueue: sweep.taskQueue })]);
}

/**
 * The queues where a step of the sweep waits and no worker polls: its own (asked by the caller, with
 * ownQueueIdle) and those of its and its running trials' (`trials`) activities waiting to be taken.
 */
export async function idleActivityQueues(client: Client, sweep: WorkflowExecutionDescription, trials: ReadonlyArray<WorkflowExecutionDescription | undefined>): Promise<SweepQueue[]> {
  return idleOf(client, waitingActivities(sweep, [sweep, ...trials]));
}

/** The sweep's running trials (its pending child workflows), described; one that cannot be is undefined. */
export async function describeChildren(client: Client, sweep: WorkflowExecutionDescription): Promise<Array<WorkflowExecutionDescription | undefined>> {
  return Promise.all((sweep.raw.pendingChildren ?? []).map((c) => client.workflow.getHandle(c.workflowId!).describe().catch(() => undefined)));
}

/**
 * The queues of activities waiting to be taken (not started, or between retries), each once, except on a queue where
 * another of the sweep's activities runs (a worker is there, busy: it does not poll).
 */
function waitingActivities(sweep: WorkflowExecutionDescription, descriptions: ReadonlyArray<WorkflowExecutionDescription | undefined>): SweepQueue[] {
  const { PENDING_ACTIVITY_STATE_SCHEDULED } = temporal.api.enums.v1.PendingActivityState;
  const activities = descriptions.flatMap((d) => d?.raw.pendingActivities ?? [])
    .map((a) => ({ activity: a.activityType?.name ?? '?', taskQueue: a.activityOptions?.taskQueue?.name ?? '', scheduled: a.state === PENDING_ACTIVITY_STATE_SCHEDULED }))
    .filter((a) => a.taskQueue);
  const busy = new Set(activities.filter((a) => !a.scheduled).map((a) => a.taskQueue));
  // A CPU step on the sweep's own queue is answered by the check of that queue.
  const own = (q: SweepQueue) => q.role === 'cpu' && q.name === sweep.taskQueue;
  const queues = activities.filter((a) => a.scheduled && !busy.has(a.taskQueue)).map(pendingStepQueue).filter((q) => !own(q));
  return queues.filter((q, i) => queues.findIndex((other) => other.name === q.name && other.role === q.role) === i);
}
