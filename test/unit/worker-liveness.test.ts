// cli/worker-liveness.ts: whether a worker serves a queue, from its polls and its heartbeats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { WorkerBeat, beatIsLive, queueServed, workerBeat } from '../../cli/worker-liveness';

const NOW = 1_800_000_000_000;
const beat = (identity: string, secondsAgo: number, more: Partial<WorkerBeat> = {}): WorkerBeat =>
  ({ identity, taskQueue: 'q', running: true, at: NOW - secondsAgo * 1000, intervalMs: 10_000, ...more });

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
  assert.equal(queueServed(['killed'], [beat('killed', 45)], NOW), false);
  assert.equal(queueServed(['stopped'], [beat('stopped', 2, { running: false })], NOW), false);
  // Before its heartbeat goes stale it still counts.
  assert.equal(queueServed(['killed'], [beat('killed', 20)], NOW), true);
});

test('a poller that sends no heartbeats (an older SDK) counts by its poll, as before', () => {
  assert.equal(queueServed(['old-sdk'], [], NOW), true);
  assert.equal(queueServed(['old-sdk', 'killed'], [beat('killed', 300)], NOW), true);
});

test('a worker started again under the same identity serves it by its new heartbeat', () => {
  assert.equal(queueServed(['cpu@host'], [beat('cpu@host', 300), beat('cpu@host', 3)], NOW), true);
});

test('a heartbeat from the server\'s worker list: identity, queue, status, time and interval', () => {
  const { WORKER_STATUS_RUNNING, WORKER_STATUS_SHUTTING_DOWN } = temporal.api.enums.v1.WorkerStatus;
  const read = workerBeat({
    workerIdentity: '31893@vm', taskQueue: 'sweep-gpu', status: WORKER_STATUS_RUNNING,
    heartbeatTime: msToTs(1_796_397_770_508), elapsedSinceLastHeartbeat: msToTs(10_002),
  });
  assert.deepEqual(read, { identity: '31893@vm', taskQueue: 'sweep-gpu', running: true, at: 1_796_397_770_508, intervalMs: 10_002 });
  const first = workerBeat({ workerIdentity: 'w', taskQueue: 'q', status: WORKER_STATUS_SHUTTING_DOWN, heartbeatTime: msToTs(1000) });
  assert.deepEqual(first, { identity: 'w', taskQueue: 'q', running: false, at: 1000 });
  assert.equal(workerBeat({ workerIdentity: 'w', taskQueue: 'q' }), undefined, 'no time, nothing to judge by');
});
