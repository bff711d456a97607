// The cluster profile (infra/cluster-up.sh, infra/nodes-up.sh) as its test and the soak drive it: its
// scripts run for nodes on given queues, its nodes' processes found, signalled and killed, a node cut
// off from MinIO, and clients of its Temporal and MinIO as the operator on the host has them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Client, Connection } from '@temporalio/client';
import { REPO_ROOT, clusterDir, readEnvFile } from '../../platform/config';
import { waitFor as waitUntil } from '../waiting';

export const CLUSTER_DIR = clusterDir();

/**
 * The Temporal server's processes, temporal-<name> (infra/cluster-common.sh TEMPORAL_PROCESSES, in start order): each
 * service, history, matching and the frontend twice. A second host ("-b") has its own config file, its ports its first's + 20.
 */
export const TEMPORAL_PROCESSES = ['history', 'history-b', 'matching', 'matching-b', 'frontend', 'frontend-b', 'worker'];

/** A stack's queues; nodes poll the suggest queue with their CPU queue where one is given. */
export interface Queues { cpuQueue: string; gpuQueue: string; suggestQueue?: string }

/** Waits as fault-figures' waitFor does, with a probe error counting as "not yet" (a server may be down). */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000, intervalMs = 250): Promise<T> {
  return waitUntil(what, () => probe().catch(() => undefined), timeoutMs, intervalMs);
}

export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Runs infra/<script> for nodes on `on`'s queues (one slot per GPU node), with `env` besides; throws with its output when it fails. Returns its time and output. */
export async function infraRun(on: Queues, env: NodeJS.ProcessEnv, script: string, ...args: string[]): Promise<{ ms: number; out: string }> {
  const began = Date.now();
  const { code, out } = await run('bash', [path.join(REPO_ROOT, 'infra', script), ...args], {
    ...process.env, SWEEP_CLUSTER_DIR: CLUSTER_DIR, SWEEP_CPU_QUEUE: on.cpuQueue, SWEEP_GPU_QUEUE: on.gpuQueue, ...(on.suggestQueue ? { SWEEP_SUGGEST_QUEUE: on.suggestQueue } : {}), SWEEP_GPU_CONCURRENCY: '1', ...env,
  });
  if (code !== 0) throw new Error(`infra/${script} ${args.join(' ')} failed (exit ${code}):\n${out}`);
  return { ms: Date.now() - began, out };
}

/** infraRun's time alone. */
export const infraWith = async (on: Queues, env: NodeJS.ProcessEnv, script: string, ...args: string[]): Promise<number> => (await infraRun(on, env, script, ...args)).ms;

/**
 * Runs the product (`bin/sweep.js`, `workers/run-workers.ts`: `args` to infra/node.sh) as an operator or a
 * node on the host would: with the cluster's stack.env, none of this process's Temporal or TLS settings, and `env`.
 */
export function productOnTheHost(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  const own = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(TEMPORAL_|AWS_CA_BUNDLE|SWEEP_STACK)/.test(name)));
  return run('bash', [path.join(REPO_ROOT, 'infra', 'node.sh'), ...args], { ...own, SWEEP_STACK_ENV: path.join(CLUSTER_DIR, 'stack.env'), ...env });
}


/** The cluster's stack.env, as cluster-up.sh wrote it: what the operator's tools on the host read. */
export const clusterEnv = (): Record<string, string> => readEnvFile(path.join(CLUSTER_DIR, 'stack.env'));

/** A Temporal client as the operator: the cluster's CA, the operator's client certificate (both in stack.env). */
export async function operatorClient(env: Record<string, string>): Promise<Client> {
  const connection = await Connection.connect({
    address: env.TEMPORAL_ADDRESS,
    tls: {
      serverRootCACertificate: fs.readFileSync(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH), serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME,
      clientCertPair: { crt: fs.readFileSync(env.TEMPORAL_TLS_CLIENT_CERT_PATH), key: fs.readFileSync(env.TEMPORAL_TLS_CLIENT_KEY_PATH) },
    },
  });
  return new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
}

