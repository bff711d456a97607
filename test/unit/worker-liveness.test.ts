// cli/worker-liveness.ts: whether a worker serves a queue, from its polls and its heartbeats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { Poller, WorkerBeat, beatIsLive, beatsOf, goneWorkers, queueFull, queueServed, workerBeat } from '../../cli/worker-liveness';

const NOW = 1_800_000_000_000;
const beat = (identity: string, secondsAgo: number, more: Partial<WorkerBeat> = {}): WorkerBeat =>
  ({ identity, taskQueue: 'q', running: true, at: NOW - secondsAgo * 1000, intervalMs: 10_000, takes: ['workflow', 'activity'], ...more });
const poll = (identity: string, secondsAgo: number): Poller => ({ identity, lastPollAt: NOW - secondsAgo * 1000 });

test('a heartbeat is live for two intervals and 10 s of slack; a worker shutting down is not', () => {
  assert.equal(beatIsLive(beat('w', 30), NOW), true);
  assert.equal(beatIsLive(beat('w', 31), NOW), false);
  // Its first heartbeat names no interval: the SDKs' default, 60 s.
  assert.equal(beatIsLive(beat('w', 120, { intervalMs: undefined }), NOW), true);
  assert.equal(beatIsLive(beat('w', 131, { intervalMs: undefined }), NOW), false);
  assert.equal(beatIsLive(beat('w', 1, { running: false }), NOW), false);
});

test('a busy worker (no poll listed: every slot taken) serves its queue while its heartbeat is live', () => {
  assert.equal(queueServed([], [beat('busy', 5)], NOW), true);
  assert.equal(queueServed([], [], NOW), false);
});

test('a killed worker whose poll the server still lists does not serve it once its heartbeat is stale', () => {
  assert.equal(queueServed([poll('killed', 45)], [beat('killed', 45)], NOW), false);
  assert.equal(queueServed([poll('stopped', 2)], [beat('stopped', 2, { running: false })], NOW), false);
  // Before its heartbeat goes stale it still counts.
  assert.equal(queueServed([poll('killed', 20)], [beat('killed', 20)], NOW), true);
});

test('a poller that has sent no heartbeat (starting, or an SDK that sends none) serves while its last poll is within a long poll and slack', () => {
  assert.equal(queueServed([poll('starting', 2)], [], NOW), true);
  assert.equal(queueServed([poll('old-sdk', 70)], [beat('killed', 300)], NOW), true, 'an idle poll answered empty after a minute, and the next');
  // Killed within its first interval, before its first heartbeat: the server lists it for minutes.
  assert.equal(queueServed([poll('killed-young', 71)], [beat('other', 300, { running: false })], NOW), false);
  assert.equal(queueServed([poll('killed-young', 71)], [], NOW), false, 'no heartbeat on the queue at all');
  assert.equal(queueServed([{ identity: 'no-time' }], [], NOW), true, 'a poll without a time counts, as listed');
});

test('where the server keeps no heartbeats, every poller it lists serves the queue, as before', () => {
  assert.equal(queueServed([poll('old-server', 240)], undefined, NOW), true);
  assert.equal(queueServed([], undefined, NOW), false);
});

test('a worker started again under the same identity serves it by its new heartbeat', () => {
  assert.equal(queueServed([poll('cpu@host', 1)], [beat('cpu@host', 300), beat('cpu@host', 3)], NOW), true);
});

