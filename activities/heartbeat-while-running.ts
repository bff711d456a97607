// Activity tasks can be lost between the server and the worker: under load the dev server (and a
// real one, temporalio/temporal#11733) can record an activity as started by a poller that never
// receives it. Only the activity's heartbeat timeout notices; with 2 minutes and no heartbeats,
// each loss was a silent 2-minute stall (docs/guarantees.md, "Undelivered activity tasks"). The
// CPU worker therefore heartbeats for every activity while its code runs (the GPU worker for the model
// export and the evaluation, whose downloads do not heartbeat), so the workflow can give those
// activities a heartbeat timeout of seconds, which is how long a lost task now costs. Training and
// extraction heartbeat per batch themselves: a heartbeat from a timer would keep a wedged training
// attempt alive (training's own test scoring, I/O after its last epoch, and the first download of a
// feature set to the node heartbeat by timer).
import { Context } from '@temporalio/activity';
import { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';

/** Heartbeats this many times per heartbeat timeout (the worker's throttle decides what is sent). */
const BEATS_PER_TIMEOUT = 4;

/** The interval a timer heartbeats at, or undefined for an activity without a heartbeat timeout. */
function beatEveryMs(timeoutMs: number | undefined): number | undefined {
  return timeoutMs ? Math.max(100, timeoutMs / BEATS_PER_TIMEOUT) : undefined;
}

/**
 * Runs `work`, a step of I/O inside an activity whose other steps heartbeat their own progress (a
 * feature set's download, the test split's scoring at the end of training), heartbeating `details` meanwhile.
 */
export async function heartbeatingWhile<T>(details: unknown, work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const everyMs = beatEveryMs(context.info.heartbeatTimeoutMs);
  if (everyMs === undefined) return work();
  context.heartbeat(details);
  const timer = setInterval(() => context.heartbeat(details), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Heartbeats at a quarter of the heartbeat timeout while the activity runs, re-sending the details
 * of the activity's own last heartbeat, so its progress details are never replaced. Activities
 * without a heartbeat timeout are left alone. It proves the worker process is alive, not that the
 * activity makes progress: a hung network call is bounded by the S3 client's own timeouts.
 */
export class HeartbeatWhileRunning implements ActivityInboundCallsInterceptor {
  /** `only`: the activity types it heartbeats for (default: all). */
  constructor(private readonly only?: readonly string[]) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    // The SDK's heartbeat is a per-activity function property; wrapping it is how the latest details are seen.
    const context = Context.current() as { -readonly [K in keyof Context]: Context[K] };
    const everyMs = beatEveryMs(context.info.heartbeatTimeoutMs);
    if (everyMs === undefined || (this.only && !this.only.includes(context.info.activityType))) return next(input);
    const own = context.heartbeat;
    let details: unknown;
    context.heartbeat = (latest?: unknown) => {
      details = latest;
      own(latest);
    };
    own();
    const timer = setInterval(() => own(details), everyMs);
    try {
      return await next(input);
    } finally {
      clearInterval(timer);
      context.heartbeat = own;
    }
  }
}
