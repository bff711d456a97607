// Reproduces the silent activity stall (docs/guarantees.md, "Undelivered activity tasks"): runs many
// tiny sweeps on the shared stack with in-process CPU and GPU workers, and reads every activity of
// every sweep and trial workflow out of their histories. For each it records whether the SDK in
// this process ever received each attempt's task ("Got activity task") and ran it ("Activity
// started"). A lost delivery is an attempt the server started (by this worker's identity: the queues
// are this run's own) that this process never received, retried after a timeout. A stall is an
// activity that took longer than STALL_S from scheduled to closed (the tiny sweep's take seconds).
//   infra/node.sh --import tsx test/integration/activity-stalls.ts [sweeps=24] [parallel=3]
// SWEEP_TEST_CORE_LOG=DEBUG also writes the SDK core's log to /tmp/activity-stalls-core-<pid>.jsonl.
// Prints one line per sweep and a JSON summary; exits 1 when any activity stalled.
import fs from 'node:fs';
import os from 'node:os';
import { temporal } from '@temporalio/proto';
import { startTestWorkers, testLogger, tinySpec, uniqueId } from './harness';
import { trialWorkflowId } from '../../lib/live-leaderboard';
import { sweepWorkflow } from '../../workflows';

const STALL_S = 30;
const sweeps = Number(process.argv[2] ?? 24);
const parallel = Number(process.argv[3] ?? 3);
const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) => Number(t!.seconds) * 1000 + Math.round((t!.nanos ?? 0) / 1e6);

/** activityId@workflowId -> attempts whose task reached this process, and attempts whose code it started. */
const receivedHere = new Map<string, number[]>();
const startedHere = new Map<string, number[]>();
const note = (map: Map<string, number[]>, key: string, attempt: unknown) => map.set(key, [...(map.get(key) ?? []), Number(attempt)]);
const coreLog = process.env.SWEEP_TEST_CORE_LOG && fs.openSync(`/tmp/activity-stalls-core-${process.pid}.jsonl`, 'w');
const log = testLogger.log.bind(testLogger);
testLogger.log = (level, message, meta) => {
  const start = message === 'Got activity task' ? (meta as { start?: { activityId?: string; attempt?: number; workflowExecution?: { workflowId?: string } } })?.start : undefined;
  if (start) note(receivedHere, `${start.activityId}@${start.workflowExecution?.workflowId}`, start.attempt);
  if (message === 'Activity started' && meta) note(startedHere, `${meta.activityId}@${meta.workflowId}`, meta.attempt);
  if (coreLog && meta?.sdkComponent === 'core') fs.writeSync(coreLog, JSON.stringify({ t: new Date().toISOString(), level, message, ...meta }) + '\n');
  log(level, message, meta);
};

interface ActivityRecord {
  workflowId: string;
  activityId: string;
  type: string;
  queue: 'cpu' | 'gpu';
  attempts: number;
  scheduledToClosedS: number;
  receivedHere: number[];
  startedHere: number[];
  lastFailure?: string;
}

const isLost = (r: ActivityRecord) => r.attempts > 1 && /timeout/i.test(r.lastFailure ?? '') && !r.receivedHere.includes(1);
const isStall = (r: ActivityRecord) => r.scheduledToClosedS > STALL_S;

/** Every closed activity of a workflow's history. */
async function activitiesOf(env: Awaited<ReturnType<typeof startTestWorkers>>, workflowId: string): Promise<ActivityRecord[]> {
  const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const started = new Map<number, temporal.api.history.v1.IActivityTaskStartedEventAttributes>();
  const records: ActivityRecord[] = [];
  for (const event of events) {
    if (event.activityTaskStartedEventAttributes) started.set(Number(event.activityTaskStartedEventAttributes.scheduledEventId), event.activityTaskStartedEventAttributes);
    const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (!closed) continue;
    const scheduled = byId.get(Number(closed.scheduledEventId))!;
    const attrs = scheduled.activityTaskScheduledEventAttributes!;
    const start = started.get(Number(closed.scheduledEventId))!;
    const key = `${attrs.activityId}@${workflowId}`;
    records.push({
      workflowId,
      activityId: attrs.activityId!,
      type: attrs.activityType!.name!,
      queue: attrs.taskQueue!.name === env.cpuQueue ? 'cpu' : 'gpu',
      attempts: start.attempt!,
      scheduledToClosedS: (ms(event.eventTime) - ms(scheduled.eventTime)) / 1000,
      receivedHere: receivedHere.get(key) ?? [],
      startedHere: startedHere.get(key) ?? [],
      ...(start.lastFailure ? { lastFailure: start.lastFailure.message ?? '' } : {}),
    });
  }
  return records;
}

