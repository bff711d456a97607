// The cluster profile, run like production on one machine: the Temporal server built from its Go
// module on PostgreSQL, MinIO erasure-coded over 4 drives, and worker nodes in network namespaces of
// their own (infra/cluster-up.sh, infra/nodes-up.sh), every connection to Temporal mutual TLS and to
// MinIO HTTPS, each node with a client certificate of its own (which reaches the frontend alone, not
// the services behind it) and MinIO keys of its own (the sweeps' bucket alone); a client without one,
// or with another CA's, is refused and told which setting to change. A node's credentials revoked while
// it trains are refused from then on, and its trial resumes elsewhere with identical results. A sweep completes on 3 GPU nodes and 1 CPU
// node; a sweep of 32 short trials trains on every GPU node; a redeploy (nodes of build B made current
// while a sweep runs on build A's nodes) keeps that sweep on A's nodes. A sweep completes again after
// the loss of a whole GPU node (kill -9 of its processes, its cache deleted) while it trains and while
// it extracts features (the shards equal an uninterrupted extraction's), of the CPU node (the
// workflows' worker) while trials train and while it ingests the data, a GPU node hung
// (SIGSTOP) past the heartbeat timeout, a GPU node cut off from MinIO by its network (it stops taking
// tasks, and takes them again once the route is back), kill -9 of the Temporal server, kill -9 of PostgreSQL and the
// loss of a MinIO drive, each mid-sweep, a rolling restart of the server's processes (a process per
// service, history two), and one history host lost for good, its shards taken by the other; after a node fault the leaderboard equals the uninterrupted
// run's bit for bit. The same spec then runs on a Temporal dev server (a private
// stack) for comparison. Prints the figures docs/deploy.md reports (lines starting "[figure]").
//
// Opt-in (root, ip netns, PostgreSQL, infra/setup-cluster.sh):  SWEEP_CLUSTER_TESTS=1 npm run test:cluster
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client, WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { generateFlowerDataset } from '../../demo/generate-flowers';
import { artifactKeys } from '../../lib/artifact-keys';
import type { Leaderboard, TrainResult, TrialSummary } from '../../lib/sweep-types';
import { REPO_ROOT, readEnvFile } from '../../platform/config';
import { queuePollers } from '../../platform/temporal-connection';
import { suggestWorkerMissing } from '../../workers/suggest-worker';
import { tinyFlowerDataset, tinySpec, uniqueId } from './harness';
import { bucketReader } from './bucket-reader';
import {
  CLUSTER_DIR, Queues, TEMPORAL_PROCESSES, clusterEnv, clusterS3, infraRun, infraWith, ipRun, killNode, nodePids, operatorClient, productOnTheHost, routeS3Nowhere, run, signalNode, waitFor,
} from './cluster-profile';
import { Figures, metricsOf, trialIdOf } from './fault-figures';
import { seconds } from '../waiting';
import { PrivateStack, WorkerProcess, startPrivateStack } from './private-stack';
import { metricSum, suggestionsCounted } from './prometheus-text';
import type { SweepStore } from './search-runs';

const ENABLED = process.env.SWEEP_CLUSTER_TESTS === '1';
const SKIP = ENABLED ? false : 'cluster profile test: opt in with SWEEP_CLUSTER_TESTS=1 (root, ip netns, PostgreSQL, infra/setup-cluster.sh)';

const GPU_NODES = 3;
const CPU_NODES = 1;
const PREFIX = 'it';
const GPU_NODE_NAMES = Array.from({ length: GPU_NODES }, (_, i) => `${PREFIX}gpu${i + 1}`);
const NODES = [...GPU_NODE_NAMES, ...Array.from({ length: CPU_NODES }, (_, i) => `${PREFIX}cpu${i + 1}`)];
const NODES_UP = ['--gpu', String(GPU_NODES), '--cpu', String(CPU_NODES), '--prefix', PREFIX];
const SUGGEST_QUEUE = `cluster-it-suggest-${process.pid}`;
const queues: Queues = { cpuQueue: `cluster-it-cpu-${process.pid}`, gpuQueue: `cluster-it-gpu-${process.pid}`, suggestQueue: SUGGEST_QUEUE };
/** Epochs per trial: long enough (a few seconds) that a fault lands while trials train. */
const EPOCHS = 60;
const TRIALS = 4;
/** The spread test's sweep: many short trials (2 epochs), so a node that takes no work shows. */
const MANY_TRIALS = 32;
const MANY_GRID = { hidden_units: [8, 16, 24, 32], dropout: [0.2, 0.3, 0.4, 0.5], num_classes: [4], lr: [0.01, 0.03], batch_size: [8], n_epochs: [2] };
/** Short, so a lost or hung node's trial is retried elsewhere soon; long enough for heartbeats from loaded cores. */
const HEARTBEAT_TIMEOUT_S = 10;
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

let client: Client;
let s3: S3Client;
let bucket: string;
let stackEnv: Record<string, string>;
const figures = new Figures();
const figure = (text: string) => figures.add(text);

/** A stack the sweeps run on (the cluster, or the dev server they are compared with), what they stored, and its nodes. */
interface Target extends SweepStore {
  queues: Queues;
  /** The node a live worker identity ("pid@host") belongs to, if it is a GPU node's. */
  nodeOf(identity: string): string | undefined;
}
let cluster: Target;

const infra = (script: string, ...args: string[]) => infraWith(queues, {}, script, ...args);

/** A node's client certificate and key, as nodes-up.sh issues them. */
function nodeCertificate(node: string): { cert: string; key: string } {
  const dir = path.join(CLUSTER_DIR, 'nodes', node, 'tls');
  return { cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key') };
}

/** A node's own MinIO keys, as nodes-up.sh writes them: its credentials file and what it holds. */
function nodeS3Keys(node: string): { file: string; accessKeyId: string; secretAccessKey: string } {
  const file = path.join(CLUSTER_DIR, 'nodes', node, 'aws-credentials');
  const text = fs.readFileSync(file, 'utf8');
  const value = (name: string) => text.match(new RegExp(`^${name} = (\\S+)$`, 'm'))?.[1] ?? assert.fail(`${name} in ${file}`);
  return { file, accessKeyId: value('aws_access_key_id'), secretAccessKey: value('aws_secret_access_key') };
}

/** Where each of the Temporal server's processes has its gRPC port listen ("ip:port"), from the configs cluster-up.sh started them with. */
function serverProcessAddresses(): Map<string, string> {
  const addressOf = (config: string, service: string) => {
    const match = fs.readFileSync(path.join(CLUSTER_DIR, 'config', config), 'utf8')
      .match(new RegExp(`^  ${service}:\\n    rpc: \\{ grpcPort: (\\d+), membershipPort: \\d+, bindOnIP: "([^"]+)"`, 'm'));
    assert.ok(match, `${service}'s grpcPort and bindOnIP in ${config}`);
    return `${match[2]}:${match[1]}`;
  };
  return new Map(TEMPORAL_PROCESSES.map((name) =>
    [name, name.endsWith('-b') ? addressOf(`temporal-${name}.yaml`, name.slice(0, -2)) : addressOf('temporal.yaml', name)]));
}

/** The host's loopback, where the servers listen for each other (and the operator): every port but the nodes' two. */
const internalHost = () => serverProcessAddresses().get('history')!.replace(/:\d+$/, '');

/**
 * What the Temporal process at `address` answers a gRPC health check from a client presenting `credentials`
 * (either CA's servers trusted): `grpc-status N`, or the connection's error.
 */
function healthCheckAnswer(address: string, credentials: { cert: string; key: string }): Promise<string> {
  return new Promise((resolve) => {
    const session = http2.connect(`https://${address}`, {
      ca: [fs.readFileSync(stackEnv.TEMPORAL_TLS_SERVER_CA_CERT_PATH), fs.readFileSync(path.join(CLUSTER_DIR, 'tls', 'internode-ca.pem'))],
      cert: fs.readFileSync(credentials.cert), key: fs.readFileSync(credentials.key), servername: stackEnv.TEMPORAL_TLS_SERVER_NAME,
    });
    const answer = (text: string) => { session.destroy(); resolve(text); };
    const failed = (error: NodeJS.ErrnoException) => answer(`error: ${error.code ?? error.message}`);
    session.on('error', failed);
    const call = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
    call.on('error', failed);
    // A trailers-only answer carries its status in the headers.
    call.on('response', (headers) => { if (headers['grpc-status'] !== undefined) answer(`grpc-status ${headers['grpc-status']}`); });
    call.on('trailers', (trailers) => answer(`grpc-status ${trailers['grpc-status']}`));
    call.resume();
    call.end(Buffer.alloc(5)); // one empty request message: no compression, length 0
    setTimeout(() => answer('no answer within 10 s'), 10_000).unref();
  });
}

/** A copy of what a node holds (its certificate and key, its MinIO keys), as a stolen or retired machine would. */
interface HeldCredentials { cert: string; key: string; s3: { accessKeyId: string; secretAccessKey: string }; serial: string }

/** Copies `node`'s credentials into `dir`: revoking or purging the node deletes the host's copies. */
function holdCredentials(node: string, dir: string): HeldCredentials {
  const { cert, key } = nodeCertificate(node);
  const held = { cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client.key'), s3: nodeS3Keys(node), serial: new X509Certificate(fs.readFileSync(cert)).serialNumber };
  fs.copyFileSync(cert, held.cert);
  fs.copyFileSync(key, held.key);
  return held;
}

/** Temporal refuses the held certificate (and logs it, by the node's name and serial) and MinIO the held keys; returns the frontends' refusals of it so far. */
async function assertRefused(node: string, held: HeldCredentials): Promise<number> {
  const refused = await temporalCliRun(['workflow', 'list', '--namespace', stackEnv.TEMPORAL_NAMESPACE, '--limit', '1'], held);
  assert.notEqual(refused.code, 0, refused.out);
  assert.match(refused.out, /Request unauthorized/);
  // Either frontend may have taken the call: the kernel hands each connection to one of them.
  const frontendLogs = TEMPORAL_PROCESSES.filter((name) => name.startsWith('frontend'))
    .map((name) => fs.readFileSync(path.join(CLUSTER_DIR, 'logs', `temporal-${name}.log`), 'utf8')).join('\n');
  const refusals = frontendLogs.split('\n').filter((line) => line.includes(`client certificate of ${node} (serial ${held.serial.toLowerCase().replace(/^0+/, '')}) is revoked`)).length;
  assert.ok(refusals > 0, `a frontend logged refusing ${node}'s certificate`);
  const s3Error = await clusterS3(stackEnv, held.s3).send(new GetObjectCommand({ Bucket: bucket, Key: 'none' })).then(() => undefined, (e: Error) => e);
  assert.equal(s3Error?.name, 'InvalidAccessKeyId', `MinIO refuses ${node}'s keys: ${s3Error?.message}`);
  return refusals;
}

/** What sweepLosingAServerHost saw. */
interface HostLoss { victim: string; owned: number; of: number; after: Map<unknown, string>; afterKillMs: number; sweepMs: number }

/**
 * Kills (kill -9) the host of `service` owning the most of what `owners` maps (history shards, task queue partitions)
 * while a sweep trains, and leaves it down: the sweep completes, identical to the uninterrupted run, and the other host
 * comes to own everything. The host is started again after (cluster-up.sh).
 */
async function sweepLosingAServerHost(service: 'history' | 'matching', owners: () => Promise<Map<unknown, string>>): Promise<HostLoss> {
  const before = await owners();
  const counts = countsOf(before.values());
  const [busiest, owned] = [...counts].sort((a, b) => b[1] - a[1])[0];
  const second = `${service}-b`;
  const victim = busiest.endsWith(`:${serverProcessAddresses().get(second)!.split(':')[1]}`) ? second : service;
  const began = Date.now();
  const sweep = await startSweep(`cluster-${service}-loss`);
  await trainingNow(sweep);
  const killedAt = Date.now();
  await infra('cluster-down.sh', `temporal-${victim}`, '--kill');
  const run = await outcome(cluster, await assertCompleted(sweep, `after a ${service} host was lost`));
  const finishedAt = Date.now();
  assertSameAsReference(run, `after a ${service} host was lost`);
  const after = await waitFor(`one ${service} host to own everything`, async () => { const o = await owners(); return new Set(o.values()).size === 1 && o; }, 60_000, 1000);
  assert.ok(![...after.values()].includes(busiest), 'not the lost one');
  await infra('cluster-up.sh', 'temporal', '--no-setup');
  return { victim, owned, of: before.size, after, afterKillMs: finishedAt - killedAt, sweepMs: finishedAt - began };
}

const describeHostLoss = (loss: HostLoss, what: string) =>
  `temporal-${loss.victim} (owning ${loss.owned} of ${loss.of} ${what}) killed mid-training and left down: sweep completed ${seconds(loss.afterKillMs)} after the kill ` +
  `(${seconds(loss.sweepMs)} in all), identical to the uninterrupted run; then ${describeNodes(countsOf(loss.after.values()))}`;

/** The matching host owning each partition of the sweeps' CPU and GPU queues (workflow and activity partitions alike). */
async function partitionOwners(): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const name of [queues.cpuQueue, queues.gpuQueue]) {
    const answer = await client.workflowService.listTaskQueuePartitions({ namespace: stackEnv.TEMPORAL_NAMESPACE, taskQueue: { name } });
    for (const [kind, partitions] of [['workflow', answer.workflowTaskQueuePartitions], ['activity', answer.activityTaskQueuePartitions]] as const) {
      for (const partition of partitions ?? []) owners.set(`${name} ${kind} ${partition.key}`, partition.ownerHostName ?? '');
    }
  }
  return owners;
}

