// The soak's cluster arena (soak.ts --cluster): its sweeps run on the cluster profile (the Temporal
// server's processes on PostgreSQL, erasure-coded MinIO; infra/cluster-up.sh), on nodes of their own
// (2 GPU, 1 CPU with the suggest worker; infra/nodes-up.sh --prefix sk) and queues of their own, while
// the faults below hit it, one at a time. Each fault waits until the cluster is whole again before it
// returns: a lost node replaced (nodes-up.sh), a killed server started again (cluster-up.sh). Needs root.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bucketReader } from './bucket-reader';
import {
  CLUSTER_DIR, Queues, TEMPORAL_PROCESSES, clusterEnv, clusterS3, infraRun, killNode, nodePids, operatorClient, productOnTheHost, routeS3Nowhere, signalNode,
} from './cluster-profile';
import { seconds } from '../waiting';
import { Arena, Chance, FaultDone } from './soak-arena';
import { SweepStore, forgetKeptVersions, keepEveryVersion } from './search-runs';

export const CLUSTER_FAULTS = [
  'kill-gpu-node', 'hang-gpu-node', 'redeploy-gpu-node', 'revoke-gpu-node', 'partition-gpu-node-from-minio', 'kill-cpu-node', 'redeploy-cpu-node',
  'kill-temporal-process', 'kill-temporal', 'kill-postgres', 'kill-minio',
] as const;
type ClusterFault = typeof CLUSTER_FAULTS[number];

const PREFIX = 'sk';
const GPU_NODES = [`${PREFIX}gpu1`, `${PREFIX}gpu2`];
const CPU_NODE = `${PREFIX}cpu1`;
const NODES_UP = ['--gpu', String(GPU_NODES.length), '--cpu', '1', '--prefix', PREFIX];
/** A redeployed node (nodes-down.sh: TERM) that still runs this long after is killed, and that is a problem. */
const DRAIN_S = 30;

export async function clusterArena(chosen: readonly string[], chance: Chance, withSuggest: boolean): Promise<Arena> {
  assert.equal(process.getuid?.(), 0, 'the cluster soak needs root (network namespaces, PostgreSQL as the postgres user)');
  const { between, pick } = chance;
  const queues: Queues = { cpuQueue: 'soak-cluster-cpu', gpuQueue: 'soak-cluster-gpu', ...(withSuggest ? { suggestQueue: 'soak-cluster-suggest' } : {}) };
  const script = (name: string, ...args: string[]) => infraRun(queues, { STACK_STOP_TIMEOUT: String(DRAIN_S) }, name, ...args);
  await script('cluster-up.sh');
  const env = clusterEnv();
  const s3 = clusterS3(env);
  const store: SweepStore = { client: await operatorClient(env), s3, bucket: env.S3_BUCKET, ...bucketReader(s3, env.S3_BUCKET) };
  await keepEveryVersion(store);
  const nodesUp = () => script('nodes-up.sh', ...NODES_UP);
  await nodesUp();

  const exitedOnTheirOwn: string[] = [];
  /** A node with no process left that no fault stopped has exited on its own: reported, and started again. */
  const checkNodes = async () => {
    const gone = [];
    for (const node of [...GPU_NODES, CPU_NODE]) if ((await nodePids(node)).length === 0) gone.push(node);
    if (!gone.length) return;
    for (const node of gone) {
      const log = fs.readFileSync(path.join(CLUSTER_DIR, 'logs', `node-${node}.log`), 'utf8');
      exitedOnTheirOwn.push(`${node} exited on its own:\n${log.slice(-2000)}`);
      console.log(`[soak] ${exitedOnTheirOwn.at(-1)}`);
    }
    await nodesUp();
  };
  const pause = () => sleep(between(0, 3000));

  async function inject(fault: ClusterFault): Promise<FaultDone> {
    await checkNodes();
    switch (fault) {
      case 'kill-gpu-node':
      case 'kill-cpu-node': {
        const node = fault === 'kill-cpu-node' ? CPU_NODE : pick(GPU_NODES);
        // A GPU machine replaced comes with an empty disk; the CPU node's cache holds nothing of a GPU's.
        const killed = await killNode(node, { cache: fault === 'kill-gpu-node' ? 'deleted' : 'kept' });
        await pause();
        const { ms } = await nodesUp();
        return { what: `kill -9 ${node} (${killed} processes${fault === 'kill-gpu-node' ? ', cache deleted' : ''}), back in ${seconds(ms)}` };
      }
      case 'hang-gpu-node': {
        const node = pick(GPU_NODES);
        const ms = between(6000, 15_000);
        await signalNode(node, 'SIGSTOP');
        await sleep(ms);
        await signalNode(node, 'SIGCONT');
        return { what: `SIGSTOP ${node} for ${seconds(ms)}` };
      }
      case 'redeploy-gpu-node':
      case 'redeploy-cpu-node': {
        const node = fault === 'redeploy-cpu-node' ? CPU_NODE : pick(GPU_NODES);
        const { ms, out } = await script('nodes-down.sh', node);
        await pause();
        await nodesUp();
        const problem = /still running after \d+s; sending KILL/.test(out) ? `${node} still ran ${DRAIN_S} s after SIGTERM:\n${out}` : undefined;
        return { what: `SIGTERM ${node} (redeploy): ${problem ? 'did not exit, killed' : `stopped in ${seconds(ms)}`}, started again`, problem };
      }
      case 'revoke-gpu-node': {
        // A stolen machine: refused by Temporal and MinIO while it runs on; then set up anew under its name.
        const node = pick(GPU_NODES);
        await script('nodes-revoke.sh', node);
        const ms = between(1000, 8000);
        await sleep(ms);
        await script('nodes-down.sh', node, '--kill');
        await nodesUp();
        return { what: `${node}'s credentials revoked while it ran on for ${seconds(ms)}, then killed and enrolled again` };
      }
      case 'partition-gpu-node-from-minio': {
        const node = pick(GPU_NODES);
        const ms = between(2000, 30_000);
        const route = await routeS3Nowhere(node, env.S3_ENDPOINT);
        await sleep(ms);
        await route.restore();
        return { what: `${node} cut off from MinIO (not from Temporal) for ${seconds(ms)}` };
      }
      case 'kill-temporal-process':
      case 'kill-temporal':
      case 'kill-postgres':
      case 'kill-minio': {
        const [component, restart] = fault === 'kill-temporal-process' ? [`temporal-${pick(TEMPORAL_PROCESSES)}`, 'temporal']
          : fault === 'kill-temporal' ? ['temporal', 'temporal'] : [fault.slice('kill-'.length), fault.slice('kill-'.length)];
        await script('cluster-down.sh', component, '--kill');
        const ms = between(1000, 8000);
        await sleep(ms);
        await script('cluster-up.sh', restart, '--no-setup');
        return { what: `kill -9 ${component === 'temporal' ? 'every Temporal process' : component}, down ${seconds(ms)}` };
      }
    }
  }

  return {
    store,
    queues,
    faults: chosen.filter((f): f is ClusterFault => (CLUSTER_FAULTS as readonly string[]).includes(f)),
    inject: (fault) => inject(fault as ClusterFault),
    status: async (workflowId) => (await productOnTheHost([path.join('bin', 'sweep.js'), 'status', workflowId])).out,
    async close() {
      await checkNodes();
      await script('nodes-down.sh', ...GPU_NODES, CPU_NODE);
      const removed = await forgetKeptVersions(store);
      return { exitedOnTheirOwn, figures: { oldVersionsRemoved: removed } };
    },
  };
}