async function main(): Promise<void> {
  const env = await startTestWorkers('stalls', ['cpu', 'gpu']);
  // A seed of its own: trials of the same id share a training lease across sweeps, so this run
  // never waits on another test's (or an earlier, killed run's) sweeps.
  const spec = await tinySpec(env, { seed: process.pid });
  const records: ActivityRecord[] = [];
  const walls: number[] = [];
  const loads: number[] = [];
  const running = new Set<string>();
  // While a sweep runs, what the server says of an attempt started STALL_S ago and not closed: who started it, and whether it got here.
  const reported = new Set<string>();
  const monitor = setInterval(() => {
    for (const sweepId of running) {
      env.client.workflow.getHandle(sweepId).describe().then(({ raw }) => {
        for (const p of raw.pendingActivities ?? []) {
          const key = `${p.activityId}@${sweepId}`;
          if (!p.lastStartedTime || Date.now() - ms(p.lastStartedTime) < STALL_S * 1000 || reported.has(`${key}#${p.attempt}`)) continue;
          reported.add(`${key}#${p.attempt}`);
          console.log(`[stalls] pending ${JSON.stringify({
            key, type: p.activityType?.name, attempt: p.attempt, scheduled: new Date(ms(p.scheduledTime)).toISOString(), started: new Date(ms(p.lastStartedTime)).toISOString(),
            startedBy: p.lastWorkerIdentity, lastHeartbeat: p.lastHeartbeatTime ? new Date(ms(p.lastHeartbeatTime)).toISOString() : null,
            receivedHere: receivedHere.get(key) ?? [], startedHere: startedHere.get(key) ?? [],
          })}`);
        }
      }, () => undefined);
    }
  }, 3000);
  // A killed run terminates its sweeps, whose trials would otherwise hold their training leases.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      Promise.allSettled([...running].map((id) => env.client.workflow.getHandle(id).terminate('activity-stalls.ts stopped'))).finally(() => process.exit(130));
    });
  }
  let next = 0;
  const runSweeps = async () => {
    while (next < sweeps) {
      next++;
      const sweepId = uniqueId('stall-sweep');
      const began = Date.now();
      loads.push(os.loadavg()[0]);
      running.add(sweepId);
      const board = await env.client.workflow.execute(sweepWorkflow, { taskQueue: env.cpuQueue, workflowId: sweepId, args: [spec], workflowExecutionTimeout: '15m' });
      running.delete(sweepId);
      walls.push((Date.now() - began) / 1000);
      const mine: ActivityRecord[] = [];
      for (const id of [sweepId, ...[...board.ranked, ...board.failed].map((t) => trialWorkflowId(sweepId, t.run))]) mine.push(...await activitiesOf(env, id));
      records.push(...mine);
      const flagged = mine.filter((r) => isLost(r) || isStall(r));
      console.log(`[stalls] ${sweepId}: ${walls.at(-1)!.toFixed(1)} s, ${mine.length} activities, ${flagged.length} lost or stalled [load ${os.loadavg()[0].toFixed(1)}]${flagged.length ? ' ' + JSON.stringify(flagged) : ''}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, runSweeps));
  clearInterval(monitor);
  await env.stop();
  const count = (queue: 'cpu' | 'gpu', pick: (r: ActivityRecord) => boolean) => records.filter((r) => r.queue === queue && pick(r)).length;
  walls.sort((a, b) => a - b);
  console.log(JSON.stringify({
    sweeps, parallel,
    activities: { cpu: count('cpu', () => true), gpu: count('gpu', () => true) },
    lostDeliveries: { cpu: count('cpu', isLost), gpu: count('gpu', isLost) },
    stalls: { cpu: count('cpu', isStall), gpu: count('gpu', isStall) },
    lostOrStalled: records.filter((r) => isLost(r) || isStall(r)).map((r) => `${r.queue} ${r.type} ${r.workflowId}: ${r.scheduledToClosedS.toFixed(1)} s, attempts ${r.attempts}, attempt 1 ${r.receivedHere.includes(1) ? 'received' : 'never received'} here`),
    sweepSeconds: { min: walls[0], median: walls[Math.floor(walls.length / 2)], max: walls.at(-1) },
    loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
  }));
  // The SDK runtime would keep the process alive.
  process.exit(records.some(isStall) ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
