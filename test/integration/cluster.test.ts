// The cluster profile, run like production on one machine: the Temporal server built from its Go
// module on PostgreSQL, MinIO erasure-coded over 4 drives, and worker nodes in network namespaces of
// their own (infra/cluster-up.sh, infra/nodes-up.sh). A sweep completes on 3 GPU nodes and 1 CPU
// node, and again after kill -9 of the Temporal server, kill -9 of PostgreSQL and the loss of a MinIO
// drive, each mid-sweep. Prints the figures docs/deploy.md reports (lines starting "[figure]").
//
// Opt-in (root, ip netns, PostgreSQL, infra/setup-cluster.sh):  SWEEP_CLUSTER_TESTS=1 npm run test:cluster
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { Leaderboard } from '../../lib/sweep-types';
import { REPO_ROOT, readEnvFile } from '../../platform/config';
import { tinyFlowerDataset, tinySpec, uniqueId } from './harness';
import { Figures, seconds, sleep, waitFor as waitUntil } from './fault-figures';

const ENABLED = process.env.SWEEP_CLUSTER_TESTS === '1';
const SKIP = ENABLED ? false : 'cluster profile test: opt in with SWEEP_CLUSTER_TESTS=1 (root, ip netns, PostgreSQL, infra/setup-cluster.sh)';

const CLUSTER_DIR = process.env.SWEEP_CLUSTER_DIR ?? path.join(process.env.SWEEP_STACK_DIR ?? path.join(REPO_ROOT, '.stack'), 'cluster');
const GPU_NODES = 3;
const CPU_NODES = 1;
const PREFIX = 'it';
const NODES = [...Array.from({ length: GPU_NODES }, (_, i) => `${PREFIX}gpu${i + 1}`), ...Array.from({ length: CPU_NODES }, (_, i) => `${PREFIX}cpu${i + 1}`)];
const queues = { cpuQueue: `cluster-it-cpu-${process.pid}`, gpuQueue: `cluster-it-gpu-${process.pid}` };
/** Epochs per trial: long enough (a few seconds) that a fault lands while trials train. */
const EPOCHS = 60;

let client: Client;
let s3: S3Client;
let bucket: string;
let stackEnv: Record<string, string>;
const figures = new Figures();
const figure = (text: string) => figures.add(text);

