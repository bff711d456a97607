// `npm run demo`: a real sweep end to end on this machine. Brings up the local stack (Temporal dev
// server + MinIO), generates the demo flower images and the demo backbone, runs CPU and GPU-queue
// workers in this process, starts examples/demo-sweep.json through Temporal and prints the leaderboard.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Runtime } from '@temporalio/worker';
import { startSweep } from '../cli/sweep';
import { formatLeaderboard } from '../views/leaderboard-table';
import { Leaderboard } from '../lib/sweep-types';
import { parseSweepSpec } from '../lib/sweep-spec';
import { REPO_ROOT, loadStackEnv } from '../platform/config';
import { WorkerLogger, createWorkers } from '../workers/run-workers';
import { connectClient } from '../platform/temporal-connection';
import { generateFlowerDataset } from './generate-flowers';

const SPEC_FILE = path.join(REPO_ROOT, 'examples', 'demo-sweep.json');

async function main(): Promise<void> {
  const began = Date.now();
  const step = (text: string) => console.log(`\n[demo ${((Date.now() - began) / 1000).toFixed(0)}s] ${text}`);
  step('starting the local stack (Temporal dev server + MinIO; first run installs them)');
  execFileSync('bash', [path.join(REPO_ROOT, 'infra', 'stack-up.sh')], { stdio: 'inherit' });
  loadStackEnv();

  const raw = JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8'));
  const spec = parseSweepSpec(raw);
  process.chdir(REPO_ROOT);
  step(`generating the demo flower images in ${spec.data.source}`);
  const data = await generateFlowerDataset({ outDir: spec.data.source, log: (line) => console.log(`  ${line}`) });
  console.log(`  ${data.files} images${data.skipped ? ' (already there)' : ''}: ${JSON.stringify(data.perClass)}`);

  step('starting workers for the CPU and GPU queues in this process');
  // Worker chatter would bury the demo's own output; warnings and errors still show.
  Runtime.install({ logger: new WorkerLogger('WARN') });
  const workers = await createWorkers(['cpu', 'gpu']);
  const running = workers.map((w) => w.run());
  try {
    const client = await connectClient();
    const handle = await startSweep(client, raw);
    const workflowId = handle.workflowId;
    step(`sweep ${workflowId} started: ${Object.keys(spec.grid).length}-key grid; watch it at ${process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233'}/namespaces/default/workflows/${workflowId}`);
    const board = (await handle.result()) as Leaderboard;
    step('finished\n');
    console.log(formatLeaderboard(board));
    console.log(`\nThe stack is still up (npm run stack:down stops it). Try: npx sweep status ${workflowId}`);
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
