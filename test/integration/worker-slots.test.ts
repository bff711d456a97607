// A step waiting for a free slot: one GPU worker with one slot, taken by another sweep's long trial. The
// server lists the busy worker's poll only for minutes (it does not poll while its slot is taken), so
// `status` reads the workers' heartbeats: the waiting sweep's GPU queue has a live worker (no "no worker"
// warning) whose every slot is taken, and status says so. Once the slot frees, the step runs.
// Runs on a private stack (its own Temporal dev server and MinIO), workers as separate processes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Leaderboard } from '../../lib/sweep-types';
import { progressQuery } from '../../workflows';
import type { StatusDocument } from '../../cli/status';
import { tinyFlowerDataset, tinySpec, uniqueId } from './harness';
import { waitFor } from '../waiting';
import { PrivateStack, startPrivateStack } from './private-stack';

const queues = { cpuQueue: 'slots-cpu', gpuQueue: 'slots-gpu' };
let stack: PrivateStack;

before(async () => {
  await tinyFlowerDataset();
  stack = await startPrivateStack();
  const cpu = stack.spawnWorker('cpu', queues);
  const gpu = stack.spawnWorker('gpu', queues, { SWEEP_GPU_CONCURRENCY: '1' });
  await Promise.all([cpu.ready, gpu.ready]);
});

after(async () => { await stack?.destroy(); });

test('a sweep whose GPU step waits behind another sweep\'s trial: status says the queue\'s one worker has its one slot taken, not that no worker serves it', { timeout: 240_000 }, async () => {
  const grid = (epochs: number) => ({ hidden_units: [8], dropout: [0.5], num_classes: [4], lr: [0.01], batch_size: [2], n_epochs: [epochs] });
  const start = async (name: string, epochs: number) => stack.client.workflow.start('sweepWorkflow', {
    taskQueue: queues.cpuQueue, workflowId: uniqueId(name), workflowExecutionTimeout: '10m',
    args: [await tinySpec(queues, { name, reuse: false, concurrency: 1, grid: grid(epochs) })],
  });
  const long = await start('it-slots-long', 3000);
  // Started once the long trial holds the slot, so that it is the one that waits.
  await waitFor('the long trial to train', async () => (await long.query(progressQuery)).running.length === 1, 120_000, 200);
  const waiting = await start('it-slots-waiting', 2);
  try {
    const doc = await waitFor('status of the waiting sweep to name the full queue', async () => {
      const status = await stack.cli(['status', waiting.workflowId, '--json']);
      const found = JSON.parse(status.stdout) as StatusDocument;
      return found.waitingForSlots?.length ? { found, text: (await stack.cli(['status', waiting.workflowId])).stdout } : undefined;
    }, 120_000, 1_000);
    assert.deepEqual(doc.found.waitingForSlots, [{ role: 'gpu', taskQueue: queues.gpuQueue, workers: 1, slots: 1 }]);
    assert.equal(doc.found.waitingForWorkers, undefined, 'the busy worker serves the queue');
    assert.match(doc.text, /^waiting for a free slot on the gpu queue "slots-gpu": its worker has its 1 slot taken \(as of its last heartbeat\)/m);

    // The long sweep cancelled, its slot frees and the waiting sweep completes.
    await long.cancel();
    const board = await waiting.result() as Leaderboard;
    assert.equal(board.ranked.length, 1);
  } finally {
    await Promise.all([long, waiting].map((h) => h.terminate('test over').catch(() => undefined)));
  }
});