test('a queue is full when every live worker says all its activity slots are taken, and no worker without heartbeats still polls it', () => {
  const full = (id: string, used: number, secondsAgo = 5) => beat(id, secondsAgo, { activitySlots: { free: 0, used } });
  assert.deepEqual(queueFull([poll('a', 50), poll('b', 50)], [full('a', 4), full('b', 4)], NOW), { workers: 2, slots: 8 });
  assert.equal(queueFull([poll('a', 50), poll('b', 1)], [full('a', 4), beat('b', 5, { activitySlots: { free: 1, used: 3 } })], NOW), undefined, 'a slot free on b');
  // A gone worker's slots do not count; a poller that sends no heartbeats may have one free, while it polls.
  assert.deepEqual(queueFull([poll('a', 50), poll('dead', 300)], [full('a', 1), full('dead', 4, 300)], NOW), { workers: 1, slots: 1 });
  assert.equal(queueFull([poll('a', 50), poll('old-sdk', 10)], [full('a', 4)], NOW), undefined);
  assert.deepEqual(queueFull([poll('a', 50), poll('killed-young', 100)], [full('a', 4)], NOW), { workers: 1, slots: 4 }, 'it polls no more');
  assert.equal(queueFull([], [beat('a', 5)], NOW), undefined, 'slots unknown: not said to be full');
  assert.equal(queueFull([], [], NOW), undefined, 'no worker: idle, not full');
});

test('a heartbeat from the server\'s worker list: identity, queue, status, time and interval', () => {
  const { WORKER_STATUS_RUNNING, WORKER_STATUS_SHUTTING_DOWN } = temporal.api.enums.v1.WorkerStatus;
  const read = workerBeat({
    workerIdentity: '31893@vm', taskQueue: 'sweep-gpu', status: WORKER_STATUS_RUNNING,
    heartbeatTime: msToTs(1_796_397_770_508), elapsedSinceLastHeartbeat: msToTs(10_002),
    // A slot count of 0 is left out of the message (proto3).
    activityTaskSlotsInfo: { currentAvailableSlots: 3 },
  });
  assert.deepEqual(read, { identity: '31893@vm', taskQueue: 'sweep-gpu', running: true, at: 1_796_397_770_508, intervalMs: 10_002, activitySlots: { free: 3, used: 0 }, takes: ['activity'] });
  const first = workerBeat({ workerIdentity: 'w', taskQueue: 'q', status: WORKER_STATUS_SHUTTING_DOWN, heartbeatTime: msToTs(1000) });
  assert.deepEqual(first, { identity: 'w', taskQueue: 'q', running: false, at: 1000, takes: ['workflow', 'activity'] }, 'one that says no slots or pollers is taken to serve both');
  assert.equal(workerBeat({ workerIdentity: 'w', taskQueue: 'q' }), undefined, 'no time, nothing to judge by');
  // A first heartbeat (no interval) of the TS and Python SDKs comes one interval after the worker's start.
  const firstOf = (sdkName: string) => workerBeat({ workerIdentity: 'w', taskQueue: 'q', sdkName, startTime: msToTs(26_209), heartbeatTime: msToTs(36_170) })!.intervalMs;
  assert.equal(firstOf('temporal-typescript'), 9_961);
  assert.equal(firstOf('temporal-python'), 9_961);
  assert.equal(firstOf('temporal-go'), undefined, 'an SDK not known to wait an interval: the default');
  assert.equal(beatIsLive(workerBeat({ workerIdentity: 'w', taskQueue: 'q', sdkName: 'temporal-typescript', startTime: msToTs(0), heartbeatTime: msToTs(10_000) })!, 41_000), false,
    'a worker killed before its second heartbeat is gone two intervals and the slack after its first');
  const { WORKER_STATUS_SHUTDOWN, WORKER_STATUS_UNSPECIFIED } = temporal.api.enums.v1.WorkerStatus;
  assert.equal(workerBeat({ workerIdentity: 'w', taskQueue: 'q', status: WORKER_STATUS_SHUTDOWN, heartbeatTime: msToTs(1000) })!.running, false);
  assert.equal(workerBeat({ workerIdentity: 'w', taskQueue: 'q', status: WORKER_STATUS_UNSPECIFIED, heartbeatTime: msToTs(1000) })!.running, true, 'a status left unset is not taken for gone');
});

