// `npm run demo`: a real sweep end to end on this machine. Brings up the local stack (Temporal dev
// server + MinIO), generates the demo flower images and the demo backbone, runs CPU and GPU-queue
// workers in this process, starts examples/demo-sweep.json through Temporal and prints the leaderboard.
//
// `npm run demo -- --cluster` (root) runs the same sweep on the cluster profile instead: it brings up
// the cluster (infra/cluster-up.sh) and worker nodes in network namespaces (infra/nodes-up.sh), which
// run the sweep; this process only generates the data and starts and awaits the sweep.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Runtime } from '@temporalio/worker';
import { startSweep } from '../cli/sweep';
import { formatLeaderboard } from '../views/leaderboard-table';
import { Leaderboard } from '../lib/sweep-types';
import { parseSweepSpec } from '../lib/sweep-spec';
import { REPO_ROOT, clusterDir, loadStackEnv } from '../platform/config';
import { WorkerLogger, createWorkers } from '../workers/run-workers';
import { WORKER_HEARTBEAT_INTERVAL, connectClient } from '../platform/temporal-connection';
import { generateFlowerDataset } from './generate-flowers';

const SPEC_FILE = path.join(REPO_ROOT, 'examples', 'demo-sweep.json');
const USAGE = 'usage: npm run demo [-- --cluster]';
/** The cluster's nodes the demo asks for: one GPU node per trial the spec trains at once, and the workflows' CPU node. */
const CLUSTER_NODES = ['--gpu', '2', '--cpu', '1'];

/** Where the demo's sweep runs: the stack it brings up, and who runs the workers. */
interface Profile {
  /** Brings the stack up and points this process at it (before loadStackEnv). */
  up(): void;
  /** Starts the workers; returns how to stop what this process started. */
  workers(): Promise<() => Promise<void>>;
  stillUp: string;
}

const devProfile: Profile = {
  up: () => infra('stack-up.sh'),
  async workers() {
    // Worker chatter would bury the demo's own output; warnings and errors still show. Ctrl-C is the
    // demo's to handle (below): the SDK's own handler stopped the workers and left the demo waiting.
    Runtime.install({ logger: new WorkerLogger('WARN'), shutdownSignals: [], workerHeartbeatInterval: WORKER_HEARTBEAT_INTERVAL });
    const workers = await createWorkers(['cpu', 'gpu']);
    const running = workers.map((w) => w.run());
    return async () => {
      workers.forEach((w) => w.shutdown());
      await Promise.all(running);
    };
  },
  stillUp: 'The stack is still up (npm run stack:down stops it). A search over the same data (README, "A search instead of a grid"): ' +
    'npm run workers, then in another terminal npx sweep start examples/demo-search.json --wait.',
};

const clusterProfile: Profile = {
  up() {
    infra('cluster-up.sh');
    process.env.SWEEP_STACK_ENV = path.join(clusterDir(), 'stack.env');
  },
  async workers() {
    // Nodes already running are kept (infra/nodes-up.sh), so the demo also runs on the user's own.
    infra('nodes-up.sh', ...CLUSTER_NODES);
    return async () => undefined;
  },
  stillUp: `The cluster and its nodes are still up (sudo npm run cluster:down stops both; node logs in ${path.join(clusterDir(), 'logs')}). ` +
    `For the CLI: export SWEEP_STACK_ENV=${path.join(clusterDir(), 'stack.env')}.`,
};

function infra(script: string, ...args: string[]): void {
  execFileSync('bash', [path.join(REPO_ROOT, 'infra', script), ...args], { stdio: 'inherit' });
}

function profileOf(args: string[]): Profile {
  const unknown = args.filter((a) => a !== '--cluster');
  if (unknown.length) throw new Error(`unknown argument ${unknown.join(' ')}; ${USAGE}`);
  if (!args.includes('--cluster')) return devProfile;
  // Checked before anything starts: the cluster's bridge, namespaces and PostgreSQL need root.
  if (process.getuid?.() !== 0) throw new Error(`the cluster profile needs root (a bridge, network namespaces, PostgreSQL as the postgres user): run sudo npm run demo -- --cluster, or npm run demo for the dev profile`);
  return clusterProfile;
}

async function main(): Promise<void> {
  const profile = profileOf(process.argv.slice(2));
  const began = Date.now();
  const step = (text: string) => console.log(`\n[demo ${((Date.now() - began) / 1000).toFixed(0)}s] ${text}`);
  step(profile === clusterProfile
    ? 'starting the cluster profile (temporal-server on PostgreSQL, MinIO over 4 drives; first run builds them)'
    : 'starting the local stack (Temporal dev server + MinIO; first run installs them)');
  profile.up();
  loadStackEnv();

  const raw = JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8'));
  const spec = parseSweepSpec(raw);
  process.chdir(REPO_ROOT);
  step(`generating the demo flower images in ${spec.data.source}`);
  const data = await generateFlowerDataset({ outDir: spec.data.source, log: (line) => console.log(`  ${line}`) });
  console.log(`  ${data.files} images${data.skipped ? ' (already there)' : ''}: ${JSON.stringify(data.perClass)}`);

  step(profile === clusterProfile
    ? `starting the cluster's worker nodes (infra/nodes-up.sh ${CLUSTER_NODES.join(' ')}; running nodes are kept)`
    : 'starting workers for the CPU and GPU queues in this process');
  const stopWorkers = await profile.workers();
  try {
    const client = await connectClient();
    const handle = await startSweep(client, raw);
    const workflowId = handle.workflowId;
    process.once('SIGINT', () => {
      process.stderr.write(`\nstopping the demo; sweep ${workflowId} stays in Temporal and goes on while workers poll its queues ` +
        `(npm run workers starts them; npx sweep watch ${workflowId} follows it, npx sweep cancel ${workflowId} stops it)\n`);
      void stopWorkers().finally(() => process.exit(130));
    });
    step(`sweep ${workflowId} started: ${Object.keys(spec.grid).length}-key grid; watch it at ${process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233'}/namespaces/default/workflows/${workflowId}`);
    const board = (await handle.result()) as Leaderboard;
    step('finished\n');
    console.log(formatLeaderboard(board));
    console.log(`\n${profile.stillUp} Try: npx sweep status ${workflowId}`);
  } finally {
    await stopWorkers();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
