// Whether a worker serves a task queue, from the two things the server knows of its workers: who polled
// the queue in the last minutes (it lists a worker for about 5 minutes after its last poll, and a worker
// with every slot busy does not poll) and, where workers heartbeat to it (Temporal 1.29+ with SDKs that
// send worker heartbeats), each worker's last heartbeat. A live heartbeat settles it either way round:
// a busy worker that has not polled for an hour is there; a worker killed a minute ago is not, though
// its poll is still listed. A worker that has sent no heartbeat yet is judged by how recent its last poll
// is (it may be starting, or of an SDK that sends none, or killed before its first); where the server
// keeps no heartbeats at all, by its polls alone, as before.
import { temporal } from '@temporalio/proto';
import { optionalTsToMs } from '@temporalio/common/lib/time';

/** A worker's last heartbeat, as the CLI reads it. */
export interface WorkerBeat {
  identity: string;
  taskQueue: string;
  /** Its status in that heartbeat: not shutting down or shut down. */
  running: boolean;
  /** When it was sent (ms since the epoch). */
  at: number;
  /** Time since the heartbeat before it: the worker's interval (absent on its first). */
  intervalMs?: number;
  /** Its activity slots at that heartbeat (absent where the SDK does not say). */
  activitySlots?: { free: number; used: number };
  /**
   * The tasks it takes: a CPU worker process runs its workflows and its steps in two workers on one
   * queue (workers/run-workers.ts), so a worker that runs workflows does not say the queue's steps are served.
   */
  takes: ReadonlyArray<'workflow' | 'activity'>;
}

/** The SDKs' default interval, for a worker whose only heartbeat says none. */
const DEFAULT_INTERVAL_MS = 60_000;
/**
 * The longest interval the SDKs accept (1-60 s). A heartbeat names the time since the one before, which
 * after an outage from Temporal is the outage's length (seen: 30 s for a 10 s worker cut off for 30 s):
 * taken as the interval, it kept a worker killed just after the outage "live" for two outages. Capped
 * here, that is at most two minutes; within the range, an outage and a long setting look the same.
 */
const MAX_INTERVAL_MS = 60_000;
/**
 * SDKs built on Temporal's Rust core, which send a worker's first heartbeat one interval after it starts
 * (seen for both: 10 s after the start at a 10 s interval). Their first heartbeat names no interval, so
 * its distance from the start is the interval; other SDKs' first heartbeats are judged by the default.
 */
const FIRST_BEAT_ONE_INTERVAL_IN = new Set(['temporal-typescript', 'temporal-python']);
/** Past two intervals, allowed for a heartbeat on its way and for clocks of different machines. */
const SLACK_MS = 10_000;
/**
 * How long a poll lasts at most before the server answers it empty (its long-poll expiry, 1 minute by
 * default). The server records a poll when it comes and when it ends, so a worker with a slot free was
 * last seen polling within this (and slack), however long it has been idle.
 */
const LONG_POLL_MS = 60_000;

/** A worker the server lists as having polled a queue (for about 5 minutes after its last poll). */
export interface Poller {
  identity: string;
  /** Its last poll (ms since the epoch); absent where the server does not say. */
  lastPollAt?: number;
}

/** The heartbeats that speak for one queue's tasks of one type: those of its workers that take them. */
export function beatsOf(beats: readonly WorkerBeat[], taskQueue: string, type: WorkerBeat['takes'][number]): WorkerBeat[] {
  return beats.filter((beat) => beat.taskQueue === taskQueue && beat.takes.includes(type));
}

/** Whether the worker was alive at `now`: running at its last heartbeat, and that heartbeat is not two intervals (and slack) old. */
export function beatIsLive(beat: WorkerBeat, now: number): boolean {
  return beat.running && now - beat.at <= 2 * (beat.intervalMs ?? DEFAULT_INTERVAL_MS) + SLACK_MS;
}

/**
 * Whether a poller that has sent no heartbeat (`beats` names it not) still polls: its last poll is within
 * a long poll (and slack). Seen: a worker killed within its first interval, before its first heartbeat,
 * listed as a poller for minutes; counted by its listing, it served the queue all that time. Where the
 * server keeps no heartbeats (`beats` undefined), every listed poller counts, as the server lists it.
 */
function unheardPollerPolls(poller: Poller, beats: readonly WorkerBeat[] | undefined, now: number): boolean {
  if (beats === undefined || poller.lastPollAt === undefined) return true;
  return now - poller.lastPollAt <= LONG_POLL_MS + SLACK_MS;
}

/** Those of `pollers` that no heartbeat speaks for and that still poll (unheardPollerPolls). */
function unheardPollers(pollers: readonly Poller[], beats: readonly WorkerBeat[] | undefined, now: number): Poller[] {
  const heard = new Set((beats ?? []).map((beat) => beat.identity));
  return pollers.filter((poller) => !heard.has(poller.identity) && unheardPollerPolls(poller, beats, now));
}