/** Waits as fault-figures' waitFor does, with a probe error counting as "not yet" (a server may be down). */
function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000, intervalMs = 250): Promise<T> {
  return waitUntil(what, () => probe().catch(() => undefined), timeoutMs, intervalMs);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Runs infra/<script>; throws with its output when it fails. */
async function infra(script: string, ...args: string[]): Promise<number> {
  const began = Date.now();
  const env = { ...process.env, SWEEP_CLUSTER_DIR: CLUSTER_DIR, SWEEP_CPU_QUEUE: queues.cpuQueue, SWEEP_GPU_QUEUE: queues.gpuQueue, SWEEP_GPU_CONCURRENCY: '1' };
  const { code, out } = await run('bash', [path.join(REPO_ROOT, 'infra', script), ...args], env);
  if (code !== 0) throw new Error(`infra/${script} ${args.join(' ')} failed (exit ${code}):\n${out}`);
  return Date.now() - began;
}

function psql(db: string, sql: string): Promise<string> {
  const password = fs.readFileSync(path.join(CLUSTER_DIR, 'postgres-password'), 'utf8').trim();
  const pgBin = path.dirname(fs.realpathSync(path.join(CLUSTER_DIR, 'bin', 'postgres')));
  const host = stackEnv.TEMPORAL_ADDRESS.split(':')[0];
  const port = process.env.CLUSTER_PG_PORT ?? '5433';
  return run(path.join(pgBin, 'psql'), ['-h', host, '-p', port, '-U', 'temporal', '-d', db, '-tAq', '-c', sql], { ...process.env, PGPASSWORD: password })
    .then(({ code, out }) => { assert.equal(code, 0, out); return out.trim(); });
}

async function spec(name: string): Promise<Record<string, any>> {
  return tinySpec(queues, {
    name,
    reuse: false,
    heartbeatTimeoutSeconds: 10,
    concurrency: GPU_NODES,
    grid: { hidden_units: [16, 32], dropout: [0.3, 0.5], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [EPOCHS] },
  });
}

function startSweep(rawSpec: unknown, prefix: string): Promise<WorkflowHandle> {
  return client.workflow.start('sweepWorkflow', { taskQueue: queues.cpuQueue, workflowId: uniqueId(prefix), args: [rawSpec], workflowExecutionTimeout: '15m' });
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

/** The node each worker identity ("pid@host") belongs to, from the nodes' pid files. */
function nodeOfIdentity(identity: string): string {
  const pid = identity.split('@')[0];
  for (const node of NODES) {
    try {
      if (fs.readFileSync(path.join(CLUSTER_DIR, 'run', `node-${node}.pid`), 'utf8').trim() === pid) return node;
    } catch { /* not running */ }
  }
  return identity;
}

/** Nodes that ran trainTrial for the sweep's trials (the identity of the completing attempt). */
async function trainingNodes(sweep: WorkflowHandle): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const sweepEvents = (await sweep.fetchHistory()).events ?? [];
  for (const e of sweepEvents) {
    const trial = e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId;
    if (!trial) continue;
    const events = (await client.workflow.getHandle(trial).fetchHistory()).events ?? [];
    const scheduled = new Map(events.filter((x) => x.activityTaskScheduledEventAttributes).map((x) => [String(x.eventId), x.activityTaskScheduledEventAttributes!.activityType?.name]));
    for (const x of events) {
      const started = x.activityTaskStartedEventAttributes;
      if (started && scheduled.get(String(started.scheduledEventId)) === 'trainTrial') {
        const node = nodeOfIdentity(started.identity ?? '?');
        counts.set(node, (counts.get(node) ?? 0) + 1);
      }
    }
  }
  return counts;
}

async function assertCompleted(sweep: WorkflowHandle, what: string): Promise<Leaderboard> {
  const board = await sweep.result() as Leaderboard;
  assert.equal(board.status, 'completed', what);
  assert.deepEqual(board.failed, [], `${what}: no trial failed`);
  assert.equal(board.ranked.length, 4, `${what}: all 4 trials ranked`);
  return board;
}

interface Listed { etag: string; modified: number }

/** Every object in the bucket with its ETag (the MD5 of the content for single-part uploads). */
async function listObjects(): Promise<Map<string, Listed>> {
  const objects = new Map<string, Listed>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
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

describe('cluster profile: real Temporal server on PostgreSQL, erasure-coded MinIO, nodes in network namespaces', { skip: SKIP }, () => {
  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the cluster test needs root (bridge, network namespaces, PostgreSQL as the postgres user)');
    await tinyFlowerDataset();
    const upMs = await infra('cluster-up.sh');
    figure(`cluster-up.sh (PostgreSQL + schemas, temporal-server, MinIO 4 drives; already-running parts kept): ${seconds(upMs)}`);
    stackEnv = readEnvFile(path.join(CLUSTER_DIR, 'stack.env'));
    const connection = await Connection.connect({ address: stackEnv.TEMPORAL_ADDRESS });
    client = new Client({ connection, namespace: stackEnv.TEMPORAL_NAMESPACE });
    const minio = readEnvFile(path.join(CLUSTER_DIR, 'minio-credentials.env'));
    bucket = stackEnv.S3_BUCKET;
    s3 = new S3Client({
      endpoint: stackEnv.S3_ENDPOINT, region: stackEnv.AWS_REGION, forcePathStyle: true,
      credentials: { accessKeyId: minio.MINIO_ROOT_USER, secretAccessKey: minio.MINIO_ROOT_PASSWORD },
    });
    const nodesMs = await infra('nodes-up.sh', '--gpu', String(GPU_NODES), '--cpu', String(CPU_NODES), '--prefix', PREFIX);
    figure(`nodes-up.sh --gpu ${GPU_NODES} --cpu ${CPU_NODES}: all workers polling after ${seconds(nodesMs)}`);
  });

  after(async () => {
    console.log(figures.summary());
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
    // Each node is alone in its namespace: its only non-loopback address is its own on the bridge.
    for (const node of NODES) {
      const { out } = await run('ip', ['-n', `swc-${node}`, '-4', '-o', 'addr', 'show']);
      const addrs = [...out.matchAll(/inet (\S+)/g)].map((m) => m[1]).filter((a) => !a.startsWith('127.'));
      assert.equal(addrs.length, 1, `${node}: ${out}`);
      assert.ok(addrs[0].startsWith(stackEnv.TEMPORAL_ADDRESS.split(':')[0].replace(/\.1$/, '.')), `${node} has an address in the cluster /24: ${addrs[0]}`);
    }
  });

  test('a sweep completes across 3 GPU nodes; it is in PostgreSQL-backed visibility', async () => {
    const began = Date.now();
    const sweep = await startSweep(await spec('cluster-baseline'), 'cluster-baseline');
    const board = await assertCompleted(sweep, 'baseline');
    const ms = Date.now() - began;
    const nodes = await trainingNodes(sweep);
    figure(`baseline sweep (4 trials x ${EPOCHS} epochs, concurrency ${GPU_NODES}): ${seconds(ms)}, ${(4 / (ms / 60_000)).toFixed(1)} trials/min; ` +
      `trainTrial ran on ${[...nodes].map(([n, c]) => `${n} x${c}`).join(', ')}`);
    assert.ok(nodes.size >= 2, `trials spread over several GPU nodes: ${JSON.stringify([...nodes])}`);
    void board;
    // Visibility: the list API (served from PostgreSQL), a custom search attribute, and the row itself.
    const listed = await waitFor('the sweep in visibility as completed', async () => {
      for await (const w of client.workflow.list({ query: `WorkflowId = '${sweep.workflowId}' AND ExecutionStatus = 'Completed' AND SweepTrialsDone = 4` })) return w;
      return undefined;
    }, 30_000, 500);
    assert.equal(listed.type, 'sweepWorkflow');
    const row = await psql('temporal_visibility', `SELECT status FROM executions_visibility WHERE workflow_id = '${sweep.workflowId}'`);
    assert.equal(row, '2', 'executions_visibility row with status 2 (completed)');
  });

  test('kill -9 of the Temporal server mid-sweep, restarted: the sweep completes', async () => {
    const began = Date.now();
    const sweep = await startSweep(await spec('cluster-temporal-kill'), 'cluster-temporal-kill');
    await trainingNow(sweep);
    const doneBefore = await trialsDone(sweep);
    const killedAt = Date.now();
    await infra('cluster-down.sh', 'temporal', '--kill');
    await sleep(2000);
    await infra('cluster-up.sh', 'temporal', '--no-setup');
    const answering = Date.now() - killedAt;
    const progressed = await waitFor('a trial to complete after the restart', async () => (await trialsDone(sweep)) > doneBefore && Date.now(), 300_000, 500);
    await assertCompleted(sweep, 'after a Temporal server kill -9');
    figure(`temporal-server kill -9 mid-training (${doneBefore}/4 trials done), restarted after 2 s: serving again ${seconds(answering)} after the kill; ` +
      `next trial completed ${seconds(progressed - killedAt)} after the kill; sweep ${seconds(Date.now() - began)}`);
  });

  test('kill -9 of PostgreSQL mid-sweep, restarted: the sweep completes', async () => {
    const began = Date.now();
    const sweep = await startSweep(await spec('cluster-postgres-kill'), 'cluster-postgres-kill');
    await trainingNow(sweep);
    const doneBefore = await trialsDone(sweep);
    const killedAt = Date.now();
    await infra('cluster-down.sh', 'postgres', '--kill');
    await sleep(2000);
    const restartMs = await infra('cluster-up.sh', 'postgres', '--no-setup');
    const answering = Date.now() - killedAt;
    const progressed = await waitFor('a trial to complete after the restart', async () => (await trialsDone(sweep)) > doneBefore && Date.now(), 300_000, 500);
    await assertCompleted(sweep, 'after a PostgreSQL kill -9');
    figure(`PostgreSQL kill -9 mid-training (${doneBefore}/4 trials done), restarted after 2 s (crash recovery + start ${seconds(restartMs)}): accepting connections ` +
      `${seconds(answering)} after the kill; next trial completed ${seconds(progressed - killedAt)} after the kill; sweep ${seconds(Date.now() - began)}`);
  });

  test('a MinIO drive directory deleted mid-sweep: the sweep completes and every object is readable', async () => {
    const began = Date.now();
    const sweep = await startSweep(await spec('cluster-drive-loss'), 'cluster-drive-loss');
    await trainingNow(sweep);
    const before = await listObjects();
    // LastModified has 1 s resolution: anything stamped in this second or later counts as rewritten.
    const snapshotSecond = Math.floor(Date.now() / 1000) * 1000;
    const drive = path.join(CLUSTER_DIR, 'data', 'minio', 'drive2');
    const minioLog = path.join(CLUSTER_DIR, 'logs', 'minio.log');
    const logBefore = fs.statSync(minioLog).size;
    // Out of MinIO's way in one step (it keeps writing there), then gone.
    const lost = `${drive}.lost-${process.pid}`;
    fs.renameSync(drive, lost);
    fs.rmSync(lost, { recursive: true, force: true, maxRetries: 5 });
    const lostAt = Date.now();
    await assertCompleted(sweep, 'after losing a MinIO drive');
    const completedAt = Date.now();
    const after = await listObjects();
    // The sweep rewrites some objects (checkpoints, its trials' results) and deletes superseded
    // checkpoint weights; every other object written before the loss must be there, unchanged.
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
    figure(`MinIO drive 2 of 4 deleted mid-training: sweep completed ${seconds(completedAt - lostAt)} later (sweep ${seconds(completedAt - began)}); ` +
      `all ${after.size} objects (${(bytes / 2 ** 20).toFixed(1)} MiB; ${kept} written before the loss, same ETags) read back from 3 drives in ${seconds(Date.now() - readStarted)}`);
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
