// Where a sweep's time goes around the training, measured in the benchmark's own worker process: every
// activity's time by type (an activity interceptor), every S3 request by command (client middleware),
// the steps inside trainTrial (checkpoint, events, head: their methods wrapped in this process),
// and from the workflows' histories the time tasks waited for a worker (schedule to start) and the
// time workflow tasks ran.
import { Client } from '@temporalio/client';
import { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import { s3 } from '../platform/s3-store';
import { TrialCheckpoint } from '../activities/checkpoints';
import { TrialEvents } from '../activities/tensorboard-events';
import { HeadTrainer } from '../model/head';

export interface Tally { count: number; seconds: number }
export interface SweepProfile {
  activities: Record<string, Tally>;
  s3: Record<string, number>;
  /** Seconds of S3 requests by command (concurrent requests add up). */
  s3Seconds: Record<string, number>;
  /** Steps inside trainTrial by method (concurrent trials add up). */
  sections: Record<string, Tally>;
  /** From the sweep's and its trials' histories. */
  history?: HistoryProfile;
}
export interface HistoryProfile {
  trials: number;
  /** Mean trial workflow duration, start to close. */
  trialSeconds: number;
  workflowTasks: Tally & { waitSeconds: number };
  activityTasks: Tally & { waitSeconds: number };
  events: number;
}

const add = (tallies: Record<string, Tally>, key: string, seconds: number) => {
  const t = (tallies[key] ??= { count: 0, seconds: 0 });
  t.count += 1;
  t.seconds += seconds;
};

/** Counts what the workers do between reset() and take(). */
export class Profiler {
  private current: SweepProfile = Profiler.empty();

  private static empty(): SweepProfile {
    return { activities: {}, s3: {}, s3Seconds: {}, sections: {} };
  }

  constructor() {
    s3().middlewareStack.add((next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const began = performance.now();
      try {
        return await next(args);
      } finally {
        this.current.s3[command] = (this.current.s3[command] ?? 0) + 1;
        this.current.s3Seconds[command] = (this.current.s3Seconds[command] ?? 0) + (performance.now() - began) / 1000;
      }
    }, { step: 'initialize', name: 'benchCountRequests' });
    const sections: Array<[string, { prototype: object } | object, string[]]> = [
      ['checkpoint', TrialCheckpoint, ['claim']],
      ['checkpoint', TrialCheckpoint.prototype, ['save', 'removeOrphans']],
      ['events', TrialEvents.prototype, ['writeHeader', 'writeEpochFiles', 'writeEnd', 'removeStaleEpochs']],
      ['head', HeadTrainer.prototype, ['trainBatch', 'evaluate', 'weights', 'adamState']],
    ];
    for (const [label, target, names] of sections) for (const name of names) this.time(target as Record<string, unknown>, name, `${label}.${name}`);
  }

  /** Wraps an async method of the product's classes (in this process only) to add up its time. */
  private time(target: Record<string, unknown>, name: string, label: string): void {
    const original = target[name] as (...args: unknown[]) => Promise<unknown>;
    const record = (seconds: number) => add(this.current.sections, label, seconds);
    target[name] = async function (this: unknown, ...args: unknown[]) {
      const began = performance.now();
      try {
        return await original.apply(this, args);
      } finally {
        record((performance.now() - began) / 1000);
      }
    };
  }

  readonly interceptor: ActivityInterceptorsFactory = (ctx) => {
    const record = (seconds: number) => add(this.current.activities, ctx.info.activityType, seconds);
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
        const began = performance.now();
        try {
          return await next(input);
        } finally {
          record((performance.now() - began) / 1000);
        }
      },
    };
    return { inbound };
  };

  reset(): void {
    this.current = Profiler.empty();
  }

  take(): SweepProfile {
    const taken = this.current;
    this.reset();
    return taken;
  }
}

/** A protobuf Timestamp (seconds may be a Long) in seconds. */
const seconds = (t?: unknown) => {
  const ts = t as { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined;
  if (!ts) return 0;
  const s = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds?.toNumber() ?? 0;
  return s + (ts.nanos ?? 0) / 1e9;
};

/** Task waits and run times over the sweep's history and every child's. */
export async function historyProfile(client: Client, sweepId: string): Promise<HistoryProfile> {
  const sweep = await client.workflow.getHandle(sweepId).fetchHistory();
  const children = (sweep.events ?? []).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
  const profile: HistoryProfile = { trials: children.length, trialSeconds: 0, workflowTasks: { count: 0, seconds: 0, waitSeconds: 0 }, activityTasks: { count: 0, seconds: 0, waitSeconds: 0 }, events: 0 };
  const histories = [sweep, ...await Promise.all(children.map((id) => client.workflow.getHandle(id).fetchHistory()))];
  histories.forEach((history, h) => {
    const events = history.events ?? [];
    profile.events += events.length;
    const at = new Map(events.map((e) => [Number(e.eventId), seconds(e.eventTime)]));
    if (h > 0) profile.trialSeconds += (at.get(Number(events.at(-1)!.eventId))! - at.get(1)!) / children.length;
    for (const e of events) {
      const started = e.workflowTaskStartedEventAttributes ?? e.activityTaskStartedEventAttributes;
      if (started) {
        const tally = e.workflowTaskStartedEventAttributes ? profile.workflowTasks : profile.activityTasks;
        tally.waitSeconds += seconds(e.eventTime) - at.get(Number(started.scheduledEventId))!;
      }
      const done = e.workflowTaskCompletedEventAttributes ?? e.activityTaskCompletedEventAttributes;
      if (done) {
        const tally = e.workflowTaskCompletedEventAttributes ? profile.workflowTasks : profile.activityTasks;
        tally.count += 1;
        tally.seconds += seconds(e.eventTime) - at.get(Number(done.startedEventId))!;
      }
    }
  });
  return profile;
}