test('a CPU worker process runs its workflows and its steps in two workers: each heartbeat speaks for the tasks its worker takes', () => {
  const { WORKER_STATUS_RUNNING, WORKER_STATUS_SHUTTING_DOWN } = temporal.api.enums.v1.WorkerStatus;
  // As the TypeScript SDK 1.24 sends them (seen on the dev server): each worker reports both kinds of slot, filled in only for its own.
  const at = msToTs(NOW - 3000);
  const workflows = workerBeat({
    workerIdentity: '7@cpu', taskQueue: 'sweep-cpu', status: WORKER_STATUS_RUNNING, heartbeatTime: at,
    workflowTaskSlotsInfo: { currentAvailableSlots: 40, slotSupplierKind: 'Fixed' }, workflowPollerInfo: { currentPollers: 2 },
    activityTaskSlotsInfo: { slotSupplierKind: 'Fixed' }, activityPollerInfo: {},
  })!;
  assert.deepEqual(workflows.takes, ['workflow']);
  assert.equal(workflows.activitySlots, undefined, 'no activity slots, not "all taken"');
  const stepsBeat = (status: number, slots: { currentAvailableSlots?: number; currentUsedSlots?: number }, pollers: number | undefined) => workerBeat({
    workerIdentity: '7@cpu', taskQueue: 'sweep-cpu', status, heartbeatTime: at,
    workflowTaskSlotsInfo: { slotSupplierKind: 'Fixed' }, workflowPollerInfo: {},
    activityTaskSlotsInfo: { ...slots, slotSupplierKind: 'Fixed' }, activityPollerInfo: { currentPollers: pollers },
  })!;
  assert.deepEqual(stepsBeat(WORKER_STATUS_RUNNING, { currentAvailableSlots: 3 }, 3).takes, ['activity']);
  assert.deepEqual(stepsBeat(WORKER_STATUS_RUNNING, { currentUsedSlots: 3 }, undefined).takes, ['activity'], 'every slot taken, not polling');
  // Its step worker shut down (S3 lost): its last heartbeat still names its slots.
  const stopped = stepsBeat(WORKER_STATUS_SHUTTING_DOWN, { currentAvailableSlots: 3 }, 3);
  const beats = [workflows, stopped];
  const pollers = [poll('7@cpu', 1)];
  assert.equal(queueServed(pollers, beatsOf(beats, 'sweep-cpu', 'workflow'), NOW), true, 'its workflows are served');
  assert.equal(queueServed(pollers, beatsOf(beats, 'sweep-cpu', 'activity'), NOW), false, 'its steps are not');
  assert.deepEqual(beatsOf(beats, 'sweep-gpu', 'activity'), [], 'another queue\'s');
  // Made again once S3 answers: the new step worker's heartbeat serves the steps.
  assert.equal(queueServed(pollers, beatsOf([...beats, stepsBeat(WORKER_STATUS_RUNNING, { currentAvailableSlots: 3 }, 3)], 'sweep-cpu', 'activity'), NOW), true);
});

test('gone workers: each identity by its last heartbeat, shut down or silent, the last heard first; a live one is not gone', () => {
  const gone = goneWorkers([
    beat('killed', 45), beat('killed', 90),
    beat('stopped', 5, { running: false }), beat('stopped', 20),
    beat('live', 3), beat('restarted', 200, { running: false }), beat('restarted', 2),
  ], NOW);
  assert.deepEqual(gone, [
    { identity: 'stopped', at: NOW - 5_000, how: 'shut down' },
    { identity: 'killed', at: NOW - 45_000, how: 'silent' },
  ]);
});

test('a heartbeat after an outage names the outage as its interval: taken as at most 60 s, the longest the SDKs accept', () => {
  const { WORKER_STATUS_RUNNING } = temporal.api.enums.v1.WorkerStatus;
  const afterOutage = (elapsedMs: number) => workerBeat({
    workerIdentity: 'w@h', taskQueue: 'q', status: WORKER_STATUS_RUNNING, heartbeatTime: msToTs(NOW - 131_000), elapsedSinceLastHeartbeat: msToTs(elapsedMs),
  })!;
  // Killed right after a 10-minute outage: gone two minutes (and the slack) after its last heartbeat, not twenty.
  assert.equal(afterOutage(600_000).intervalMs, 60_000);
  assert.equal(beatIsLive(afterOutage(600_000), NOW), false);
  assert.equal(afterOutage(30_000).intervalMs, 30_000, 'within the range: as named');
});