/** Connections clients hold at the frontends' shared address (TEMPORAL_ADDRESS), per frontend process. */
async function clientsPerFrontend(): Promise<Map<string, number>> {
  const servers = serverPids();
  const { code, out } = await run('ss', ['-Htnp', 'state', 'established']);
  assert.equal(code, 0, out);
  const counts = new Map<string, number>();
  for (const line of out.trim().split('\n')) {
    const [local] = line.trim().split(/\s+/).slice(2);
    const name = servers.get(Number(line.match(/pid=(\d+)/)?.[1]));
    if (local === stackEnv.TEMPORAL_ADDRESS && name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** The cluster's servers' processes (their pid files in run/, the nodes' aside): pid -> name. */
function serverPids(): Map<number, string> {
  const runDir = path.join(CLUSTER_DIR, 'run');
  const pids = new Map<number, string>();
  for (const file of fs.readdirSync(runDir).filter((f) => f.endsWith('.pid') && !f.startsWith('node-'))) {
    const pid = Number(fs.readFileSync(path.join(runDir, file), 'utf8').trim());
    if (fs.existsSync(`/proc/${pid}`)) pids.set(pid, file.replace(/\.pid$/, ''));
  }
  return pids;
}

/** The host's listening TCP sockets (ss), with the process holding each: address "*" is every address. */
async function listeningSockets(): Promise<{ address: string; port: number; pid: number }[]> {
  const { code, out } = await run('ss', ['-Hltnp']);
  assert.equal(code, 0, out);
  return out.trim().split('\n').flatMap((line) => {
    const local = line.trim().split(/\s+/)[3];
    const at = local.lastIndexOf(':');
    return [...line.matchAll(/pid=(\d+)/g)].map(([, pid]) =>
      ({ address: local.slice(0, at).replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, ''), port: Number(local.slice(at + 1)), pid: Number(pid) }));
  });
}

/** Which of `targets` ("ip:port") a TCP connection from the node's network namespace reaches (2 s each at most). */
async function reachableFrom(node: string, targets: string[]): Promise<string[]> {
  const script = 'for t in "$@"; do timeout 2 bash -c "exec 3<>/dev/tcp/${t%:*}/${t##*:}" 2>/dev/null && echo "$t"; done; true';
  const { code, out } = await run('ip', ['netns', 'exec', `swc-${node}`, 'bash', '-c', script, 'reach', ...targets]);
  assert.equal(code, 0, out);
  return out.trim().split('\n').filter(Boolean);
}

/** The cluster's temporal CLI against its frontend, presenting `node`'s client certificate, or these files (by default the operator's). */
function temporalCliRun(args: string[], node?: string | { cert: string; key: string }): Promise<{ code: number | null; out: string }> {
  const { cert, key } = typeof node === 'string' ? nodeCertificate(node) : node ?? { cert: stackEnv.TEMPORAL_TLS_CLIENT_CERT_PATH, key: stackEnv.TEMPORAL_TLS_CLIENT_KEY_PATH };
  return run(path.join(CLUSTER_DIR, 'bin', 'temporal'), [
    ...args, '--address', stackEnv.TEMPORAL_ADDRESS, '--disable-config-file', '--disable-config-env', '--tls-ca-path', stackEnv.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
    '--tls-cert-path', cert, '--tls-key-path', key, '--tls-server-name', stackEnv.TEMPORAL_TLS_SERVER_NAME,
  ]);
}

/** The cluster's temporal CLI as the operator; throws with its output when it fails. */
async function temporalCli(...args: string[]): Promise<string> {
  const { code, out } = await temporalCliRun(args);
  if (code !== 0) throw new Error(`temporal ${args.join(' ')} failed (exit ${code}):\n${out}`);
  return out;
}

/** psql against the cluster's PostgreSQL, over TLS with its certificate verified (`sslmode` another to try one). */
function psqlRun(db: string, sql: string, sslmode = 'verify-full'): Promise<{ code: number | null; out: string }> {
  const password = fs.readFileSync(path.join(CLUSTER_DIR, 'postgres-password'), 'utf8').trim();
  const pgBin = path.dirname(fs.realpathSync(path.join(CLUSTER_DIR, 'bin', 'postgres')));
  const port = process.env.CLUSTER_PG_PORT ?? '5433';
  const tls = { PGSSLMODE: sslmode, PGSSLROOTCERT: stackEnv.TEMPORAL_TLS_SERVER_CA_CERT_PATH };
  return run(path.join(pgBin, 'psql'), ['-h', internalHost(), '-p', port, '-U', 'temporal', '-d', db, '-tAq', '-c', sql], { ...process.env, PGPASSWORD: password, ...tls });
}

const psql = (db: string, sql: string) => psqlRun(db, sql).then(({ code, out }) => { assert.equal(code, 0, out); return out.trim(); });

/** Each history shard's owner (its history host's address), from the shards table (the owner is a string in the row's blob). */
async function shardOwners(): Promise<Map<number, string>> {
  const host = internalHost().replace(/\./g, '\\.');
  const rows = await psql('temporal', `SELECT shard_id, substring(encode(data, 'escape') from '${host}:\\d+') FROM shards ORDER BY shard_id`);
  return new Map(rows.split('\n').map((row) => row.split('|')).map(([shard, owner]) => [Number(shard), owner]));
}
const describeOwners = (owners: Map<number, string>) => describeNodes(countsOf(owners.values()));

/** Every sweep of this file: the same trials (trial ids are content ids, not per sweep), retrained (reuse off). */
async function spec(name: string, on = queues, overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
  return tinySpec(on, {
    name,
    reuse: false,
    heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_S,
    // Every epoch: the node tests kill and hang nodes right after a checkpoint they have seen.
    checkpointEverySeconds: 0,
    concurrency: GPU_NODES,
    grid: { hidden_units: [16, 32], dropout: [0.3, 0.5], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [EPOCHS] },
    ...overrides,
  });
}

async function startSweep(prefix: string, target = cluster, overrides: Record<string, unknown> = {}): Promise<WorkflowHandle> {
  return target.client.workflow.start('sweepWorkflow', {
    taskQueue: target.queues.cpuQueue, workflowId: uniqueId(prefix), args: [await spec(prefix, target.queues, overrides)], workflowExecutionTimeout: '15m',
  });
}

/** Trial workflows of the sweep that have completed, from its history (needs no visibility). */
async function trialsDone(sweep: WorkflowHandle): Promise<number> {
  const events = (await sweep.fetchHistory()).events ?? [];
  return events.filter((e) => e.childWorkflowExecutionCompletedEventAttributes?.workflowType?.name === 'trialWorkflow').length;
}

/** Waits until some trial of the sweep is training (its trainTrial activity has started). */
async function trainingNow(sweep: WorkflowHandle): Promise<void> {
  await waitFor('a trial in training', async () => {
    for (const child of (await sweep.describe()).raw.pendingChildren ?? []) {
      const pending = (await client.workflow.getHandle(child.workflowId!).describe()).raw.pendingActivities ?? [];
      if (pending.some((a) => a.activityType?.name === 'trainTrial' && a.lastStartedTime)) return true;
    }
    return false;
  }, 300_000, 500);
}

/** Epochs this sweep's attempts have checkpointed for a trial (0 before the first). */
async function checkpointedEpochs(target: Target, trialId: string, sweepId: string): Promise<number> {
  const pointer = await target.getJson<{ sweepId: string; epoch: number }>(artifactKeys.trialCheckpoint(trialId));
  return pointer?.sweepId === sweepId ? pointer.epoch : 0;
}

/** The trial workflow's trainTrial attempt that is running now, and on which node. */
async function runningAttempt(target: Target, trialWorkflowId: string): Promise<{ node?: string; attempt: number } | undefined> {
  const pending = (await target.client.workflow.getHandle(trialWorkflowId).describe()).raw.pendingActivities ?? [];
  const attempt = pending.find((a) => a.activityType?.name === 'trainTrial' && a.state === STARTED);
  return attempt && { node: target.nodeOf(attempt.lastWorkerIdentity ?? ''), attempt: attempt.attempt ?? 1 };
}

/** When a node's worker last began polling the GPU queue (it polls only while it has a free slot). */
async function lastPolled(target: Target, node: string): Promise<number | undefined> {
  const poller = (await queuePollers(target.client, target.queues.gpuQueue)).find((p) => target.nodeOf(p.identity ?? '') === node);
  return poller?.lastAccessTime ? tsToMs(poller.lastAccessTime) : undefined;
}

interface Training { node: string; trialId: string; workflowId: string; attempt: number }

/**
 * A trial of the sweep mid-training on a GPU node: at least 2 and at most half of its epochs
 * checkpointed, so a fault to that node now lands while it trains, with progress to resume from.
 */
async function trainingOnNode(target: Target, sweep: WorkflowHandle): Promise<Training> {
  // The trials are probed at once: on a quiet machine a trial passes the window in a second or two.
  const probe = async (workflowId: string): Promise<Training | undefined> => {
    const running = await runningAttempt(target, workflowId);
    if (!running?.node) return undefined;
    const trialId = await trialIdOf(target.client.workflow.getHandle(workflowId));
    const epoch = await checkpointedEpochs(target, trialId, sweep.workflowId);
    return epoch >= 2 && epoch <= EPOCHS / 2 ? { node: running.node, attempt: running.attempt, trialId, workflowId } : undefined;
  };
  return waitFor(`a trial with 2-${EPOCHS / 2} of ${EPOCHS} epochs checkpointed, training on a GPU node`, async () => {
    const children = (await sweep.describe()).raw.pendingChildren ?? [];
    return (await Promise.all(children.map((c) => probe(c.workflowId!).catch(() => undefined)))).find(Boolean);
  }, 300_000);
}

/**
 * Waits for the retry of a trial whose node was lost (it must run on another node), then for the
 * retry's first epoch past `lostAt`, the last checkpoint the lost node wrote.
 */
async function resumedElsewhere(target: Target, sweep: WorkflowHandle, lost: Training, lostAt: number): Promise<{ node: string; startedAt: number; resumedAt: number }> {
  const retry = await waitFor(`trial ${lost.trialId}'s retry to start`, async () => {
    const running = await runningAttempt(target, lost.workflowId);
    return running && running.attempt > lost.attempt ? { ...running, startedAt: Date.now() } : undefined;
  }, 300_000);
  assert.ok(retry.node && retry.node !== lost.node, `the retry runs on another GPU node, not ${retry.node ?? 'an unknown worker'}`);
  const resumedAt = await waitFor(`trial ${lost.trialId}'s first epoch after ${lostAt} on ${retry.node}`,
    async () => (await checkpointedEpochs(target, lost.trialId, sweep.workflowId)) > lostAt && Date.now(), 300_000);
  return { node: retry.node, startedAt: retry.startedAt, resumedAt };
}

/** What a node's log says from now on (its worker's output, as nodes-up.sh writes it). */
function nodeLogFromNow(node: string): () => string {
  const log = path.join(CLUSTER_DIR, 'logs', `node-${node}.log`);
  const from = fs.statSync(log).size;
  return () => fs.readFileSync(log).subarray(from).toString('utf8');
}




/** The cluster node whose worker has this identity ("pid@host"; the nodes' pids are in run/node-<node>.pid). */
function clusterNodeOf(identity: string): string | undefined {
  const pid = identity.split('@')[0];
  return GPU_NODE_NAMES.find((node) => {
    try {
      return fs.readFileSync(path.join(CLUSTER_DIR, 'run', `node-${node}.pid`), 'utf8').trim() === pid;
    } catch {
      return false; // not running
    }
  });
}


/** Epochs a GPU node's worker has trained, by its metrics for Prometheus (nodes-up.sh serves them at the node's address, port 9464). */
async function epochsTrainedOn(node: string): Promise<number> {
  return metricSum(await nodeMetrics(node), 'sweep_epochs_trained_total');
}

/** A node's `sweep_s3_reachable` gauge, by its metrics: 1 while it reaches S3. */
async function s3ReachableOn(node: string): Promise<number | undefined> {
  const found = /^sweep_s3_reachable\{[^}]*\} (\d+)$/m.exec(await nodeMetrics(node));
  return found ? Number(found[1]) : undefined;
}

/** A node's metrics for Prometheus, scraped from the host at the node's address (nodes-up.sh: port 9464; a CPU node's suggest worker 9465). */
async function nodeMetrics(node: string, port = 9464): Promise<string> {
  const address = fs.readFileSync(path.join(CLUSTER_DIR, 'nodes', node, 'address'), 'utf8').trim();
  return (await fetch(`http://${address}:${port}/metrics`)).text();
}

/** The suggestions a CPU node's Python suggest worker has made, by its metrics. */
async function suggestionsBy(node: string): Promise<number> {
  return suggestionsCounted(await nodeMetrics(node, 9465), node);
}

/**
 * Runs `body` with a flower data set of its own, as a spec's overrides: a new seed each run, so this
 * run is the first to ingest it and extract its features. Its files are removed after.
 */
async function withFreshDataset(prefix: string, body: (overrides: Record<string, unknown>) => Promise<void>): Promise<void> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  try {
    await generateFlowerDataset({ outDir: data, scale: 0.25, width: 80, height: 60, seed: Date.now() % 1_000_000 });
    await body({ data: { source: data, classes: ['daisy', 'rose', 'sunflower', 'tulip'] }, balance: { perClass: 150 } });
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
}

interface RunningStep { node: string; activityId: string }

/** Waits until one of the sweep's own `type` steps runs on a node (`nodeOf` its worker's identity). */
function stepStarted(sweep: WorkflowHandle, type: string, nodeOf: (identity: string) => string | undefined): Promise<RunningStep> {
  return waitFor(`a node running ${type}`, async () => {
    for (const activity of (await sweep.describe()).raw.pendingActivities ?? []) {
      const node = activity.activityType?.name === type && activity.state === STARTED ? nodeOf(activity.lastWorkerIdentity ?? '') : undefined;
      if (node) return { node, activityId: activity.activityId! };
    }
    return undefined;
  }, 120_000, 100);
}

/** Stops (SIGSTOP) the node that runs `step` and checks the step had not finished: a kill now lands mid-step. */
async function stopMidStep(sweep: WorkflowHandle, step: RunningStep): Promise<void> {
  await signalNode(step.node, 'SIGSTOP');
  const stillRunning = (await sweep.describe()).raw.pendingActivities?.some((a) => a.activityId === step.activityId && a.state === STARTED);
  assert.ok(stillRunning, `the step on ${step.node} had not finished when its node stopped`);
}

/** Whether any activity of the sweep started a second attempt. */
async function anyStepRetried(sweep: WorkflowHandle): Promise<boolean> {
  return ((await sweep.fetchHistory()).events ?? []).some((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 0) > 1);
}

interface NodeLoss {
  lost: Training;
  /** The last epoch the lost node checkpointed. */
  atKill: number;
  killedAt: number;
  resumed: { node: string; startedAt: number; resumedAt: number };
  run: SweepOutcome;
  ms: number;
}

/**
 * Runs a sweep and, while one of its trials trains on a GPU node, `kill`s that node (its processes
 * gone and its cache deleted when `kill` returns). The trial must resume on another node from the
 * last checkpoint the lost node wrote, and the sweep's results equal the uninterrupted run's.
 */
async function sweepLosingANode(target: Target, prefix: string, kill: (node: string) => Promise<void>): Promise<NodeLoss> {
  const began = Date.now();
  const sweep = await startSweep(prefix, target);
  const lost = await trainingOnNode(target, sweep);
  const killedAt = Date.now();
  await kill(lost.node);
  // Nothing of the node writes any more: this is the last checkpoint it left.
  const atKill = await checkpointedEpochs(target, lost.trialId, sweep.workflowId);
  assert.ok(atKill >= 2 && atKill < EPOCHS, `killed mid-training (after epoch ${atKill} of ${EPOCHS})`);
  const resumed = await resumedElsewhere(target, sweep, lost, atKill);
  const run = await outcome(target, await assertCompleted(sweep, `${prefix}: after losing ${lost.node}`));
  const trial = run.board.ranked.find((t) => t.trialId === lost.trialId)!;
  assert.equal(trial.resumedFromEpoch, atKill, 'the trial resumed from the last checkpoint the lost node wrote, not from epoch 0');
  assert.equal(trial.node, resumed.node, 'the trial records the node that finished it');
  assertSameAsReference(run, `${prefix}: after losing ${lost.node}`);
  return { lost, atKill, killedAt, resumed, run, ms: Date.now() - began };
}

/**
 * Runs the spread sweep (MANY_TRIALS short trials) and checks that every one of `gpuNodes` trained
 * some of them, by the node each trial records; returns the figure's text.
 */
async function spreadSweep(target: Target, prefix: string, gpuNodes: string[]): Promise<string> {
  const began = Date.now();
  // Twice as many trials in flight as GPU slots: a node that frees its slot finds work waiting.
  const sweep = await startSweep(prefix, target, { grid: MANY_GRID, concurrency: 2 * gpuNodes.length });
  const board = await assertCompleted(sweep, `${prefix}: the spread sweep`, MANY_TRIALS);
  const ms = Date.now() - began;
  const nodes = nodesOf(await outcome(target, board));
  assert.equal(new Set(board.ranked.map((t) => t.trialId)).size, MANY_TRIALS, `${MANY_TRIALS} distinct trials`);
  assert.deepEqual([...nodes.keys()].sort(), [...gpuNodes].sort(), `${prefix}: every GPU node trained trials, and only they did: ${describeNodes(nodes)}`);
  return `spread sweep (${MANY_TRIALS} trials x 2 epochs, concurrency ${2 * gpuNodes.length}, ${gpuNodes.length} GPU nodes of 1 slot): ${seconds(ms)}, ` +
    `${trialsPerMinute(ms, MANY_TRIALS)}; trials per node (result.json = leaderboard): ${describeNodes(nodes)}`;
}

const describeLoss = ({ killedAt, resumed, run, ms }: NodeLoss) =>
  `retry started on ${resumed.node} ${seconds(resumed.startedAt - killedAt)} after the kill (heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s), ` +
  `first resumed epoch checkpointed ${seconds(resumed.resumedAt - killedAt)} after the kill; sweep ${seconds(ms)} (${trialsPerMinute(ms)}), ` +
  `trials' nodes ${describeNodes(nodesOf(run))}; leaderboard, per-epoch metrics and head weights identical to the uninterrupted run`;

async function assertCompleted(sweep: WorkflowHandle, what: string, trials = TRIALS): Promise<Leaderboard> {
  const board = await sweep.result() as Leaderboard;
  assert.equal(board.status, 'completed', what);
  assert.deepEqual(board.failed, [], `${what}: no trial failed`);
  assert.equal(board.ranked.length, trials, `${what}: all ${trials} trials ranked`);
  return board;
}

interface SweepOutcome {
  board: Leaderboard;
  /** Each ranked trial's result.json and head weights. */
  trials: Map<string, { result: TrainResult; head: Buffer }>;
}

/** The results of a sweep, read before the next sweep of the same trials rewrites them. */
async function outcome(target: Target, board: Leaderboard): Promise<SweepOutcome> {
  const trials = new Map<string, { result: TrainResult; head: Buffer }>();
  for (const { trialId } of board.ranked) {
    const result = (await target.getJson<TrainResult>(artifactKeys.trialResult(trialId)))!;
    trials.set(trialId, { result, head: await target.getBytes(result.headKey) });
  }
  return { board, trials };
}

/** Which node finished each trial, from the `node` each trial records (result.json, the leaderboard). */
function nodesOf(run: SweepOutcome): Map<string, number> {
  for (const trial of run.board.ranked) {
    assert.equal(run.trials.get(trial.trialId)!.result.node, trial.node, `trial ${trial.trialId}: the same node in result.json and the leaderboard`);
  }
  return countsOf(run.board.ranked.map((trial) => trial.node!));
}
/** How many times each value occurs, in order of first occurrence. */
function countsOf(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
const describeNodes = (counts: Map<string, number>) => [...counts].map(([n, c]) => `${n} x${c}`).join(', ');
const trialsPerMinute = (ms: number, trials = TRIALS) => `${(trials / (ms / 60_000)).toFixed(1)} trials/min`;

/** The uninterrupted run of the spec on the cluster (reuse off), which every faulted run must equal. */
let reference: SweepOutcome;
/** Its wall time (ms). */
let referenceMs: number;

/**
 * Epochs per trial for a sweep of the reference's shape (TRIALS trials, concurrency GPU_NODES) that
 * takes about `seconds`, by the reference's wall time. (Not by its trials' own epoch times: three
 * trials at once on 2 cores, each with its checkpoints, ran 5 times slower than those said.)
 */
function epochsForASweepOf(seconds: number): number {
  return Math.max(EPOCHS, Math.ceil((EPOCHS * seconds * 1000) / referenceMs / 100) * 100);
}

/** Where a trial ran and where it resumed from may differ between runs; nothing else may. */
const withoutPlacement = ({ node: _n, resumedFromEpoch: _r, ...rest }: TrialSummary) => rest;

function assertSameAsReference(run: SweepOutcome, what: string, uninterrupted = reference): void {
  const reference = uninterrupted;
  assert.ok(reference, 'the uninterrupted reference sweep ran first');
  assert.deepEqual(run.board.ranked.map(withoutPlacement), reference.board.ranked.map(withoutPlacement), `${what}: the leaderboard (order, metrics, test scores) equals the uninterrupted run's`);
  for (const [trialId, expected] of reference.trials) {
    const got = run.trials.get(trialId)!;
    assert.deepEqual(metricsOf(got.result.epochs), metricsOf(expected.result.epochs), `${what}: trial ${trialId}'s per-epoch metrics equal the uninterrupted run's`);
    assert.ok(got.head.equals(expected.head), `${what}: trial ${trialId}'s head weights equal the uninterrupted run's, bit for bit`);
  }
}

/**
 * Runs a sweep and, while its trials train, kills `server` (kill -9 of every process of it) and starts
 * it again 2 s later: a trial must complete after the restart, and the sweep with every trial.
 * Times are from the kill: until the restart script returned (the server answers), until a trial completed.
 */
async function sweepThroughAServerKill(prefix: string, server: 'temporal' | 'postgres') {
  const began = Date.now();
  const sweep = await startSweep(prefix);
  await trainingNow(sweep);
  const doneBefore = await trialsDone(sweep);
  const killedAt = Date.now();
  await infra('cluster-down.sh', server, '--kill');
  await sleep(2000);
  const restartMs = await infra('cluster-up.sh', server, '--no-setup');
  const answeringMs = Date.now() - killedAt;
  const progressed = await waitFor('a trial to complete after the restart', async () => (await trialsDone(sweep)) > doneBefore && Date.now(), 300_000, 500);
  await assertCompleted(sweep, `after a ${server} kill -9`);
  return { doneBefore, restartMs, answeringMs, progressedMs: progressed - killedAt, sweepMs: Date.now() - began };
}

interface Listed { etag: string; modified: number }

/** Every object in the bucket (under `prefix`) with its ETag (the MD5 of the content for single-part uploads). */
async function listObjects(prefix?: string): Promise<Map<string, Listed>> {
  const objects = new Map<string, Listed>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) objects.set(o.Key!, { etag: o.ETag!, modified: o.LastModified!.getTime() });
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}

/** Reads every object back (MinIO checks each shard's bitrot hash on read); returns the bytes read. */
async function readAll(objects: Map<string, Listed>): Promise<number> {
  let bytes = 0;
  const queue = [...objects];
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let next = queue.pop(); next; next = queue.pop()) {
      const [key, { etag }] = next;
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      bytes += (await response.Body!.transformToByteArray()).length;
      assert.equal(response.ETag, etag, `${key}: same ETag as listed`);
    }
  }));
  return bytes;
}

