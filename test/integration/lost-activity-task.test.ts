// An activity task the server starts but never delivers (docs/guarantees.md, "Undelivered activity
// tasks"): under load the Temporal server can record an attempt as started by a poll whose worker
// never receives it (temporalio/temporal#11733). Here a poller that takes the sweep's first CPU
// activity task and drops it plays that part, deterministically: it is the only activity poller on
// the queue when the task is scheduled. The sweep must retry the task within its heartbeat timeout
// and complete, instead of stalling for the 2 minutes it did before the CPU worker heartbeated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { connectWorker } from '../../platform/temporal-connection';
import { createWorkers } from '../../workers/run-workers';
import { Figures } from './fault-figures';
import { startTestWorkers, tinySpec, uniqueId } from './harness';
import { sweepWorkflow } from '../../workflows';

const figures = new Figures();

test('a CPU activity task started but never delivered is retried after the 20 s heartbeat timeout, and the sweep completes', { timeout: 300_000 }, async () => {
  // The client and queues only; the real workers are made (their workflow bundle takes a while) but not run yet.
  const env = await startTestWorkers('lost-task', []);
  const workers = await createWorkers(['cpu', 'gpu'], { cpuQueue: env.cpuQueue, gpuQueue: env.gpuQueue });
  const { connection, namespace } = await connectWorker();
  const workflowsOnly = await Worker.create({ connection, namespace, taskQueue: env.cpuQueue, workflowsPath: require.resolve('../../workflows') });
  const sweepId = uniqueId('lost-task');
  const began = Date.now();
  let running: Promise<void>[] = [];
  try {
    await env.client.workflow.start(sweepWorkflow, { taskQueue: env.cpuQueue, workflowId: sweepId, args: [await tinySpec(env)], workflowExecutionTimeout: '10m' });
    // The black hole polls first and alone; the workflow-only worker (no activities, so it polls no
    // activity tasks) runs the sweep's first workflow task, which schedules ingestDataset.
    const lost = env.client.connection.withDeadline(Date.now() + 120_000,
      () => env.client.workflowService.pollActivityTaskQueue({ namespace, taskQueue: { name: env.cpuQueue }, identity: 'black-hole' }));
    await sleep(1000);
    const workflowsOnlyRun = workflowsOnly.run();
    const task = await lost.finally(() => workflowsOnly.shutdown());
    await workflowsOnlyRun;
    assert.equal(task.activityType?.name, 'ingestDataset', 'the black hole took the first CPU activity task');
    assert.equal(task.attempt, 1);
    // Now the real workers: the sweep goes on once ingestDataset's lost attempt has timed out.
    running = workers.map((w) => w.run());
    const board = await env.client.workflow.getHandle(sweepId).result();
    assert.equal(board.status, 'completed');
    assert.equal(board.ranked.length, 4);
    const events = (await env.client.workflow.getHandle(sweepId).fetchHistory()).events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'ingestDataset')!;
    const started = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === Number(scheduled.eventId))!;
    const completed = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId))!;
    assert.equal(started.activityTaskStartedEventAttributes!.attempt, 2, 'the lost attempt was retried');
    assert.equal(started.activityTaskStartedEventAttributes!.lastFailure?.timeoutFailureInfo?.timeoutType, temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    const seconds = (e: temporal.api.history.v1.IHistoryEvent) => Number(e.eventTime!.seconds) + (e.eventTime!.nanos ?? 0) / 1e9;
    const recovery = seconds(completed) - seconds(scheduled);
    figures.add(`lost ingestDataset task: scheduled to completed ${recovery.toFixed(1)} s (heartbeat timeout 20 s); sweep ${((Date.now() - began) / 1000).toFixed(1)} s`);
    assert.ok(recovery >= 20 && recovery < 45, `the lost task was retried ${recovery.toFixed(1)} s after it was scheduled`);
  } finally {
    if (running.length) {
      workers.forEach((w) => w.shutdown());
      await Promise.all(running);
    }
    await env.client.workflow.getHandle(sweepId).terminate('test ended').catch(() => undefined);
    await connection.close();
    await env.stop();
    console.log(figures.summary());
  }
});