/**
 * Whether some worker serves the queue: one whose heartbeat is live (polling or busy), or one that still
 * polls it and has sent no heartbeat. `beats` are this queue's; undefined where the server keeps none.
 */
export function queueServed(pollers: readonly Poller[], beats: readonly WorkerBeat[] | undefined, now: number): boolean {
  if (beats?.some((beat) => beatIsLive(beat, now))) return true;
  return unheardPollers(pollers, beats, now).length > 0;
}

/** A worker that took a queue's tasks and is gone, by its last heartbeat. */
export interface GoneWorker {
  identity: string;
  /** Its last heartbeat (ms since the epoch). */
  at: number;
  /**
   * `shut down`: its last heartbeat said it was shutting down (stopped, redeployed, or a step worker
   * shut down for a lost S3: workers/storage-gate.ts); `silent`: its heartbeats stopped while it ran
   * (killed, or cut off from Temporal).
   */
  how: 'shut down' | 'silent';
}

/** The workers of `beats` that are gone at `now`, each identity once (its last heartbeat), the last heard first. */
export function goneWorkers(beats: readonly WorkerBeat[], now: number): GoneWorker[] {
  const last = new Map<string, WorkerBeat>();
  for (const beat of beats) if (beat.at > (last.get(beat.identity)?.at ?? -Infinity)) last.set(beat.identity, beat);
  return [...last.values()].filter((beat) => !beatIsLive(beat, now))
    .sort((a, b) => b.at - a.at)
    .map((beat) => ({ identity: beat.identity, at: beat.at, how: beat.running ? 'silent' : 'shut down' }));
}

/** The live workers of a queue whose every activity slot is taken, as of their last heartbeats. */
export interface FullQueue {
  workers: number;
  slots: number;
}

/**
 * Whether the queue's steps wait for a free slot: it has live workers, every one says all its activity
 * slots are taken, and no worker without heartbeats still polls it (it might have a slot free).
 */
export function queueFull(pollers: readonly Poller[], beats: readonly WorkerBeat[], now: number): FullQueue | undefined {
  const live = beats.filter((beat) => beatIsLive(beat, now));
  if (live.length === 0 || unheardPollers(pollers, beats, now).length > 0) return undefined;
  if (!live.every((beat) => beat.activitySlots && beat.activitySlots.free === 0)) return undefined;
  return { workers: live.length, slots: live.reduce((sum, beat) => sum + beat.activitySlots!.used, 0) };
}

/** A heartbeat from the server's worker list; undefined for one without a time. */
export function workerBeat(heartbeat: temporal.api.worker.v1.IWorkerHeartbeat): WorkerBeat | undefined {
  const at = optionalTsToMs(heartbeat.heartbeatTime);
  if (at === undefined) return undefined;
  const { WORKER_STATUS_SHUTTING_DOWN, WORKER_STATUS_SHUTDOWN } = temporal.api.enums.v1.WorkerStatus;
  const started = optionalTsToMs(heartbeat.startTime);
  const named = optionalTsToMs(heartbeat.elapsedSinceLastHeartbeat)
    ?? (started !== undefined && FIRST_BEAT_ONE_INTERVAL_IN.has(heartbeat.sdkName ?? '') ? at - started : undefined);
  const intervalMs = named === undefined ? undefined : Math.min(named, MAX_INTERVAL_MS);
  const slots = heartbeat.activityTaskSlotsInfo;
  const takes = (['workflow', 'activity'] as const).filter((type) => {
    const slotsOf = type === 'workflow' ? heartbeat.workflowTaskSlotsInfo : slots;
    const pollers = type === 'workflow' ? heartbeat.workflowPollerInfo : heartbeat.activityPollerInfo;
    return (slotsOf?.currentAvailableSlots ?? 0) + (slotsOf?.currentUsedSlots ?? 0) > 0 || (pollers?.currentPollers ?? 0) > 0;
  });
  return {
    identity: heartbeat.workerIdentity ?? '',
    taskQueue: heartbeat.taskQueue ?? '',
    // An SDK that leaves the status unset is taken at its word that it is there.
    running: heartbeat.status !== WORKER_STATUS_SHUTTING_DOWN && heartbeat.status !== WORKER_STATUS_SHUTDOWN,
    at,
    ...(intervalMs ? { intervalMs } : {}),
    ...(slots && takes.includes('activity') ? { activitySlots: { free: slots.currentAvailableSlots ?? 0, used: slots.currentUsedSlots ?? 0 } } : {}),
    // A heartbeat that says neither (an SDK that reports no slots or pollers) is taken to serve both, as before.
    takes: takes.length ? takes : ['workflow', 'activity'],
  };
}