/** Training replaces its epoch checkpoints (the older weights files are deleted). */
const isCheckpointWeights = (key: string) => /\/checkpoint-epoch-\d+\.bin$/.test(key);

after(() => console.log(figures.summary()));

describe('cluster profile: real Temporal server on PostgreSQL, erasure-coded MinIO, nodes in network namespaces', { skip: SKIP }, () => {
  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the cluster test needs root (bridge, network namespaces, PostgreSQL as the postgres user)');
    await tinyFlowerDataset();
    const upMs = await infra('cluster-up.sh');
    figure(`cluster-up.sh (PostgreSQL + schemas, the Temporal server's 4 services, MinIO 4 drives; already-running parts kept): ${seconds(upMs)}`);
    stackEnv = clusterEnv();
    // As the operator: the cluster's CA, the operator's client certificate, MinIO's root user.
    client = await operatorClient(stackEnv);
    bucket = stackEnv.S3_BUCKET;
    s3 = clusterS3(stackEnv);
    cluster = { client, s3, bucket, ...bucketReader(s3, bucket), queues, nodeOf: clusterNodeOf };
    const nodesMs = await infra('nodes-up.sh', ...NODES_UP);
    figure(`nodes-up.sh --gpu ${GPU_NODES} --cpu ${CPU_NODES}: all workers polling after ${seconds(nodesMs)}`);
  });

  after(async () => {
    if (!ENABLED) return;
    await infra('nodes-down.sh', ...NODES, '--kill', '--purge').catch((e) => console.error(String(e)));
    await client?.connection.close();
    s3?.destroy();
    // The cluster itself stays up (it may be the user's); infra/cluster-down.sh stops it.
  });

  test('the server is the real one: temporal-server v1.32 on postgres12 persistence and visibility', async () => {
    const info = await client.connection.workflowService.getClusterInfo({});
    assert.equal(info.persistenceStore, 'postgres12');
    assert.equal(info.visibilityStore, 'postgres12');
    const system = await client.connection.workflowService.getSystemInfo({});
    assert.equal(system.serverVersion, '1.32.2');
    figure(`server: ${info.clusterName} ${system.serverVersion}, persistence ${info.persistenceStore}, visibility ${info.visibilityStore}`);
    // Its services are processes of their own (infra/cluster-up.sh), so each can restart alone; the
    // history shards are owned by both history hosts.
    const pids = TEMPORAL_PROCESSES.map((name) => Number(fs.readFileSync(path.join(CLUSTER_DIR, 'run', `temporal-${name}.pid`), 'utf8')));
    for (const [i, pid] of pids.entries()) assert.doesNotThrow(() => process.kill(pid, 0), `temporal-${TEMPORAL_PROCESSES[i]} runs (pid ${pid})`);
    assert.equal(new Set(pids).size, TEMPORAL_PROCESSES.length, 'each in a process of its own');
    const owners = await waitFor('both history hosts to own shards', async () => { const o = await shardOwners(); return new Set(o.values()).size === 2 && o; }, 60_000, 1000);
    figure(`server: ${TEMPORAL_PROCESSES.length} processes; history shards by owner: ${describeOwners(owners)}`);
    // Each node is alone in its namespace: its only non-loopback address is its own on the bridge.
    for (const node of NODES) {
      const { out } = await run('ip', ['-n', `swc-${node}`, '-4', '-o', 'addr', 'show']);
      const addrs = [...out.matchAll(/inet (\S+)/g)].map((m) => m[1]).filter((a) => !a.startsWith('127.'));
      assert.equal(addrs.length, 1, `${node}: ${out}`);
      assert.ok(addrs[0].startsWith(stackEnv.TEMPORAL_ADDRESS.split(':')[0].replace(/\.1$/, '.')), `${node} has an address in the cluster /24: ${addrs[0]}`);
    }
  });

  test('TLS everywhere: every node has a certificate of its own from the cluster\'s CA; a client without one, or with another CA\'s, is refused and told which setting to change; MinIO speaks HTTPS only, PostgreSQL TLS only', async () => {
    const ca = new X509Certificate(fs.readFileSync(stackEnv.TEMPORAL_TLS_SERVER_CA_CERT_PATH));
    for (const node of NODES) {
      const certificate = new X509Certificate(fs.readFileSync(nodeCertificate(node).cert));
      assert.match(certificate.subject, new RegExp(`CN=${node}$`, 'm'), `${node}'s certificate names it`);
      assert.ok(certificate.verify(ca.publicKey), `${node}'s certificate is signed by the cluster's CA`);
      assert.equal(fs.statSync(nodeCertificate(node).key).mode & 0o077, 0, `${node}'s key is readable by its owner alone`);
      // When it expires, in the node's log and, for alerts, its metrics.
      const expiry = Math.floor(Date.parse(certificate.validTo) / 1000);
      assert.match(fs.readFileSync(path.join(CLUSTER_DIR, 'logs', `node-${node}.log`), 'utf8'), new RegExp(`\\[worker\\] the client certificate for Temporal \\(CN=${node}\\) expires at `));
      assert.match(await nodeMetrics(node), new RegExp(`^sweep_tls_client_certificate_expiry_seconds\\{[^}]*\\} ${expiry}$`, 'm'), `${node}'s metric says when its certificate expires`);
    }
    // `sweep list` as an operator would run it, with the cluster's stack.env less some of its lines (or another CA's certificate).
    const fixtures = path.join(REPO_ROOT, 'test', 'unit', 'fixtures', 'tls');
    const cases: Array<{ what: string; drop: RegExp; add?: Record<string, string>; says: RegExp }> = [
      { what: 'no client certificate', drop: /^TEMPORAL_TLS_CLIENT_/, says: /requires a client certificate \(mutual TLS\) and this client sends none .*: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/ },
      {
        what: 'a certificate of another CA', drop: /^TEMPORAL_TLS_CLIENT_/,
        add: { TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(fixtures, 'stranger.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(fixtures, 'stranger.key') },
        says: /refused this client's certificate \(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: tlsv1 alert unknown ca\): use one signed by a CA the server trusts/,
      },
      { what: 'no TLS', drop: /^TEMPORAL_TLS_/, says: /speaks TLS and this client connects without it: set TEMPORAL_TLS=true/ },
      { what: 'the CA not trusted', drop: /^TEMPORAL_TLS_SERVER_CA_/, says: /does not trust .*: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the PEM file of the CA that signed it/ },
    ];
    const envDir = fs.mkdtempSync(path.join(CLUSTER_DIR, 'tls-cases-'));
    try {
      for (const { what, drop, add, says } of cases) {
        const file = path.join(envDir, 'stack.env');
        const lines = fs.readFileSync(path.join(CLUSTER_DIR, 'stack.env'), 'utf8').split('\n').filter((line) => !drop.test(line));
        fs.writeFileSync(file, [...lines, ...Object.entries(add ?? {}).map(([name, value]) => `${name}='${value}'`)].join('\n'));
        const began = Date.now();
        const { code, out } = await productOnTheHost([path.join(REPO_ROOT, 'bin', 'sweep.js'), 'list'], { SWEEP_STACK_ENV: file });
        assert.notEqual(code, 0, `${what}: refused`);
        assert.match(out, says, `${what}: ${out}`);
        assert.ok(Date.now() - began < 15_000, `${what}: told in ${Date.now() - began} ms, not after waiting for a server that is up`);
        figure(`TLS, ${what}: \`sweep list\` refused in ${seconds(Date.now() - began)}: ${out.trim().split('\n').pop()}`);
      }
    } finally {
      fs.rmSync(envDir, { recursive: true, force: true });
    }
    const plain = new URL(stackEnv.S3_ENDPOINT);
    plain.protocol = 'http:';
    assert.equal((await fetch(new URL('/minio/health/live', plain))).status, 400, 'MinIO answers plain HTTP with 400 only');
    assert.equal(new URL(stackEnv.S3_ENDPOINT).protocol, 'https:');
    // PostgreSQL takes TLS connections only, and the server's are all TLS.
    const unencrypted = await psqlRun('temporal', 'SELECT 1', 'disable');
    assert.notEqual(unencrypted.code, 0);
    assert.match(unencrypted.out, /no pg_hba\.conf entry for host .* no encryption/);
    const [connections, allTls] = (await psql('temporal', "SELECT count(*), bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'temporal' AND a.pid <> pg_backend_pid()")).split('|');
    assert.ok(Number(connections) > 0, 'the Temporal server holds connections');
    assert.equal(allTls, 't', `every one of the Temporal server's ${connections} connections to PostgreSQL is TLS`);
    figure(`TLS: PostgreSQL refused an unencrypted connection; the server's ${connections} connections to it all TLS; MinIO answered plain HTTP with 400`);
  });

  test('authorization: a node\'s certificate may work on the sweeps\' tasks and read in their namespace and nothing else (no start, signal, terminate or delete, no other namespace, no administration); the operator\'s may do all', async () => {
    const node = GPU_NODE_NAMES[0];
    const namespace = stackEnv.TEMPORAL_NAMESPACE;
    const refusedAs = async (args: string[], who?: string) => {
      const { code, out } = await temporalCliRun(args, who);
      assert.notEqual(code, 0, `${who ?? 'operator'}: temporal ${args.join(' ')} refused: ${out}`);
      assert.match(out, /Request unauthorized/i, `${who ?? 'operator'}: temporal ${args.join(' ')}`);
    };
    const allowedAs = async (args: string[], who?: string) => {
      const { code, out } = await temporalCliRun(args, who);
      assert.equal(code, 0, `${who ?? 'operator'}: temporal ${args.join(' ')} allowed: ${out}`);
    };
    await allowedAs(['workflow', 'list', '--namespace', namespace, '--limit', '1'], node);
    await allowedAs(['task-queue', 'describe', '--namespace', namespace, '--task-queue', queues.gpuQueue], node);
    // A stolen node's certificate cannot act on the sweeps (the authorizer answers before the workflow is looked up).
    const workflow = ['--namespace', namespace, '--workflow-id', `it-not-allowed-${process.pid}`];
    const actions = [
      ['workflow', 'start', ...workflow, '--task-queue', queues.cpuQueue, '--type', 'sweepWorkflow'],
      ['workflow', 'signal', ...workflow, '--name', 'anything'],
      ['workflow', 'terminate', ...workflow, '--reason', 'a stolen node'],
      ['workflow', 'delete', ...workflow, '--yes'],
    ];
    for (const action of actions) await refusedAs(action, node);
    // The operator's may: it gets as far as finding no such workflow.
    const terminated = await temporalCliRun(actions[2]);
    assert.match(terminated.out, /not found/i, `the operator's terminate is allowed: ${terminated.out}`);
    await refusedAs(['workflow', 'list', '--namespace', 'temporal-system', '--limit', '1'], node);
    await refusedAs(['operator', 'namespace', 'create', '--namespace', `it-not-allowed-${process.pid}`], node);
    await refusedAs(['operator', 'namespace', 'update', '--namespace', namespace, '--retention', '48h'], node);
    await refusedAs(['operator', 'search-attribute', 'create', '--namespace', namespace, '--name', `ItNotAllowed${process.pid}`, '--type', 'Keyword'], node);
    await allowedAs(['workflow', 'list', '--namespace', 'temporal-system', '--limit', '1']);
    await allowedAs(['operator', 'namespace', 'describe', '--namespace', namespace]);
    // The product's CLI with the node's certificate in another namespace says who was refused where.
    const { cert, key } = nodeCertificate(node);
    const asNodeElsewhere = { TEMPORAL_NAMESPACE: 'temporal-system', TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key };
    const { code, out } = await productOnTheHost([path.join(REPO_ROOT, 'bin', 'sweep.js'), 'list'], asNodeElsewhere);
    assert.equal(code, 1, out);
    assert.match(out, new RegExp(`refused this request in namespace temporal-system \\(7 PERMISSION_DENIED: Request unauthorized\\.\\): it does not let the client certificate O=sweep cluster, CN=${node} \\(TEMPORAL_TLS_CLIENT_CERT_PATH\\) do this there`));
    // So does a worker started there with it (a node set up for another namespace): it exits at once.
    const worker = await productOnTheHost(['--import', 'tsx', path.join(REPO_ROOT, 'workers', 'run-workers.ts'), 'cpu'],
      { ...asNodeElsewhere, SWEEP_CPU_QUEUE: `it-refused-${process.pid}` });
    assert.equal(worker.code, 1, worker.out);
    assert.match(worker.out, new RegExp(`^error: Temporal at \\S+ refused this request in namespace temporal-system \\(PermissionDenied: Request unauthorized\\.\\): it does not let the client certificate O=sweep cluster, CN=${node} `, 'm'));
    figure(`authorization: ${node}'s certificate listed workflows and described a task queue in ${namespace}; refused ${actions.map((a) => a.slice(0, 2).join(' ')).join(', ')} there, other namespaces, namespace creation and update, search attributes; the operator's allowed. ` +
      `\`sweep list\` with it in temporal-system: ${out.trim().split('\n').pop()}`);
  });

  test('a node reaches two ports of the servers\' host, the frontend\'s and MinIO\'s S3 API: every other port the servers listen on (PostgreSQL, the Temporal services\' gRPC, membership and HTTP ports, MinIO\'s console, the Web UI) is on the host\'s loopback', async () => {
    const node = GPU_NODE_NAMES[0];
    const host = stackEnv.TEMPORAL_ADDRESS.replace(/:\d+$/, '');
    const servers = serverPids();
    assert.deepEqual([...new Set(servers.values())].sort(), ['minio', 'postgres', ...TEMPORAL_PROCESSES.map((p) => `temporal-${p}`),
      ...(fs.existsSync(path.join(CLUSTER_DIR, 'bin', 'temporal-ui-server')) ? ['temporal-ui-server'] : [])].sort(), 'every server of the cluster runs');
    const listening = (await listeningSockets()).filter((socket) => servers.has(socket.pid));
    const loopback = (address: string) => address.startsWith('127.') || address === '::1';
    const publicOnes = listening.filter((socket) => !loopback(socket.address));
    assert.deepEqual(publicOnes.map((s) => `${servers.get(s.pid)} ${s.address}:${s.port}`).sort(),
      [`minio ${new URL(stackEnv.S3_ENDPOINT).host}`, `temporal-frontend ${stackEnv.TEMPORAL_ADDRESS}`, `temporal-frontend-b ${stackEnv.TEMPORAL_ADDRESS}`].sort(),
      'the servers listen at the bridge address on two ports alone (the frontends share theirs)');
    // From the node, every port at the address it reaches the host by (a loopback port of the host is not its loopback).
    const targets = [...new Set(listening.map((socket) => `${loopback(socket.address) || ['*', '0.0.0.0', '::'].includes(socket.address) ? host : socket.address}:${socket.port}`))];
    const reached = await reachableFrom(node, targets);
    assert.deepEqual(reached.sort(), [new URL(stackEnv.S3_ENDPOINT).host, stackEnv.TEMPORAL_ADDRESS].sort(), `${node} connects to the frontend and S3 alone`);
    const internal = new Map<string, number>();
    for (const socket of listening) if (!publicOnes.includes(socket)) internal.set(servers.get(socket.pid)!, (internal.get(servers.get(socket.pid)!) ?? 0) + 1);
    figure(`network: the servers listen on ${listening.length} ports, ${publicOnes.length} at ${host}; from ${node} ${targets.length} tried, connected to ${reached.join(' and ')} alone; ` +
      `on the loopback: ${[...internal].map(([name, n]) => `${name} ${n}`).join(', ')}`);
  });

  test('the bridge keeps its hardware address while nodes join and leave: a port of a lower address added, then removed, changes nothing a node sees, and the node reaches the host throughout', async () => {
    const node = GPU_NODE_NAMES[0];
    const bridge = process.env.CLUSTER_BRIDGE ?? 'swc0';
    const s3 = new URL(stackEnv.S3_ENDPOINT).host;
    const sys = (file: string) => fs.readFileSync(`/sys/class/net/${bridge}/${file}`, 'utf8').trim();
    const before = sys('address');
    assert.equal(sys('addr_assign_type'), '3', 'cluster-up.sh set the bridge\'s address (a bridge that chose its own follows its lowest port\'s)');
    // A node's veth of the lowest address there can be: the bridge of before took it as its own, and
    // went back when it left, while the node still sent to the address it had learnt.
    const port = 'swc-lowmac-h';
    assert.deepEqual(await reachableFrom(node, [s3]), [s3], `${node} reaches the host before`);
    await ipRun(['link', 'add', port, 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', 'swc-lowmac-p']);
    try {
      await ipRun(['link', 'set', port, 'master', bridge, 'up']);
      assert.equal(sys('address'), before, 'a lower port joining leaves the bridge\'s address');
      assert.deepEqual(await reachableFrom(node, [s3]), [s3], `${node} reaches the host while it is there`);
    } finally {
      await ipRun(['link', 'del', port]);
    }
    assert.equal(sys('address'), before, 'and so does its leaving');
    assert.deepEqual(await reachableFrom(node, [s3]), [s3], `${node} reaches the host within 2 s after it left (the bridge of before: not for 10-45 s)`);
  });

  test('history, matching and the worker service trust only the servers\' internode CA: a node\'s certificate, even on the host, cannot call them past the frontend\'s authorizer', async () => {
    const node = GPU_NODE_NAMES[0];
    const servers = { cert: path.join(CLUSTER_DIR, 'tls', 'internode.pem'), key: path.join(CLUSTER_DIR, 'tls', 'internode.key') };
    const answers: string[] = [];
    for (const [name, address] of serverProcessAddresses()) {
      // A frontend at the address the nodes reach both by, and at its own.
      const frontend = name.startsWith('frontend');
      const at = frontend ? `${stackEnv.TEMPORAL_ADDRESS} and ${address}` : address;
      const asNode = frontend ? (await Promise.all([stackEnv.TEMPORAL_ADDRESS, address].map((a) => healthCheckAnswer(a, nodeCertificate(node))))).join(', ') : await healthCheckAnswer(address, nodeCertificate(node));
      if (frontend) {
        assert.equal(asNode, 'grpc-status 0, grpc-status 0', `the frontend (${at}) serves ${node}'s certificate`);
      } else {
        assert.match(asNode, /^error: /, `${name} (${at}) refuses ${node}'s certificate: ${asNode}`);
        assert.equal(await healthCheckAnswer(address, servers), 'grpc-status 0', `${name} (${at}) serves the servers' internode certificate`);
      }
      answers.push(`${name} ${at} ${asNode}`);
    }
    figure(`internode: a health check with ${node}'s certificate from the host: ${answers.join('; ')}`);
  });

  test('the Web UI, which acts with the operator\'s certificate and has no login, listens on the host\'s loopback: the operator lists workflows through it, a node cannot connect to it', { skip: !fs.existsSync(path.join(CLUSTER_DIR, 'bin', 'temporal-ui-server')) && 'no temporal-ui-server (SWEEP_CLUSTER_UI=0)' }, async () => {
    const ui = new URL(stackEnv.TEMPORAL_UI_URL);
    assert.equal(ui.hostname, '127.0.0.1');
    const listed = await fetch(new URL(`/api/v1/namespaces/${stackEnv.TEMPORAL_NAMESPACE}/workflows?pageSize=1`, ui));
    assert.equal(listed.status, 200, 'the operator on the host lists workflows through the UI');
    const node = GPU_NODE_NAMES[0];
    const host = stackEnv.TEMPORAL_ADDRESS.replace(/:\d+$/, '');
    for (const address of [host, ui.hostname]) {
      const { code, out } = await run('ip', ['netns', 'exec', `swc-${node}`, 'curl', '-sS', '--max-time', '3', '-o', '/dev/null', `http://${address}:${ui.port}/api/v1/cluster-info`]);
      assert.notEqual(code, 0, `${node} reached the UI at ${address}:${ui.port}: ${out}`);
      assert.match(out, /Failed to connect|Couldn't connect/, `${node} to ${address}:${ui.port}`);
    }
    figure(`Web UI: the operator listed workflows through ${ui.origin}; ${node} could not connect to port ${ui.port} at ${host} or its own loopback`);
  });

  test('each node has MinIO keys of its own, not the root user\'s: they read, write, list and delete in the sweeps\' bucket and nothing else', async () => {
    const root = readEnvFile(path.join(CLUSTER_DIR, 'minio-credentials.env')).MINIO_ROOT_USER;
    for (const node of NODES) {
      const { file, accessKeyId } = nodeS3Keys(node);
      assert.equal(accessKeyId, `node-${node}`, `${node}'s MinIO user is its own`);
      assert.notEqual(accessKeyId, root);
      assert.equal(fs.statSync(file).mode & 0o077, 0, `${node}'s keys are readable by their owner alone`);
      const [worker] = await nodePids(node);
      assert.ok(fs.readFileSync(`/proc/${worker}/environ`, 'utf8').split('\0').includes(`AWS_SHARED_CREDENTIALS_FILE=${file}`), `${node}'s worker reads its own keys`);
    }
    const node = GPU_NODE_NAMES[0];
    const asNode = clusterS3(stackEnv, nodeS3Keys(node));
    const key = `it-least-privilege-${process.pid}/probe.txt`;
    await asNode.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'written by a node' }));
    assert.equal(await (await asNode.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString(), 'written by a node');
    assert.equal((await asNode.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }))).KeyCount, 1);
    await asNode.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    // Another bucket, made and filled by the root user: the node's keys can neither read it nor make one.
    const other = `it-other-${process.pid}`;
    await s3.send(new CreateBucketCommand({ Bucket: other }));
    try {
      await s3.send(new PutObjectCommand({ Bucket: other, Key: 'secret.txt', Body: 'not for nodes' }));
      const denied = async (what: string, call: () => Promise<unknown>) => {
        const error = await call().then(() => undefined, (e: Error) => e);
        assert.equal(error?.name, 'AccessDenied', `${node}'s keys: ${what} denied (${error?.message ?? 'allowed'})`);
      };
      await denied(`reading ${other}`, () => asNode.send(new GetObjectCommand({ Bucket: other, Key: 'secret.txt' })));
      await denied(`deleting in ${other}`, () => asNode.send(new DeleteObjectCommand({ Bucket: other, Key: 'secret.txt' })));
      await denied('making a bucket', () => asNode.send(new CreateBucketCommand({ Bucket: `it-not-allowed-${process.pid}` })));
      await denied(`deleting ${bucket}`, () => asNode.send(new DeleteBucketCommand({ Bucket: bucket })));
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: other, Key: 'secret.txt' }));
      await s3.send(new DeleteBucketCommand({ Bucket: other }));
    }
    figure(`S3: every node's worker reads MinIO keys of its own (node-<node>); ${node}'s wrote, read, listed and deleted in ${bucket}, and were denied another bucket's objects, making a bucket and deleting ${bucket}`);
  });

  test('a sweep completes across 3 GPU nodes, each trial records its node, and each node\'s metrics count the epochs it trained; it is in PostgreSQL-backed visibility', async () => {
    const epochsBefore = await Promise.all(GPU_NODE_NAMES.map(epochsTrainedOn));
    const began = Date.now();
    const sweep = await startSweep('cluster-baseline');
    const board = await assertCompleted(sweep, 'baseline');
    const ms = Date.now() - began;
    referenceMs = ms;
    reference = await outcome(cluster, board);
    const nodes = nodesOf(reference);
    // Scraped as Prometheus would, from the host, at each node's own address.
    const epochsOfNodes = (await Promise.all(GPU_NODE_NAMES.map(epochsTrainedOn))).map((n, i) => n - epochsBefore[i]);
    assert.deepEqual(epochsOfNodes, GPU_NODE_NAMES.map((node) => (nodes.get(node) ?? 0) * EPOCHS), `sweep_epochs_trained_total per node (${GPU_NODE_NAMES.join(', ')}) against the trials each recorded`);
    for (const node of nodes.keys()) assert.ok(GPU_NODE_NAMES.includes(node), `${node}, recorded as a trial's node, is one of the GPU nodes ${GPU_NODE_NAMES.join(', ')}`);
    assert.ok(nodes.size >= 2, `trials spread over several GPU nodes: ${describeNodes(nodes)}`);
    assert.ok(board.ranked.every((t) => t.resumedFromEpoch === 0), 'uninterrupted: no trial resumed');
    figure(`cluster: baseline sweep (${TRIALS} trials x ${EPOCHS} epochs, concurrency ${GPU_NODES}, 3 GPU nodes): ${seconds(ms)}, ${trialsPerMinute(ms)}; ` +
      `trials' recorded nodes: ${describeNodes(nodes)}`);
    // Visibility: the list API (served from PostgreSQL), a custom search attribute, and the row itself.
    const listed = await waitFor('the sweep in visibility as completed', async () => {
      for await (const w of client.workflow.list({ query: `WorkflowId = '${sweep.workflowId}' AND ExecutionStatus = 'Completed' AND SweepTrialsDone = ${TRIALS}` })) return w;
      return undefined;
    }, 30_000, 500);
    assert.equal(listed.type, 'sweepWorkflow');
    const row = await psql('temporal_visibility', `SELECT status FROM executions_visibility WHERE workflow_id = '${sweep.workflowId}'`);
    assert.equal(row, '2', 'executions_visibility row with status 2 (completed)');
  });

  test(`a sweep of ${MANY_TRIALS} short trials spreads over all ${GPU_NODES} GPU nodes; result.json and the leaderboard record each trial's node`, async () => {
    figure(`cluster: ${await spreadSweep(cluster, 'cluster-spread', GPU_NODE_NAMES)}`);
  });

  test('a bayesian search on the cluster: the CPU node runs the suggest worker, which serves TPE\'s suggestions batch by batch', { skip: suggestWorkerMissing() }, async () => {
    const space = {
      hidden_units: { type: 'int', low: 8, high: 32, step: 8 }, lr: { type: 'loguniform', low: 1e-3, high: 1e-1 },
      batch_size: { type: 'choice', values: [8] }, n_epochs: { type: 'choice', values: [2] },
    };
    const cpuNode = `${PREFIX}cpu1`;
    const suggestedBefore = await suggestionsBy(cpuNode);
    const began = Date.now();
    const sweep = await startSweep('cluster-bayes', cluster, { grid: undefined, concurrency: 2, search: { method: 'bayesian', budget: 4, space } });
    const board = await assertCompleted(sweep, 'bayesian search', 4);
    assert.ok(board.ranked.every((t) => t.epochsDone === 2 && !!t.node && GPU_NODE_NAMES.includes(t.node)), 'each trial trained its 2 epochs on a GPU node');
    const suggestions = ((await sweep.fetchHistory()).events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'suggestTrials');
    assert.equal(suggestions.length, 2, 'two batches of 2, each suggested');
    assert.equal(await suggestionsBy(cpuNode) - suggestedBefore, 2, 'the suggest worker\'s metrics (the port after its node\'s) count both');
    // The suggest queue's poller is the Python worker the CPU node's launcher runs (its child process).
    const cpuNodePid = fs.readFileSync(path.join(CLUSTER_DIR, 'run', `node-${cpuNode}.pid`), 'utf8').trim();
    const pollers = await queuePollers(client, SUGGEST_QUEUE);
    assert.ok(pollers.length > 0, 'a worker polls the suggest queue');
    for (const { identity } of pollers) {
      const status = fs.readFileSync(`/proc/${identity!.split('@')[0]}/status`, 'utf8');
      assert.equal(/^PPid:\s+(\d+)$/m.exec(status)?.[1], cpuNodePid, `${identity} is the CPU node's child`);
    }
    figure(`cluster: bayesian search (budget 4, concurrency 2, TPE on the CPU node): ${seconds(Date.now() - began)}`);
  });

  test('a redeploy on the cluster: build B\'s nodes start, B is made current while a sweep runs on A; it finishes on A\'s nodes, a new sweep runs on B\'s; A drains and its nodes stop', async () => {
    // Queues and a deployment of its own: versioned and unversioned workers must not share a queue.
    const on = { cpuQueue: `cluster-it-v-cpu-${process.pid}`, gpuQueue: `cluster-it-v-gpu-${process.pid}`, suggestQueue: `cluster-it-v-suggest-${process.pid}` };
    const versioned: Target = { ...cluster, queues: on };
    const deployment = `cluster-it-${process.pid}`;
    const builds = { A: { prefix: 'va', buildId: 'build-a' }, B: { prefix: 'vb', buildId: 'build-b' } };
    const nodeNames = (prefix: string) => [`${prefix}gpu1`, `${prefix}cpu1`];
    const nodesUp = ({ prefix, buildId }: { prefix: string; buildId: string }) =>
      infraWith(on, { SWEEP_DEPLOYMENT_NAME: deployment }, 'nodes-up.sh', '--gpu', '1', '--cpu', '1', '--prefix', prefix, '--build-id', buildId);
    // What docs/deploy.md says to run; the server knows a version only once its workers have polled.
    const setCurrent = (buildId: string) => waitFor(`${buildId} set as current`, () =>
      temporalCli('worker', 'deployment', 'set-current-version', '--deployment-name', deployment, '--build-id', buildId, '--yes').then(() => Date.now()), 120_000, 1000);
    const pinnedTo = async (sweep: WorkflowHandle) => {
      const info = (await sweep.describe()).raw.workflowExecutionInfo?.versioningInfo;
      return info?.behavior === temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED ? info.deploymentVersion?.buildId : undefined;
    };
    const runningOn = async (buildId: string) =>
      (await client.workflow.count(`TemporalWorkerDeploymentVersion = '${deployment}:${buildId}' AND ExecutionStatus = 'Running'`)).count;
    try {
      const began = Date.now();
      const upA = await nodesUp(builds.A);
      const upB = await nodesUp(builds.B);
      await setCurrent(builds.A.buildId);
      // Sweep A trains its 4 trials one at a time on A's one GPU slot, the baseline's trials.
      const sweepA = await startSweep('cluster-build-a', versioned);
      await trainingNow(sweepA);
      const bCurrentAt = await setCurrent(builds.B.buildId);
      const doneAtSwitch = await trialsDone(sweepA);
      assert.ok(doneAtSwitch < TRIALS, `sweep A is still running when B becomes current (${doneAtSwitch}/${TRIALS} trials done)`);
      // Other trials than A's (trial ids are content ids): one trial trains in one sweep at a time.
      const sweepB = await startSweep('cluster-build-b', versioned, { grid: { ...MANY_GRID, hidden_units: [16, 32], dropout: [0.35, 0.45], lr: [0.01], n_epochs: [EPOCHS] } });
      const [boardA, boardB] = await Promise.all([assertCompleted(sweepA, 'sweep A'), assertCompleted(sweepB, 'sweep B')]);
      assert.equal(await pinnedTo(sweepA), builds.A.buildId, 'sweep A is pinned to build A');
      assert.equal(await pinnedTo(sweepB), builds.B.buildId, 'sweep B is pinned to build B');
      // B's GPU node was free while A's trials waited for A's only slot: none of them went to it.
      const runA = await outcome(versioned, boardA);
      const nodesA = nodesOf(runA);
      assert.deepEqual([...nodesA.keys()], [`${builds.A.prefix}gpu1`], `every trial of sweep A trained on A's GPU node: ${describeNodes(nodesA)}`);
      const nodesB = nodesOf(await outcome(versioned, boardB));
      assert.deepEqual([...nodesB.keys()], [`${builds.B.prefix}gpu1`], `every trial of sweep B trained on B's GPU node: ${describeNodes(nodesB)}`);
      assertSameAsReference(runA, 'sweep A, on versioned nodes');
      // The drain: nothing open on A (sweep, trials, leases), by visibility; then A's nodes go (TERM).
      await waitFor('no workflow running on build A in visibility', async () => (await runningOn(builds.A.buildId)) === 0 && (await runningOn(builds.B.buildId)) === 0, 60_000, 1000);
      const downA = await infraWith(on, {}, 'nodes-down.sh', ...nodeNames(builds.A.prefix));
      figure(`cluster redeploy: build A's nodes polling ${seconds(upA)} after nodes-up.sh --build-id, build B's ${seconds(upB)}; B made current with ${doneAtSwitch}/${TRIALS} of sweep A's trials done, ` +
        `${seconds(bCurrentAt - began)} in; sweep A (all ${TRIALS} trials on ${builds.A.prefix}gpu1, pinned to A) and sweep B (all on ${builds.B.prefix}gpu1, pinned to B) done ` +
        `${seconds(Date.now() - began)} in; A's nodes stopped (TERM) in ${seconds(downA)}`);
    } finally {
      await infraWith(on, {}, 'nodes-down.sh', ...nodeNames(builds.A.prefix), ...nodeNames(builds.B.prefix), '--kill', '--purge').catch((e) => console.error(String(e)));
    }
  });

  test('a whole GPU node lost mid-sweep (kill -9 of every process, local cache deleted): its trial resumes on another node; the leaderboard is identical', async () => {
    let killed = 0;
    const loss = await sweepLosingANode(cluster, 'cluster-node-loss', async (node) => {
      killed = await killNode(node, { cache: 'deleted' });
    });
    figure(`cluster: GPU node ${loss.lost.node} lost (kill -9 of its ${killed} process(es), cache deleted) after epoch ${loss.atKill}/${EPOCHS} of a trial: ${describeLoss(loss)}`);
    // A replacement machine joins under the same name, with an empty cache.
    const replacedMs = await infra('nodes-up.sh', ...NODES_UP);
    figure(`cluster: replacement ${loss.lost.node} (empty cache) polling ${seconds(replacedMs)} after nodes-up.sh`);
  });

  test('a GPU node\'s credentials revoked while it trains, its processes left running (a stolen machine): Temporal and MinIO refuse it from then on, its trial resumes on another node, the leaderboard is identical; the node enrolled again gets new credentials', async () => {
    const kept = fs.mkdtempSync(path.join(CLUSTER_DIR, 'revoked-'));
    try {
      let revokedNode = '';
      let held: HeldCredentials | undefined;
      const loss = await sweepLosingANode(cluster, 'cluster-node-revoked', async (node) => {
        revokedNode = node;
        // What the stolen machine holds: nodes-revoke.sh deletes the host's copies.
        held = holdCredentials(node, kept);
        await infra('nodes-revoke.sh', node);
        // A request MinIO let in just before the user went may still land; none starts after.
        await sleep(1000);
      });
      assert.ok(held);
      assert.ok((await nodePids(revokedNode)).length > 0, `${revokedNode}'s processes still ran through the sweep (revoked, not killed)`);
      const refusals = await assertRefused(revokedNode, held);
      figure(`cluster: GPU node ${revokedNode} revoked (nodes-revoke.sh) after epoch ${loss.atKill}/${EPOCHS} of a trial, its processes left running: ${describeLoss(loss).replace(/after the kill/g, 'after the revocation')}; ` +
        `the frontends refused it ${refusals} time(s) by then (logged), MinIO its keys (InvalidAccessKeyId)`);
      // The machine set up anew: stopped, enrolled again under its name with new credentials.
      await infra('nodes-down.sh', revokedNode, '--kill');
      const enrolledMs = await infra('nodes-up.sh', ...NODES_UP);
      assert.notEqual(new X509Certificate(fs.readFileSync(nodeCertificate(revokedNode).cert)).serialNumber, held.serial, 'a new certificate');
      assert.notEqual(nodeS3Keys(revokedNode).secretAccessKey, held.s3.secretAccessKey, 'new MinIO keys');
      figure(`cluster: ${revokedNode} enrolled again (a new certificate and MinIO user) and polling ${seconds(enrolledMs)} after nodes-up.sh`);
    } finally {
      fs.rmSync(kept, { recursive: true, force: true });
    }
  });

  test('nodes-down.sh --purge retires a node: its folder goes, and first its certificate is revoked and its MinIO user removed (no credentials left valid that no file here holds)', async () => {
    const on = { cpuQueue: `cluster-it-purge-cpu-${process.pid}`, gpuQueue: `cluster-it-purge-gpu-${process.pid}` };
    const node = 'rtgpu1';
    const kept = fs.mkdtempSync(path.join(CLUSTER_DIR, 'purged-'));
    try {
      await infraWith(on, {}, 'nodes-up.sh', '--gpu', '1', '--cpu', '0', '--prefix', 'rt');
      const held = holdCredentials(node, kept);
      const { out } = await infraRun(on, {}, 'nodes-down.sh', node, '--purge');
      assert.ok(!fs.existsSync(path.join(CLUSTER_DIR, 'nodes', node)), `${node}'s folder is gone`);
      await assertRefused(node, held);
      assert.match(fs.readFileSync(path.join(CLUSTER_DIR, 'tls', 'revoked-certificates'), 'utf8'), new RegExp(`^0*${held.serial.replace(/^0+/, '')} ${node} `, 'mi'), 'its serial is on the list');
      figure(`nodes-down.sh ${node} --purge: ${out.trim().split('\n').filter((line) => /revoked|removed|purged/.test(line)).map((line) => line.replace(/^\[nodes-down\] /, '')).join('; ')}`);
    } finally {
      await infraWith(on, {}, 'nodes-down.sh', node, '--kill').catch((e) => console.error(String(e)));
      fs.rmSync(kept, { recursive: true, force: true });
    }
  });

  test('the CPU node (the workflows\' worker, with the suggest worker) lost mid-sweep (kill -9 of every process), a replacement started 5 s later: the sweep resumes from its history; the leaderboard is identical', async () => {
    const node = `${PREFIX}cpu1`;
    const began = Date.now();
    const sweep = await startSweep('cluster-cpu-node-loss');
    await trainingNow(sweep);
    const killedAt = Date.now();
    const killed = await killNode(node, { cache: 'kept' });
    // No workflow worker at all for a while: the GPU nodes train on, the sweep's and trials' workflow tasks wait.
    await sleep(5000);
    const replacedAt = Date.now();
    const replacedMs = await infra('nodes-up.sh', ...NODES_UP);
    const run = await outcome(cluster, await assertCompleted(sweep, 'after the CPU node was lost'));
    assertSameAsReference(run, 'after the CPU node was lost');
    figure(`cluster: CPU node ${node} lost (kill -9 of its ${killed} process(es)) while trials trained; replacement started ${seconds(replacedAt - killedAt)} after the kill, ` +
      `polling ${seconds(replacedMs)} later; sweep ${seconds(Date.now() - began)}, done ${seconds(Date.now() - replacedAt)} after the replacement started; identical to the uninterrupted run`);
  });

  test('a GPU node lost during feature extraction (stopped, then kill -9, its cache deleted): the step is retried on another node; the feature shards equal an uninterrupted extraction\'s byte for byte, and the leaderboard its sweep\'s', async () => {
    await withFreshDataset('cluster-extraction', async (overrides) => {
      // Uninterrupted: the shards it writes are the reference; then they go, so the next sweep extracts again.
      const before = await listObjects('features/');
      const uninterrupted = await outcome(cluster, await assertCompleted(await startSweep('cluster-extraction-reference', cluster, overrides), 'the uninterrupted extraction\'s sweep'));
      const shardKeys = [...(await listObjects('features/')).keys()].filter((key) => !before.has(key));
      assert.ok(shardKeys.length >= 4, `the sweep extracted its features (${shardKeys.length} shards)`);
      const expected = new Map(await Promise.all(shardKeys.map(async (key) => [key, await cluster.getBytes(key)] as const)));
      for (const key of shardKeys) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));

      const began = Date.now();
      const sweep = await startSweep('cluster-extraction-loss', cluster, overrides);
      const extracting = await stepStarted(sweep, 'extractFeatures', clusterNodeOf);
      await stopMidStep(sweep, extracting);
      const killedAt = Date.now();
      await killNode(extracting.node, { cache: 'deleted' });
      const run = await outcome(cluster, await assertCompleted(sweep, 'after a node was lost during extraction'));
      const finishedAt = Date.now();
      for (const [key, bytes] of expected) assert.ok((await cluster.getBytes(key)).equals(bytes), `${key} equals the uninterrupted extraction's`);
      assertSameAsReference(run, 'after a node was lost during extraction', uninterrupted);
      assert.ok(await anyStepRetried(sweep), 'a step was retried (its first attempt lost with the node)');
      const replacedMs = await infra('nodes-up.sh', ...NODES_UP);
      figure(`cluster: GPU node ${extracting.node} lost during feature extraction (${shardKeys.length} shards, stopped then kill -9, cache deleted): sweep completed ` +
        `${seconds(finishedAt - killedAt)} after the kill (${seconds(finishedAt - began)} in all); every shard equal to the uninterrupted extraction's byte for byte, ` +
        `leaderboard identical; replacement polling ${seconds(replacedMs)} after nodes-up.sh`);
    });
  });

  test('the CPU node lost while it ingests the data (stopped, then kill -9), a replacement started: the ingestion is retried there; the leaderboard equals an uninterrupted sweep\'s on the same data', async () => {
    const cpuNode = `${PREFIX}cpu1`;
    await withFreshDataset('cluster-ingestion', async (overrides) => {
      const began = Date.now();
      const sweep = await startSweep('cluster-ingestion-loss', cluster, overrides);
      // The one CPU node runs every CPU step.
      const ingesting = await stepStarted(sweep, 'ingestDataset', () => cpuNode);
      await stopMidStep(sweep, ingesting);
      const killedAt = Date.now();
      await killNode(cpuNode, { cache: 'kept' });
      const replacedMs = await infra('nodes-up.sh', ...NODES_UP);
      const faulted = await outcome(cluster, await assertCompleted(sweep, 'after the CPU node was lost during ingestion'));
      const finishedAt = Date.now();
      assert.ok(await anyStepRetried(sweep), 'the ingestion was retried (its first attempt lost with the node)');
      // The same sweep again, uninterrupted (the data now stored): the same trials, the same results.
      const uninterrupted = await outcome(cluster, await assertCompleted(await startSweep('cluster-ingestion-reference', cluster, overrides), 'the uninterrupted sweep'));
      assertSameAsReference(faulted, 'after the CPU node was lost during ingestion', uninterrupted);
      figure(`cluster: CPU node ${cpuNode} lost during ingestion (stopped then kill -9; replacement polling ${seconds(replacedMs)} after nodes-up.sh): sweep completed ` +
        `${seconds(finishedAt - killedAt)} after the kill (${seconds(finishedAt - began)} in all; the ingestion's heartbeat timeout is 20 s); leaderboard identical to an uninterrupted sweep's on the same data`);
    });
  });

  test('a GPU node hung (SIGSTOP) past the heartbeat timeout, then woken: its trial resumes on another node, the stale attempt writes nothing; the leaderboard is identical', async () => {
    const began = Date.now();
    const sweep = await startSweep('cluster-node-hang');
    const hung = await trainingOnNode(cluster, sweep);
    const logSince = nodeLogFromNow(hung.node);
    const stopped = await signalNode(hung.node, 'SIGSTOP');
    const stoppedAt = Date.now();
    let woken = false;
    try {
      const atStop = await checkpointedEpochs(cluster, hung.trialId, sweep.workflowId);
      const resumed = await resumedElsewhere(cluster, sweep, hung, atStop);
      // Woken while the retry still trains: the stale attempt must notice, not race it.
      assert.ok(await checkpointedEpochs(cluster, hung.trialId, sweep.workflowId) < EPOCHS, 'the retry still trains when the hung node wakes');
      // While it trained (and while stopped) the node did not poll: it has one slot, and that was taken.
      assert.ok((await lastPolled(cluster, hung.node) ?? 0) < stoppedAt, `${hung.node} polled no work while its only slot trained`);
      await signalNode(hung.node, 'SIGCONT');
      woken = true;
      const wokenAt = Date.now();
      // The stale attempt stops at its next batch: as presumed dead (it could not reach Temporal for
      // longer than the heartbeat timeout), as cancelled (its first heartbeat's reply: the attempt is
      // gone; logged at debug level only), or fenced at its next checkpoint write. Either way the node,
      // which trains one trial at a time, polls for work again only once that attempt has ended.
      await waitFor(`${hung.node} to poll for work again (its stale attempt ended)`, async () => (await lastPolled(cluster, hung.node) ?? 0) > wokenAt, 120_000);
      const stoppedAfter = Date.now() - wokenAt;
      const how = /PresumedDead|CheckpointFencedError/.exec(logSince())?.[0] ?? 'cancelled: no failure logged';
      const run = await outcome(cluster, await assertCompleted(sweep, 'after a hung GPU node'));
      const ms = Date.now() - began;
      const trial = run.board.ranked.find((t) => t.trialId === hung.trialId)!;
      assert.equal(trial.resumedFromEpoch, atStop, 'the retry resumed from the last checkpoint before the hang');
      assert.equal(trial.node, resumed.node, 'the trial records the node that finished it');
      // Nothing dangling: the pointer names weights that exist, and no other checkpoint weights of the trial are left.
      const pointer = (await cluster.getJson<{ weightsKey: string }>(artifactKeys.trialCheckpoint(hung.trialId)))!;
      assert.deepEqual([...(await listObjects(artifactKeys.trialCheckpointWeightsPrefix(hung.trialId))).keys()], [pointer.weightsKey],
        'checkpoint.json names the trial\'s only checkpoint weights');
      assertSameAsReference(run, 'after a hung GPU node');
      figure(`cluster: GPU node ${hung.node} stopped (SIGSTOP, ${stopped} process(es)) after epoch ${atStop}/${EPOCHS} of a trial: retry started on ${resumed.node} ` +
        `${seconds(resumed.startedAt - stoppedAt)} after the stop (heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s), first resumed epoch ${seconds(resumed.resumedAt - stoppedAt)} after it; ` +
        `SIGCONT after ${seconds(wokenAt - stoppedAt)}: the stale attempt ended (${how}) and the node polled again ${seconds(stoppedAfter)} later; sweep ${seconds(ms)}; ` +
        'no dangling checkpoint; leaderboard, per-epoch metrics and head weights identical to the uninterrupted run');
    } finally {
      if (!woken) await signalNode(hung.node, 'SIGCONT').catch(() => undefined);
    }
  });

  test('a GPU node cut off from MinIO by its network (packets to S3 routed nowhere), still reaching Temporal: it stops taking tasks, its trial resumes on another node; the leaderboard is identical; once the route is back it takes tasks again', async () => {
    const began = Date.now();
    const sweep = await startSweep('cluster-node-s3-split');
    const cut = await trainingOnNode(cluster, sweep);
    const logSince = nodeLogFromNow(cut.node);
    const pidsBefore = await nodePids(cut.node);
    assert.equal(await s3ReachableOn(cut.node), 1);
    const s3Route = await routeS3Nowhere(cut.node, stackEnv.S3_ENDPOINT);
    const cutAt = Date.now();
    let healed = false;
    try {
      // The last checkpoint the cut-off node left: the pointer as long as its attempt owns it. Read while
      // the node gives up, not after: its attempt's save now waits on S3 without heartbeats, so Temporal
      // may time it out (10 s) and a retry elsewhere claim and checkpoint before the node declares S3
      // lost (10 s, then two probes unanswered); read after, the pointer was once the retry's epoch 17.
      let atCut = 0;
      const stoppedAfterMs = await waitFor(`${cut.node} to stop taking tasks`, async () => {
        const pointer = await cluster.getJson<{ sweepId: string; epoch: number; attempt?: { attempt: number } }>(artifactKeys.trialCheckpoint(cut.trialId));
        if (pointer?.sweepId === sweep.workflowId && pointer.attempt?.attempt === cut.attempt) atCut = pointer.epoch;
        return /shutting the GPU worker down/.test(logSince()) && Date.now() - cutAt;
      }, 60_000, 200);
      assert.equal(await s3ReachableOn(cut.node), 0, `${cut.node}'s metrics say it has lost S3`);
      assert.ok(atCut >= 2 && atCut < EPOCHS, `cut off mid-training (after epoch ${atCut} of ${EPOCHS})`);
      const resumed = await resumedElsewhere(cluster, sweep, cut, atCut);
      const run = await outcome(cluster, await assertCompleted(sweep, 'after a GPU node lost MinIO'));
      const trial = run.board.ranked.find((t) => t.trialId === cut.trialId)!;
      assert.equal(trial.resumedFromEpoch, atCut, 'the retry resumed from the last checkpoint the cut-off node wrote');
      assert.equal(trial.node, resumed.node, 'the trial records the node that finished it');
      assertSameAsReference(run, 'after a GPU node lost MinIO');
      assert.deepEqual(await nodePids(cut.node), pidsBefore, `${cut.node}'s worker process waits for S3; it does not exit`);
      await s3Route.restore();
      healed = true;
      const healedAt = Date.now();
      await waitFor(`${cut.node} to take tasks again`, async () => /S3 answers again: the GPU worker takes tasks again/.test(logSince()), 60_000, 200);
      await waitFor(`${cut.node} to poll the GPU queue again`, async () => (await lastPolled(cluster, cut.node) ?? 0) > healedAt, 60_000, 500);
      assert.equal(await s3ReachableOn(cut.node), 1, `${cut.node}'s metrics say it reaches S3 again`);
      figure(`cluster: GPU node ${cut.node} cut off from MinIO (its packets to S3's port routed to an address nobody has; Temporal reachable) after epoch ${atCut}/${EPOCHS} of a trial: ` +
        `it stopped taking tasks ${seconds(stoppedAfterMs)} after the cut (SWEEP_S3_UNREACHABLE_AFTER_S 10 s); retry started on ${resumed.node} ${seconds(resumed.startedAt - cutAt)} after the cut, ` +
        `first resumed epoch ${seconds(resumed.resumedAt - cutAt)} after it; sweep ${seconds(Date.now() - began)}; leaderboard, per-epoch metrics and head weights identical to the uninterrupted run; ` +
        `route restored: polling again ${seconds(Date.now() - healedAt)} later, its process never exited; its sweep_s3_reachable metric 1, 0 while cut off, 1 again`);
    } finally {
      if (!healed) await s3Route.restore().catch(() => undefined);
    }
  });

  test('one of the two history hosts killed (kill -9) mid-sweep and left down: the other takes its shards and the sweep completes, identical to the uninterrupted run; restarted, it takes shards again', async () => {
    const loss = await sweepLosingAServerHost('history', shardOwners);
    const rejoined = await waitFor('the restarted host to own shards again', async () => { const o = await shardOwners(); return new Set(o.values()).size === 2 && o; }, 120_000, 1000);
    figure(`${describeHostLoss(loss, 'shards')}; restarted: ${describeOwners(rejoined)}`);
  });

  test('a rolling restart of the Temporal server mid-sweep (each service stopped and started again while the others serve): the sweep completes, identical to the uninterrupted run', async () => {
    // Trials long enough that the sweep outlasts the roll (seven restarts of 1-6 s each), by the reference
    // sweep's pace: 200 epochs did by 4 s at first, and not on a faster machine. Run once uninterrupted first.
    const epochs = epochsForASweepOf(60);
    const long = { grid: { hidden_units: [16, 32], dropout: [0.3, 0.5], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [epochs] } };
    const referenceBegan = Date.now();
    const uninterrupted = await outcome(cluster, await assertCompleted(await startSweep('cluster-rolling-reference', cluster, long), 'the uninterrupted long sweep'));
    const uninterruptedMs = Date.now() - referenceBegan;
    const began = Date.now();
    const sweep = await startSweep('cluster-rolling-restart', cluster, long);
    await trainingNow(sweep);
    const restarts: string[] = [];
    for (const name of TEMPORAL_PROCESSES) {
      const stoppedAt = Date.now();
      await infra('cluster-down.sh', `temporal-${name}`);
      await infra('cluster-up.sh', 'temporal', '--no-setup');
      restarts.push(`${name} ${seconds(Date.now() - stoppedAt)}`);
    }
    const rolledAt = Date.now();
    const doneWhenRolled = await trialsDone(sweep);
    assert.ok(doneWhenRolled < TRIALS, `the roll ended while trials still trained (${doneWhenRolled}/${TRIALS} done)`);
    const run = await outcome(cluster, await assertCompleted(sweep, 'after a rolling restart'));
    assertSameAsReference(run, 'after a rolling restart', uninterrupted);
    figure(`rolling restart of the Temporal services mid-sweep (TERM, then cluster-up.sh; each until it serves again): ${restarts.join(', ')}; ` +
      `${doneWhenRolled}/${TRIALS} trials (${epochs} epochs) done when the last was back; sweep ${seconds(Date.now() - began)} (uninterrupted: ${seconds(uninterruptedMs)}), ${seconds(Date.now() - rolledAt)} after the roll; identical to its uninterrupted run`);
  });

  test('one of the two matching hosts killed (kill -9) mid-sweep and left down: the other takes its task queue partitions and the sweep completes, identical to the uninterrupted run', async () => {
    const loss = await sweepLosingAServerHost('matching', partitionOwners);
    figure(`${describeHostLoss(loss, 'partitions of the sweep\'s CPU and GPU queues')}; restarted`);
  });

  test('one of the two frontends killed (kill -9) mid-sweep and left down: the nodes and the operator carry on through the other at the same address; the sweep completes, identical to the uninterrupted run', async () => {
    // The kernel hands each new connection at the address to one of the frontends' processes; a client
    // stays on its frontend until that one goes, so the share follows the restarts before (after the
    // rolling restart, the frontend started last holds none). The one holding the most is lost.
    const before = await clientsPerFrontend();
    const [victim, other] = ['temporal-frontend', 'temporal-frontend-b'].sort((a, b) => (before.get(b) ?? 0) - (before.get(a) ?? 0));
    assert.ok((before.get(victim) ?? 0) > 0, `connections at ${stackEnv.TEMPORAL_ADDRESS} per frontend: ${[...before].join(', ')}`);
    const began = Date.now();
    const sweep = await startSweep('cluster-frontend-loss');
    await trainingNow(sweep);
    const killedAt = Date.now();
    await infra('cluster-down.sh', victim, '--kill');
    const run = await outcome(cluster, await assertCompleted(sweep, 'after a frontend was lost'));
    const finishedAt = Date.now();
    assertSameAsReference(run, 'after a frontend was lost');
    const after = await clientsPerFrontend();
    assert.equal(after.get(victim) ?? 0, 0, 'the lost frontend stayed down');
    assert.ok(after.get(other)! >= before.get(victim)!, `the other took the connections: ${[...after].join(', ')}`);
    await infra('cluster-up.sh', 'temporal', '--no-setup');
    figure(`${victim} killed mid-training and left down (connections per frontend before: ${[...before].map(([f, n]) => `${f} ${n}`).join(', ')}): ` +
      `sweep completed ${seconds(finishedAt - killedAt)} after the kill (${seconds(finishedAt - began)} in all), identical to the uninterrupted run; ` +
      `then ${other} held ${after.get(other)}; restarted`);
  });

  test('kill -9 of the Temporal server (all four services) mid-sweep, restarted: the sweep completes', async () => {
    const { doneBefore, answeringMs, progressedMs, sweepMs } = await sweepThroughAServerKill('cluster-temporal-kill', 'temporal');
    figure(`Temporal server kill -9 (all four services) mid-training (${doneBefore}/${TRIALS} trials done), restarted after 2 s: serving again ${seconds(answeringMs)} after the kill; ` +
      `next trial completed ${seconds(progressedMs)} after the kill; sweep ${seconds(sweepMs)}`);
  });

  test('kill -9 of PostgreSQL mid-sweep, restarted: the sweep completes', async () => {
    const { doneBefore, restartMs, answeringMs, progressedMs, sweepMs } = await sweepThroughAServerKill('cluster-postgres-kill', 'postgres');
    figure(`PostgreSQL kill -9 mid-training (${doneBefore}/${TRIALS} trials done), restarted after 2 s (crash recovery + start ${seconds(restartMs)}): accepting connections ` +
      `${seconds(answeringMs)} after the kill; next trial completed ${seconds(progressedMs)} after the kill; sweep ${seconds(sweepMs)}`);
  });

  test('a MinIO drive directory deleted mid-sweep: the sweep completes and every object is readable', async () => {
    // The bucket as earlier sweeps left it, listed before this sweep starts: with thousands of objects
    // that takes many seconds, and the drive must go while the sweep trains. LastModified has 1 s
    // resolution and is stamped when a PUT begins: anything stamped from 5 s before the listing on
    // counts as rewritten (this sweep retrains the baseline's trials, whose objects it rewrites).
    const snapshotSecond = Math.floor(Date.now() / 1000) * 1000 - 5000;
    const before = await listObjects();
    const began = Date.now();
    const sweep = await startSweep('cluster-drive-loss');
    await trainingNow(sweep);
    const drive = path.join(CLUSTER_DIR, 'data', 'minio', 'drive2');
    const minioLog = path.join(CLUSTER_DIR, 'logs', 'minio.log');
    const logBefore = fs.statSync(minioLog).size;
    // Out of MinIO's way in one step (it keeps writing there), then gone: deleted in the background,
    // as thousands of objects take a while to delete.
    const lost = `${drive}.lost-${process.pid}`;
    fs.renameSync(drive, lost);
    const lostAt = Date.now();
    const deleted = fs.promises.rm(lost, { recursive: true, force: true, maxRetries: 5 });
    const doneAtLoss = await trialsDone(sweep);
    assert.ok(doneAtLoss < TRIALS, `the drive was lost mid-sweep (${doneAtLoss}/${TRIALS} trials done)`);
    await assertCompleted(sweep, 'after losing a MinIO drive');
    await deleted;
    const completedAt = Date.now();
    const after = await listObjects();
    // The sweep rewrites some objects (checkpoints, its trials' results) and deletes superseded
    // checkpoint weights; every other object of the earlier sweeps must be there, unchanged.
    let kept = 0;
    for (const [key, { etag }] of before) {
      const now = after.get(key);
      if (!now) {
        assert.ok(isCheckpointWeights(key), `${key}, written before the loss, is still listed`);
        continue;
      }
      if (now.modified >= snapshotSecond) continue;
      assert.equal(now.etag, etag, `${key}, written before the loss, is unchanged`);
      kept++;
    }
    const readStarted = Date.now();
    const bytes = await readAll(after);
    figure(`MinIO drive 2 of 4 deleted mid-training (${doneAtLoss}/${TRIALS} trials done): sweep completed ${seconds(completedAt - lostAt)} later (sweep ${seconds(completedAt - began)}); ` +
      `all ${after.size} objects (${(bytes / 2 ** 20).toFixed(1)} MiB; ${kept} of earlier sweeps not rewritten by this one, same ETags) read back from 3 drives in ${seconds(Date.now() - readStarted)}`);
    // MinIO re-creates a missing drive directory, formats it and heals every object onto it (the
    // mkdir stands for an empty replacement disk, should it not have done so yet).
    fs.mkdirSync(drive, { recursive: true });
    const healed = await waitFor('MinIO to heal the replaced drive', async () => {
      const text = fs.readFileSync(minioLog, 'utf8').slice(logBefore);
      return /Healing of drive '[^']*drive2' is finished \(healed: (\d+)/.exec(text)?.[1];
    }, 180_000, 1000);
    figure(`drive 2 healed: MinIO reported ${healed} objects healed onto the re-created drive; seen ${seconds(Date.now() - lostAt)} after the loss`);
  });
});

