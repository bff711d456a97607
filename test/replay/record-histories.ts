// Records the histories the replay test (test/unit/replay.test.ts) replays: real sweeps on the local
// stack, one per path through the workflows (completed, a trial waiting for another sweep's training
// lease, cancelled, failed at ingestion, a spec refused), with every trial and lease workflow they
// started. Run it again after a deliberate, versioned workflow change, and keep the old files: they are
// what sweeps started by earlier workers look like.
//   node --import tsx test/replay/record-histories.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startTestWorkers, tinyFlowerDataset, tinySpec, uniqueId } from '../integration/harness';

const OUT = path.join(__dirname, 'histories');

/** The workflow and every workflow it started, depth first, as [workflowId, history JSON]. */
async function family(client: Client, workflowId: string): Promise<Array<[string, string]>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const children = (history.events ?? []).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
  const nested = await Promise.all([...new Set(children)].map((child) => family(client, child).catch(() => [])));
  return [[workflowId, historyToJSON(history)], ...nested.flat()];
}

/** File name -> workflow id: replay needs the recorded id, since child workflow ids derive from it. */
const index: Record<string, string> = {};

async function save(client: Client, name: string, handle: WorkflowHandle): Promise<void> {
  await handle.result().catch(() => undefined);
  const histories = await family(client, handle.workflowId);
  histories.forEach(([workflowId, json], i) => {
    const type = i === 0 ? 'sweep' : workflowId.includes('training-lease') ? 'lease' : 'trial';
    const file = `${name}.${String(i).padStart(2, '0')}-${type}.json`;
    fs.writeFileSync(path.join(OUT, file), json);
    index[file] = workflowId;
  });
  console.log(`${name}: ${histories.length} histories`);
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const env = await startTestWorkers('replay-record');
  try {
    const start = (spec: unknown, prefix: string) => env.client.workflow.start('sweepWorkflow', { taskQueue: env.cpuQueue, workflowId: uniqueId(prefix), args: [spec] });
    const small = await tinySpec(env, { grid: { hidden_units: [16, 32], dropout: [0.5], n_epochs: [2] } });

    await save(env.client, 'completed', await start(small, 'replay-completed'));

    // Two sweeps of one spec at once, on a seed of their own: one trains each trial, the other waits for its lease.
    const shared = { ...small, seed: Math.floor(Math.random() * 2 ** 31), reuse: true };
    const [a, b] = await Promise.all([start(shared, 'replay-lease-a'), start(shared, 'replay-lease-b')]);
    await Promise.all([save(env.client, 'lease-a', a), save(env.client, 'lease-b', b)]);

    const long = await start(await tinySpec(env, { grid: { hidden_units: [16], n_epochs: [500] }, concurrency: 1, reuse: false }), 'replay-cancelled');
    for (let i = 0; i < 240; i++) {
      const progress = await long.query<{ stage: string }>('progress').catch(() => undefined);
      if (progress?.stage === 'training') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 2000));
    await long.cancel();
    await save(env.client, 'cancelled', long);

    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-broken-'));
    fs.cpSync(await tinyFlowerDataset(), broken, { recursive: true });
    fs.writeFileSync(path.join(broken, 'rose', 'broken.jpg'), 'not a jpeg');
    await save(env.client, 'failed-ingest', await start({ ...small, data: { ...small.data, source: broken, maxBadFraction: 0 } }, 'replay-failed'));

    await save(env.client, 'spec-refused', await start({ ...small, grid: { hidden_units: [0] } }, 'replay-spec-refused'));
    fs.writeFileSync(path.join(OUT, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
  } finally {
    await env.stop();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