/** A client of the cluster's MinIO with these keys (by default the root user's, the operator's). */
export function clusterS3(env: Record<string, string>, credentials?: { accessKeyId: string; secretAccessKey: string }): S3Client {
  const root = () => {
    const minio = readEnvFile(path.join(CLUSTER_DIR, 'minio-credentials.env'));
    return { accessKeyId: minio.MINIO_ROOT_USER, secretAccessKey: minio.MINIO_ROOT_PASSWORD };
  };
  return new S3Client({
    endpoint: env.S3_ENDPOINT, region: env.AWS_REGION, forcePathStyle: true,
    requestHandler: new NodeHttpHandler({ httpsAgent: { ca: fs.readFileSync(env.AWS_CA_BUNDLE) } }),
    credentials: credentials ?? root(),
  });
}

/** Every process in a cluster node's network namespace: the node's worker and anything it started. */
export async function nodePids(node: string): Promise<number[]> {
  const { code, out } = await run('ip', ['netns', 'pids', `swc-${node}`]);
  assert.equal(code, 0, out);
  return out.split(/\s+/).filter(Boolean).map(Number);
}

/**
 * Sends `signal` to every process of a cluster node; returns how many it reached. The list is read
 * again until it holds no process not yet signalled: one that exits between the listing and its
 * signal is passed over (CI's hung-node test failed on `kill ESRCH`), one started meanwhile is reached.
 */
export async function signalNode(node: string, signal: NodeJS.Signals): Promise<number> {
  const signalled = new Set<number>();
  for (let pids = await nodePids(node); pids.some((pid) => !signalled.has(pid)); pids = await nodePids(node)) {
    for (const pid of pids.filter((p) => !signalled.has(p))) {
      signalled.add(pid);
      try {
        process.kill(pid, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        signalled.delete(pid); // gone already; were it listed again, a new process has its pid
      }
    }
  }
  assert.ok(signalled.size > 0, `${node} has processes`);
  return signalled.size;
}

/**
 * Loses a cluster node: kill -9 of every process in it, then waits until they are gone; `cache:
 * 'deleted'` deletes its local cache too, as a replacement machine's empty disk. Returns how many
 * processes there were.
 */
export async function killNode(node: string, { cache }: { cache: 'kept' | 'deleted' }): Promise<number> {
  const killed = await signalNode(node, 'SIGKILL');
  await waitFor(`${node}'s processes to be gone`, async () => (await nodePids(node)).length === 0, 30_000);
  if (cache === 'deleted') fs.rmSync(path.join(CLUSTER_DIR, 'nodes', node, 'cache'), { recursive: true, force: true });
  return killed;
}

/** Runs `ip <args>` on the host, or in `node`'s network namespace; throws with its output when it fails. */
export async function ipRun(args: string[], node?: string): Promise<void> {
  const { code, out } = await run('ip', node ? ['netns', 'exec', `swc-${node}`, 'ip', ...args] : args);
  assert.equal(code, 0, `ip ${args.join(' ')}: ${out}`);
}

/**
 * Cuts a node off from MinIO (at `s3Endpoint`) and nothing else: in its network namespace, a policy rule
 * sends TCP to S3's address and port through a route via an address nobody has, so its packets go nowhere
 * (no reset, no error: connections hang, as on a broken route) while Temporal, on the same host, is reached
 * as before. (No iptables here, and tc has no drop action on this kernel.)
 */
export async function routeS3Nowhere(node: string, s3Endpoint: string): Promise<{ restore(): Promise<void> }> {
  const url = new URL(s3Endpoint);
  const [host, port] = [url.hostname, url.port || (url.protocol === 'https:' ? '443' : '80')];
  const nowhere = `${host.split('.').slice(0, 3).join('.')}.254`;
  const table = '90';
  const ip = (...args: string[]) => ipRun(args, node);
  await ip('route', 'add', `${host}/32`, 'via', nowhere, 'dev', 'eth0', 'table', table);
  await ip('rule', 'add', 'to', host, 'ipproto', 'tcp', 'dport', port, 'table', table);
  return {
    restore: async () => {
      await ip('rule', 'del', 'to', host, 'ipproto', 'tcp', 'dport', port, 'table', table);
      await ip('route', 'flush', 'table', table);
    },
  };
}