describe('the same spec on the Temporal dev server (a private stack, GPU workers as processes of their own)', { skip: SKIP }, () => {
  const devQueues = { cpuQueue: `dev-it-cpu-${process.pid}`, gpuQueue: `dev-it-gpu-${process.pid}` };
  const gpuWorkers = new Map<string, WorkerProcess>();
  let stack: PrivateStack;
  let dev: Target;
  const cacheOf = (name: string) => path.join(stack.dir, 'nodes', name, 'cache');
  /** A GPU worker with its own name and cache, as a cluster node has, one training at a time. */
  const spawnGpu = (name: string) => {
    const worker = stack.spawnWorker('gpu', devQueues, { SWEEP_NODE_NAME: name, SWEEP_CACHE_DIR: cacheOf(name), SWEEP_GPU_CONCURRENCY: '1' });
    gpuWorkers.set(name, worker);
    return worker;
  };

  before(async () => {
    stack = await startPrivateStack();
    const cpu = stack.spawnWorker('cpu', devQueues);
    const gpus = Array.from({ length: GPU_NODES }, (_, i) => spawnGpu(`devgpu${i + 1}`));
    await Promise.all([cpu.ready, ...gpus.map((w) => w.ready)]);
    dev = {
      client: stack.client, s3: stack.s3, bucket: stack.bucket, ...bucketReader(stack.s3, stack.bucket), queues: devQueues,
      nodeOf: (identity) => [...gpuWorkers].find(([, w]) => String(w.pid) === identity.split('@')[0])?.[0],
    };
  });

  after(async () => {
    await stack?.destroy();
  });

  test('a sweep on 3 GPU worker processes: trials per minute; the leaderboard equals the cluster\'s', async () => {
    const began = Date.now();
    const run = await outcome(dev, await assertCompleted(await startSweep('dev-baseline', dev), 'dev server baseline'));
    const ms = Date.now() - began;
    assertSameAsReference(run, 'on the dev server');
    figure(`dev server: baseline sweep (the same spec, 3 GPU worker processes): ${seconds(ms)}, ${trialsPerMinute(ms)}; ` +
      `nodes ${describeNodes(nodesOf(run))}; leaderboard identical to the cluster's`);
  });

  test(`a sweep of ${MANY_TRIALS} short trials on 3 GPU worker processes: trials per minute; every worker trained trials`, async () => {
    figure(`dev server: ${await spreadSweep(dev, 'dev-spread', [...gpuWorkers.keys()])}`);
  });

  test('kill -9 of the GPU worker process training a trial, its cache deleted: the trial resumes on another worker; the leaderboard is identical', async () => {
    const loss = await sweepLosingANode(dev, 'dev-worker-loss', async (node) => {
      const worker = gpuWorkers.get(node)!;
      worker.kill('SIGKILL');
      await worker.exited;
      fs.rmSync(cacheOf(node), { recursive: true, force: true });
    });
    figure(`dev server: GPU worker ${loss.lost.node} killed (kill -9, cache deleted) after epoch ${loss.atKill}/${EPOCHS} of a trial: ${describeLoss(loss)}`);
  });
});
