// The sweep's durability guarantees, shown by really breaking things on a private stack (its own
// Temporal dev server and MinIO, workers as separate processes): kill -9 of the training worker, its redeploy (SIGTERM),
// the training worker cut off from Temporal, a Temporal restart, a MinIO outage, the same sweep twice, cancellation, a huge grid, bad files
// and secrets. Each test prints the figures docs/guarantees.md reports (lines starting "[figure]").
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { artifactKeys } from '../../lib/artifact-keys';
import { trialWorkflowId } from '../../lib/live-leaderboard';
import { FeatureShardResult, Leaderboard, TrainResult } from '../../lib/sweep-types';
import type { IngestSummary } from '../../activities/ingest';
import type { PendingActivity, StatusDocument } from '../../cli/status';
import { tinyFlowerDataset, tinySpec, uniqueId, writeTempJson } from './harness';
import { Figures, epochsLasting, metricsOf, trialIdOf } from './fault-figures';
import { seconds, waitFor } from '../waiting';
import { cuttableLink } from './cuttable-link';
import { freePorts } from './free-ports';
import { PrivateStack, WorkerProcess, startPrivateStackWithWorkers } from './private-stack';

/** Whether something accepts TCP connections at host:port. */
function listening(address: string): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), host, () => { socket.destroy(); resolve(true); });
    socket.on('error', () => resolve(false));
  });
}

/**
 * One trial long enough to be interrupted mid-training (5-15 s on tfjs-node on 2 cores); every run of
 * it must give the same numbers. Trials that must outlast a server outage are sized by its pace
 * (epochsLastingHere).
 */
const EPOCHS = 300;
/** The network split's trial: about 25 s here, several heartbeat timeouts. */
const SPLIT_EPOCHS = 900;
const HEARTBEAT_TIMEOUT_S = 5;
const queues = { cpuQueue: 'resilience-cpu', gpuQueue: 'resilience-gpu' };

let stack: PrivateStack;
let cpuWorker: WorkerProcess;
let gpuWorker: WorkerProcess;
const figures = new Figures();
const figure = (text: string) => figures.add(text);

/** The reference trial's spec; `grid` overrides are merged into its grid. */
async function spec(overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const grid = { hidden_units: [32], dropout: [0.5], num_classes: [4], lr: [0.01], batch_size: [2], n_epochs: [EPOCHS] };
  return tinySpec(queues, {
    name: 'resilience',
    reuse: false,
    heartbeatTimeoutSeconds: HEARTBEAT_TIMEOUT_S,
    // Checkpoints a few epochs apart: kills land between them, as they do with the default interval.
    checkpointEverySeconds: 0.25,
    concurrency: 1,
    ...overrides,
    grid: { ...grid, ...(overrides.grid as object | undefined) },
  });
}

function startSweep(rawSpec: unknown, prefix: string): Promise<WorkflowHandle> {
  return stack.client.workflow.start('sweepWorkflow', { taskQueue: queues.cpuQueue, workflowId: uniqueId(prefix), args: [rawSpec], workflowExecutionTimeout: '5m' });
}

interface Checkpoint { sweepId: string; epoch: number }

/** Epochs checkpointed by this sweep's attempts so far (0 before the first, or while another sweep's checkpoint is there). */
async function checkpointedEpochs(trialId: string, sweepId: string): Promise<number> {
  const checkpoint = await stack.getJson<Checkpoint>(artifactKeys.trialCheckpoint(trialId));
  return checkpoint?.sweepId === sweepId ? checkpoint.epoch : 0;
}

/** The (only) running trial workflow of a sweep. */
async function runningTrial(sweep: WorkflowHandle): Promise<string> {
  return waitFor('a running trial', async () => {
    const workflowId = (await sweep.describe()).raw.pendingChildren?.[0]?.workflowId;
    // A child the sweep has initiated but the server not yet started has no history to read.
    return workflowId ? stack.client.workflow.getHandle(workflowId).describe().then(() => workflowId, () => undefined) : undefined;
  });
}

/**
 * Polls `sweep status --json` until an activity of the sweep or its trials is being retried with a
 * last failure matching `why`, and checks the plain-text status says so too.
 */
async function statusSaysWhy(sweep: WorkflowHandle, why: RegExp): Promise<PendingActivity> {
  const failing = await waitFor(`\`sweep status\` to report a retried activity failing with ${why}`, async () => {
    const out = await stack.cli(['status', sweep.workflowId, '--json']);
    assert.equal(out.code, 0, out.stderr);
    return (JSON.parse(out.stdout) as StatusDocument).pendingActivities?.find((a) => a.attempt > 1 && why.test(a.lastFailure ?? ''));
  }, 60_000, 500);
  const text = await stack.cli(['status', sweep.workflowId]);
  assert.match(text.stdout, new RegExp(`retrying ${failing.activity} .*attempt \\d+: last failure: .*${why.source}`));
  return failing;
}

/** Every completed activity of `type` in a workflow's history, with its decoded result. */
async function activityResults<T>(handle: WorkflowHandle, type: string): Promise<T[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [Number(e.eventId), e.activityTaskScheduledEventAttributes!.activityType?.name]));
  return events
    .filter((e) => e.activityTaskCompletedEventAttributes && scheduled.get(Number(e.activityTaskCompletedEventAttributes.scheduledEventId)) === type)
    .map((e) => defaultPayloadConverter.fromPayload<T>(e.activityTaskCompletedEventAttributes!.result!.payloads![0]));
}

/** Every string in a decoded protobuf message, with byte fields (payload data) read as UTF-8. */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value && typeof value === 'object') return Object.values(value).map(textOf).join('\n');
  return '';
}

interface RunOutcome {
  board: Leaderboard;
  result: TrainResult;
  head: Buffer;
}

async function outcome(board: Leaderboard): Promise<RunOutcome> {
  const trialId = board.ranked[0].trialId;
  const result = (await stack.getJson<TrainResult>(artifactKeys.trialResult(trialId)))!;
  return { board, result, head: await stack.getBytes(result.headKey) };
}

/** The run lost nothing: same epochs, metrics, final weights and test scores as the uninterrupted one. */
function assertSameAsReference(run: RunOutcome, what: string, uninterrupted = reference): void {
  assert.equal(run.board.status, 'completed');
  assert.deepEqual(run.board.failed, [], `${what}: no trial failed`);
  assert.equal(run.result.epochs.length, uninterrupted.result.epochs.length, `${what}: every epoch is in the results`);
  assert.deepEqual(run.result.epochs.map((e) => e.epoch), uninterrupted.result.epochs.map((e) => e.epoch));
  assert.deepEqual(metricsOf(run.result.epochs), metricsOf(uninterrupted.result.epochs), `${what}: per-epoch metrics equal the uninterrupted run's`);
  assert.ok(run.head.equals(uninterrupted.head), `${what}: final weights equal the uninterrupted run's, bit for bit`);
  assert.deepEqual(run.board.ranked[0].test, uninterrupted.board.ranked[0].test, `${what}: test-set scores equal`);
}

let reference: RunOutcome;
let referenceSweep: WorkflowHandle;

/** Epochs for a trial that trains for about `seconds` here, at the reference trial's pace. */
const epochsLastingHere = (seconds: number) => epochsLasting(seconds, reference.result.epochs);

before(async () => {
  await tinyFlowerDataset();
  ({ stack, cpuWorker, gpuWorker } = await startPrivateStackWithWorkers(queues));
});

after(async () => {
  console.log(figures.summary());
  if (!stack) return;
  // What the workers and the CLI printed, for when a test fails.
  const log = path.join(os.tmpdir(), 'resilience-test-processes.log');
  fs.writeFileSync(log, stack.allOutput());
  console.log(`worker and CLI output: ${log}`);
  await stack.destroy();
});

describe('crashes and outages lose nothing', () => {
  test('reference: the trial run without interruption', async () => {
    const began = Date.now();
    referenceSweep = await startSweep(await spec(), 'res-reference');
    reference = await outcome(await referenceSweep.result());
    assert.equal(reference.result.epochs.length, EPOCHS);
    assert.equal(reference.result.resumedFromEpoch, 0);
    figure(`reference sweep (1 trial, ${EPOCHS} epochs, backend ${reference.result.backend}): ${seconds(Date.now() - began)}`);
  });

  test('kill -9 of the training worker mid-trial: a new worker resumes from the last checkpoint, exactly', async () => {
    const trialId = reference.result.trialId;
    const sweep = await startSweep(await spec(), 'res-kill');
    const trialWorkflowId = await runningTrial(sweep);
    await waitFor('two checkpointed epochs', async () => (await checkpointedEpochs(trialId, sweep.workflowId)) >= 2);
    gpuWorker.kill('SIGKILL');
    const killedAt = Date.now();
    await gpuWorker.exited;
    gpuWorker = stack.spawnWorker('gpu', queues);
    // Nothing writes after the kill, so this is the last checkpoint the dead worker left.
    const savedBeforeKill = await checkpointedEpochs(trialId, sweep.workflowId);
    assert.ok(savedBeforeKill >= 2 && savedBeforeKill < EPOCHS, `killed mid-trial (after epoch ${savedBeforeKill} of ${EPOCHS})`);

    await gpuWorker.ready;
    const workerReadyMs = Date.now() - killedAt;
    const retriedAt = await waitFor('the retry attempt to start', async () => {
      const activity = (await stack.client.workflow.getHandle(trialWorkflowId).describe()).raw.pendingActivities?.[0];
      return activity && (activity.attempt ?? 0) > 1 && activity.lastStartedTime ? Date.now() : undefined;
    }, 60_000, 200);
    const resumedAt = await waitFor('a new checkpoint after the kill', async () => (await checkpointedEpochs(trialId, sweep.workflowId)) > savedBeforeKill && Date.now());

    const run = await outcome(await sweep.result());
    assert.equal(run.result.resumedFromEpoch, savedBeforeKill, 'the retry started from the last checkpoint, not from epoch 0');
    assert.equal(run.board.ranked[0].resumedFromEpoch, savedBeforeKill);
    assertSameAsReference(run, 'killed trial');
    figure(`kill -9 of the GPU worker after epoch ${savedBeforeKill}/${EPOCHS}: resumed from epoch ${run.result.resumedFromEpoch}; ` +
      'epochs recomputed: at most the 1 in progress (the attempt restarts at the last checkpoint written before the kill)');
    figure(`kill -> new worker polling ${seconds(workerReadyMs)}; kill -> retry attempt started ${seconds(retriedAt - killedAt)} ` +
      `(heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s); kill -> first new epoch checkpointed ${seconds(resumedAt - killedAt)}`);
  });

  test('the training worker redeployed (SIGTERM) mid-trial: the attempt stores the epochs it finished, the process exits within 30 s, and the retry resumes after them, exactly', async () => {
    const trialId = reference.result.trialId;
    // No periodic checkpoint in this trial's time: a stored epoch can only come from the redeploy's stop.
    const sweep = await startSweep(await spec({ checkpointEverySeconds: 3600 }), 'res-redeploy');
    const trialWorkflowId = await runningTrial(sweep);
    await waitFor('the trial training', async () => (await stack.client.workflow.getHandle(trialWorkflowId).describe()).raw.pendingActivities?.[0]?.lastStartedTime);
    await sleep(2_000);
    assert.equal(await checkpointedEpochs(trialId, sweep.workflowId), 0, 'no checkpoint before the redeploy');
    gpuWorker.kill('SIGTERM');
    const stoppedAt = Date.now();
    const code = await gpuWorker.exited;
    const drainedMs = Date.now() - stoppedAt;
    assert.equal(code, 0, 'the redeployed worker exits cleanly');
    assert.ok(drainedMs < 30_000, `the redeployed worker exited ${seconds(drainedMs)} after SIGTERM`);
    const savedAtStop = await checkpointedEpochs(trialId, sweep.workflowId);
    assert.ok(savedAtStop > 0 && savedAtStop < EPOCHS, `the stopped attempt stored the epochs it finished (${savedAtStop} of ${EPOCHS})`);
    gpuWorker = stack.spawnWorker('gpu', queues);
    await gpuWorker.ready;
    const run = await outcome(await sweep.result());
    assert.equal(run.result.trialId, trialId);
    assert.equal(run.result.resumedFromEpoch, savedAtStop, 'the retry resumed after the epochs stored at the stop');
    assertSameAsReference(run, 'redeployed trial');
    figure(`SIGTERM of the GPU worker (checkpoints every 3600 s, none yet): it stored epoch ${savedAtStop}/${EPOCHS} and exited ${seconds(drainedMs)} after the signal; ` +
      `the retry resumed from epoch ${run.result.resumedFromEpoch}`);
  });

  test('a training worker cut off from Temporal mid-trial, still reaching S3 (a network split): it stops training by itself within its heartbeat timeout; a retry on another worker resumes where it stopped, exactly', async () => {
    // Long enough that the attempt could not finish within its heartbeat timeout of the cut, on a fast machine too.
    const longSpec = await spec({ grid: { n_epochs: [SPLIT_EPOCHS] } });
    const uninterrupted = await outcome(await (await startSweep(longSpec, 'res-split-reference')).result());
    const trialId = uninterrupted.result.trialId;
    // The trial starts on the worker that will be cut off: the other GPU worker is stopped until it has stopped.
    gpuWorker.kill('SIGTERM');
    await gpuWorker.exited;
    const link = await cuttableLink(stack.env.TEMPORAL_ADDRESS!);
    const cutOff = stack.spawnWorker('gpu', queues, { TEMPORAL_ADDRESS: link.address, SWEEP_NODE_NAME: 'cut-off' });
    let restarted = false;
    try {
      await cutOff.ready;
      const sweep = await startSweep(longSpec, 'res-split');
      await waitFor('two checkpointed epochs', async () => (await checkpointedEpochs(trialId, sweep.workflowId)) >= 2);
      link.cut();
      const cutAt = Date.now();
      // No other worker runs the trial yet, so nothing but the attempt itself can stop its checkpoints.
      let last = { epoch: await checkpointedEpochs(trialId, sweep.workflowId), afterMs: 0 };
      await waitFor('the cut-off attempt to stop checkpointing', async () => {
        const epoch = await checkpointedEpochs(trialId, sweep.workflowId);
        if (epoch !== last.epoch) last = { epoch, afterMs: Date.now() - cutAt };
        return Date.now() - cutAt - last.afterMs > 3000;
      }, 60_000, 100);
      assert.ok(last.epoch < SPLIT_EPOCHS, `it stopped mid-trial (epoch ${last.epoch} of ${SPLIT_EPOCHS})`);
      // Silence is measured by probes every 0.5 s that give up after 2 s; then the batch in progress ends.
      assert.ok(last.afterMs < (HEARTBEAT_TIMEOUT_S + 3) * 1000, `its last checkpoint ${seconds(last.afterMs)} after the cut, within its heartbeat timeout (${HEARTBEAT_TIMEOUT_S} s) and a probe's`);
      gpuWorker = stack.spawnWorker('gpu', queues);
      restarted = true;
      const run = await outcome(await sweep.result());
      assert.notEqual(run.result.node, 'cut-off', 'the retry finished the trial on the worker that reaches Temporal');
      assert.equal(run.result.resumedFromEpoch, last.epoch, 'the retry resumed from the cut-off attempt\'s last checkpoint');
      assertSameAsReference(run, 'trial across a network split', uninterrupted);
      figure(`GPU worker cut off from Temporal (S3 reachable) mid-trial: its attempt checkpointed epoch ${last.epoch} of ${SPLIT_EPOCHS} ${seconds(last.afterMs)} after the cut, then stopped ` +
        `(heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s); the retry on the other worker resumed from epoch ${run.result.resumedFromEpoch}; results identical to an uninterrupted run`);
    } finally {
      link.heal();
      cutOff.kill('SIGKILL');
      await cutOff.exited;
      await link.close();
      if (!restarted) gpuWorker = stack.spawnWorker('gpu', queues);
      await gpuWorker.ready;
    }
  });

  test('a training worker cut off from S3 mid-trial, still reaching Temporal: it stops taking tasks, its attempt fails at once and is retried on another worker, exactly; once S3 answers it takes tasks again', async () => {
    // The default heartbeat timeout of a minute, as long as the S3 client's socket timeout: without the
    // gate the attempt waited for one of them, and the worker could take the retry itself.
    const slowSpec = await spec({ heartbeatTimeoutSeconds: 60 });
    // The default, as a node runs (a shorter setting probes more often and hid a bug once: the process exited while S3 was lost).
    const unreachableAfterS = 10;
    gpuWorker.kill('SIGTERM');
    await gpuWorker.exited;
    const link = await cuttableLink(new URL(stack.env.S3_ENDPOINT!).host);
    // It serves its metrics for Prometheus: sweep_s3_reachable says what its log says.
    const [metricsPort] = await freePorts(1);
    const cutOffEnv = { S3_ENDPOINT: `http://${link.address}`, SWEEP_NODE_NAME: 's3-cut-off', SWEEP_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` };
    const s3Reachable = async () => /^sweep_s3_reachable\{node="s3-cut-off"\} (\d)$/m.exec(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())?.[1];
    const cutOff = stack.spawnWorker('gpu', queues, cutOffEnv);
    let cutOffExited = false;
    void cutOff.exited.then(() => { cutOffExited = true; });
    let other: WorkerProcess | undefined;
    try {
      await cutOff.ready;
      assert.equal(await s3Reachable(), '1');
      const sweep = await startSweep(slowSpec, 'res-s3-split');
      await waitFor('two checkpointed epochs', async () => (await checkpointedEpochs(reference.result.trialId, sweep.workflowId)) >= 2);
      link.cut();
      const cutAt = Date.now();
      const stoppedAfterMs = await waitFor('the cut-off worker to stop taking tasks', async () => (/shutting the GPU worker down/.test(cutOff.output()) ? Date.now() - cutAt : undefined), 30_000, 100);
      // Two probes of at most half that each must go unanswered, one a second.
      assert.ok(stoppedAfterMs < (unreachableAfterS + 4) * 1000, `it stopped taking tasks ${seconds(stoppedAfterMs)} after the cut (SWEEP_S3_UNREACHABLE_AFTER_S=${unreachableAfterS})`);
      assert.equal(await s3Reachable(), '0', 'its metrics say it has lost S3');
      const failing = await statusSaysWhy(sweep, /has not answered this worker/);
      // The attempt has failed and its retry waits: without the gate it held the trial until the socket or
      // heartbeat timeout (60 s).
      const failedAfterMs = Date.now() - cutAt;
      assert.ok(failedAfterMs < 30_000, `the cut-off attempt had failed ${seconds(failedAfterMs)} after the cut, well within the 60 s timeouts`);
      // With no other GPU worker, status names the queue, and the worker that shut down on it. Run alone,
      // within 3 s of showing the failed attempt; in the whole file's run about 40 s after it: the test
      // before kills its worker right after a 30 s outage, whose last heartbeat names a 30 s interval and
      // counts as live for 70 s (docs/guarantees.md), hence the long wait.
      const gone = await waitFor('status to name the GPU worker that shut down', async () => {
        const doc = JSON.parse((await stack.cli(['status', sweep.workflowId, '--json'])).stdout) as StatusDocument;
        return doc.waitingForWorkers?.find((w) => w.role === 'gpu' && w.taskQueue === queues.gpuQueue)?.gone?.[0];
      }, 180_000, 500);
      assert.equal(gone.how, 'shut down');
      assert.match(gone.identity, new RegExp(`^${cutOff.pid}@`));
      const goneText = await stack.cli(['status', sweep.workflowId]);
      assert.match(goneText.stdout, new RegExp(`\n {2}gpu queue "${queues.gpuQueue}": feature extraction and training\n {4}its last workers?: ${cutOff.pid}@\\S+ shut down at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC[;( ].*stopped, redeployed, or shut down until S3 answers it again: its log says which`));
      // Started once status has said so; its start-up counts in the times below.
      const otherStartedAfterMs = Date.now() - cutAt;
      other = stack.spawnWorker('gpu', queues);
      const run = await outcome(await sweep.result());
      const endedAfterMs = Date.now() - cutAt;
      assert.notEqual(run.result.node, 's3-cut-off', 'the retry finished the trial on the worker that reaches S3');
      assertSameAsReference(run, 'trial across a split from S3');
      // The retry waits for no timeout: the trial resumes as soon as the other worker polls.
      assert.ok(endedAfterMs - otherStartedAfterMs < 30_000, `the sweep ended ${seconds(endedAfterMs - otherStartedAfterMs)} after the other worker was started (${seconds(otherStartedAfterMs)} after the cut), its start-up included`);

      assert.equal(cutOffExited, false, 'the cut-off worker process waits for S3 to answer; it does not exit');
      link.heal();
      const healedAt = Date.now();
      await other.ready;
      await waitFor('the cut-off worker to take tasks again', async () => /takes tasks again/.test(cutOff.output()), 30_000, 100);
      const backAfterMs = Date.now() - healedAt;
      assert.equal(await s3Reachable(), '1', 'its metrics say it reaches S3 again');
      other.kill('SIGTERM');
      await other.exited;
      other = undefined;
      const again = await outcome(await (await startSweep(await spec({ grid: { n_epochs: [3] } }), 'res-s3-healed')).result());
      assert.equal(again.result.node, 's3-cut-off', 'the worker that lost S3 serves again once S3 answers');
      figure(`GPU worker cut off from S3 (Temporal reachable) mid-trial, SWEEP_S3_UNREACHABLE_AFTER_S=${unreachableAfterS}, heartbeat timeout 60 s: it stopped taking tasks ` +
        `${seconds(stoppedAfterMs)} after the cut; status showed "${failing.activity} attempt ${failing.attempt}: ${failing.lastFailure}" ${seconds(failedAfterMs)} after it, and named the worker that shut down; the retry on the other worker (started ${seconds(otherStartedAfterMs)} after the cut) resumed from ` +
        `epoch ${run.result.resumedFromEpoch} and the sweep ended ${seconds(endedAfterMs)} after the cut, results identical; after the heal it took tasks again within ${seconds(backAfterMs)}`);
    } finally {
      link.heal();
      cutOff.kill('SIGKILL');
      await cutOff.exited;
      await link.close();
      gpuWorker = other ?? stack.spawnWorker('gpu', queues);
      await gpuWorker.ready;
    }
  });

  test('a CPU worker cut off from S3, still reaching Temporal: its steps stop, its workflows and their queries go on; another CPU worker takes the steps, and once S3 answers it takes them again', async () => {
    const unreachableAfterS = 10;
    cpuWorker.kill('SIGTERM');
    await cpuWorker.exited;
    const link = await cuttableLink(new URL(stack.env.S3_ENDPOINT!).host);
    const cutOff = stack.spawnWorker('cpu', queues, { S3_ENDPOINT: `http://${link.address}` });
    let other: WorkerProcess | undefined;
    try {
      await cutOff.ready;
      link.cut();
      const cutAt = Date.now();
      const stoppedAfterMs = await waitFor('the cut-off worker to stop taking steps', async () => (/shutting the CPU step worker down/.test(cutOff.output()) ? Date.now() - cutAt : undefined), 30_000, 100);
      assert.ok(stoppedAfterMs < (unreachableAfterS + 4) * 1000, `it stopped taking steps ${seconds(stoppedAfterMs)} after the cut (SWEEP_S3_UNREACHABLE_AFTER_S=${unreachableAfterS})`);
      // The only CPU worker runs the sweep's workflow tasks; its first step (ingest) waits on the queue, not in the cut-off worker.
      const sweep = await startSweep(await spec(), 'res-cpu-s3-split');
      const waiting = await waitFor('status to answer and say the CPU steps wait for a worker', async () => {
        const out = await stack.cli(['status', sweep.workflowId, '--json']);
        assert.equal(out.code, 0, out.stderr);
        const doc = JSON.parse(out.stdout) as StatusDocument;
        return doc.unanswered === undefined && doc.waitingForWorkers?.some((w) => w.role === 'cpu' && w.taskQueue === queues.cpuQueue) ? doc : undefined;
      }, 60_000, 500);
      assert.equal(waiting.stage, 'ingesting', 'the sweep\'s query was answered by the cut-off process');
      const text = await stack.cli(['status', sweep.workflowId]);
      assert.match(text.stdout, new RegExp(`no running worker serves this queue.*\\n  cpu queue "${queues.cpuQueue}": ingest, balance, split, ranking; its CPU workers run the sweep but take none of its steps: a CPU worker that has lost S3`, 's'));
      const [ingest] = (await sweep.describe()).raw.pendingActivities ?? [];
      assert.equal(ingest?.activityType?.name, 'ingestDataset');
      assert.equal(ingest.lastStartedTime, null, 'no attempt of the step started on the cut-off worker');

      const otherAt = Date.now();
      other = stack.spawnWorker('cpu', queues);
      const run = await outcome(await sweep.result());
      const endedAfterMs = Date.now() - otherAt;
      assertSameAsReference(run, 'sweep whose CPU worker lost S3');
      // Every CPU step ran on the other worker; the sweep's workflow tasks ran on the cut-off one too (sticky to it).
      const histories = await Promise.all([sweep, stack.client.workflow.getHandle(trialWorkflowId(sweep.workflowId, run.board.ranked[0].run))].map(async (h) => (await h.fetchHistory()).events ?? []));
      const cutOffIdentity = new RegExp(`^${cutOff.pid}@`);
      const stepsOnCutOff = histories.flat().filter((e) => cutOffIdentity.test(e.activityTaskStartedEventAttributes?.identity ?? ''));
      const workflowTasksOnCutOff = histories[0].filter((e) => cutOffIdentity.test(e.workflowTaskStartedEventAttributes?.identity ?? ''));
      assert.equal(stepsOnCutOff.length, 0, 'no step started on the worker cut off from S3');
      assert.ok(workflowTasksOnCutOff.length >= 2, `the cut-off worker ran the sweep's workflow tasks (${workflowTasksOnCutOff.length})`);

      link.heal();
      const healedAt = Date.now();
      await waitFor('the cut-off worker to take steps again', async () => /the CPU step worker takes tasks again/.test(cutOff.output()), 30_000, 100);
      const backAfterMs = Date.now() - healedAt;
      other.kill('SIGTERM');
      await other.exited;
      other = undefined;
      const again = await (await startSweep(await spec({ grid: { n_epochs: [3] } }), 'res-cpu-s3-healed')).result() as Leaderboard;
      assert.equal(again.status, 'completed', 'the worker that lost S3 serves its steps again once S3 answers');
      figure(`CPU worker cut off from S3 (Temporal reachable), SWEEP_S3_UNREACHABLE_AFTER_S=${unreachableAfterS}: its step worker stopped taking steps ${seconds(stoppedAfterMs)} after the cut; ` +
        `a sweep started then was answered by its workflows (stage ${waiting.stage}, "waiting for a worker" on the CPU queue) and ran ${workflowTasksOnCutOff.length} workflow tasks there; ` +
        `another CPU worker took every step and the sweep ended ${seconds(endedAfterMs)} after that worker was started, results identical; after the heal it took steps again within ${seconds(backAfterMs)}`);
    } finally {
      link.heal();
      other?.kill('SIGKILL');
      cutOff.kill('SIGKILL');
      await Promise.all([cutOff.exited, other?.exited]);
      await link.close();
      cpuWorker = stack.spawnWorker('cpu', queues);
      await cpuWorker.ready;
    }
  });

  test('a Temporal server killed (kill -9) and restarted mid-training: the sweep continues and completes', async () => {
    // Long enough to train on through the outage and stack-up's checks after it (seen: 3.5 s down,
    // 317 epochs of 1,800 sized for 20 s checkpointed when it was back).
    const epochs = epochsLastingHere(12);
    const longSpec = await spec({ grid: { n_epochs: [epochs] } });
    const uninterrupted = await outcome(await (await startSweep(longSpec, 'res-temporal-reference')).result());
    const sweep = await startSweep(longSpec, 'res-temporal');
    await waitFor('training to start', async () => (await checkpointedEpochs(uninterrupted.result.trialId, sweep.workflowId)) >= 1);
    const stoppedAt = Date.now();
    await stack.down('temporal', { kill: true });
    await sleep(3000);
    await stack.up('temporal');
    const downMs = Date.now() - stoppedAt;
    const atRestart = await checkpointedEpochs(uninterrupted.result.trialId, sweep.workflowId);
    assert.ok(atRestart < epochs, `the server was back while the trial still trained (${atRestart}/${epochs} epochs checkpointed)`);
    const run = await outcome(await sweep.result());
    assertSameAsReference(run, 'trial across a Temporal restart', uninterrupted);
    figure(`Temporal dev server killed (SIGKILL) and restarted (same SQLite file) mid-training: down ${seconds(downMs)}, ${atRestart}/${epochs} epochs ` +
      `checkpointed when it was back; sweep completed, resumedFromEpoch ${run.result.resumedFromEpoch}, results identical to the reference`);
  });

  test('MinIO down mid-training: activities retry, status says why, the sweep completes with nothing lost', async () => {
    const sweep = await startSweep(await spec(), 'res-minio');
    await waitFor('training to start', async () => (await checkpointedEpochs(reference.result.trialId, sweep.workflowId)) >= 1);
    const stoppedAt = Date.now();
    await stack.down('minio');
    let failing: PendingActivity;
    try {
      failing = await statusSaysWhy(sweep, /ECONNREFUSED/);
    } finally {
      await sleep(Math.max(0, 5000 - (Date.now() - stoppedAt)));
      await stack.up('minio');
    }
    const downMs = Date.now() - stoppedAt;
    const run = await outcome(await sweep.result());
    assertSameAsReference(run, 'trial across a MinIO outage');
    figure(`MinIO stopped mid-training for ${seconds(downMs)}: status showed "${failing.activity} attempt ${failing.attempt}: ${failing.lastFailure}"; ` +
      `sweep completed, resumedFromEpoch ${run.result.resumedFromEpoch}, results identical to the reference`);
  });
});

describe('idempotent steps', () => {
  test('the same sweep started twice: the second run reuses every trial and computes nothing', async () => {
    // A seed no other test uses, so the first run really computes features and trains.
    const same = await spec({ reuse: true, seed: 21, grid: { hidden_units: [16, 32], n_epochs: [3] } });
    const first = await startSweep(same, 'res-twice');
    const firstBoard = await first.result() as Leaderboard;
    assert.equal(firstBoard.reusedTrials, 0);
    assert.ok((await activityResults<FeatureShardResult>(first, 'extractFeatures')).some((r) => r.computed), 'the first run computed features');
    const resultKeys = firstBoard.ranked.map((t) => artifactKeys.trialResult(t.trialId));
    const writtenBefore = await Promise.all(resultKeys.map((k) => stack.lastModified(k)));

    const second = await startSweep(same, 'res-twice');
    const secondBoard = await second.result() as Leaderboard;
    assert.equal(secondBoard.ranked.length, 2);
    assert.equal(secondBoard.reusedTrials, secondBoard.ranked.length, 'every trial reused');
    assert.ok(secondBoard.ranked.every((t) => t.reused && t.resumedFromEpoch === 0));
    const shards = await activityResults<FeatureShardResult>(second, 'extractFeatures');
    assert.ok(shards.length > 0 && shards.every((r) => !r.computed), 'no feature shard recomputed');
    assert.deepEqual(await Promise.all(resultKeys.map((k) => stack.lastModified(k))), writtenBefore, 'no trial result rewritten: nothing trained');
    const strip = (b: Leaderboard) => b.ranked.map(({ reused: _r, ...t }) => t);
    assert.deepEqual(strip(secondBoard), strip(firstBoard));
    figure(`same sweep started twice: second run reused ${secondBoard.reusedTrials}/${secondBoard.ranked.length} trials, recomputed 0/${shards.length} feature shards`);
  });
});

describe('bad input', () => {
  test('a huge grid is refused before any work, with the count', async () => {
    const huge = await spec({ name: uniqueId('res-huge'), grid: { hidden_units: [8, 16, 32, 64, 128, 256, 512, 1024], dropout: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], lr: [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001, 0.00003] } });
    const cli = await stack.cli(['start', writeTempJson(huge)]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /grid: 512 permutations is more than maxTrials \(256\); shrink the grid or raise maxTrials/);
    // Started behind the CLI's back, the workflow refuses it as its first step.
    const handle = await startSweep(huge, huge.name);
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      let message = '';
      for (let e: any = error; e; e = e.cause) message += ` ${e.message}`;
      assert.match(message, /512 permutations is more than maxTrials \(256\)/);
      return true;
    });
    const events = (await handle.fetchHistory()).events ?? [];
    assert.ok(!events.some((e) => e.activityTaskScheduledEventAttributes || e.startChildWorkflowExecutionInitiatedEventAttributes), 'no activity or trial was started');
    figure('a 512-trial grid (maxTrials 256): refused by `sweep start` (exit 2) and by the workflow before any activity, with the count');
  });

  test('unreadable and non-image files are skipped and counted; the rest of the sweep runs', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'resilience-bad-data-'));
    fs.cpSync(await tinyFlowerDataset(), data, { recursive: true });
    const daisy = path.join(data, 'daisy');
    const sample = fs.readFileSync(path.join(daisy, fs.readdirSync(daisy).find((f) => f.endsWith('.jpg'))!));
    fs.writeFileSync(path.join(daisy, 'truncated.jpg'), sample.subarray(0, sample.length / 3));
    fs.writeFileSync(path.join(data, 'rose', 'not-an-image.png'), 'this is text, not a PNG\n');
    fs.writeFileSync(path.join(data, 'tulip', 'empty.jpg'), Buffer.alloc(0));
    const handle = await startSweep(await spec({ reuse: true, data: { source: data }, grid: { n_epochs: [2] } }), 'res-bad-files');
    const board = await handle.result() as Leaderboard;
    fs.rmSync(data, { recursive: true, force: true });
    const [ingest] = await activityResults<IngestSummary>(handle, 'ingestDataset');
    const [clean] = await activityResults<IngestSummary>(referenceSweep, 'ingestDataset');
    assert.equal(ingest.skipped, clean.skipped + 3, JSON.stringify(ingest.skippedByReason));
    assert.equal(ingest.skippedByReason['unreadable image'], (clean.skippedByReason['unreadable image'] ?? 0) + 3);
    assert.deepEqual(ingest.counts, clean.counts, 'every good image is kept');
    assert.equal(board.status, 'completed');
    assert.equal(board.ranked.length, 1);
    assert.equal(board.ranked[0].epochsDone, 2);
    figure(`bad files in the data (truncated JPEG, text named .png, empty .jpg): skipped and counted ${JSON.stringify(ingest.skippedByReason)}; sweep completed`);
  });

  test('cancel: running trials stop promptly, finished results and checkpoints stay, a partial leaderboard is written', async () => {
    // Run 1 is short and finishes; run 2 is long enough to be training whatever the machine's speed.
    const cancelSpec = await spec({ seed: 33, grid: { n_epochs: [3, 1000] } });
    // At the default heartbeat timeout (60 s), so promptness does not hinge on a short one.
    delete cancelSpec.heartbeatTimeoutSeconds;
    const sweep = await startSweep(cancelSpec, 'res-cancel');
    const [done] = await waitFor('the first trial to finish', async () => {
      const { trials } = await sweep.query<{ trials: Array<{ trialId: string }> }>('progress');
      return trials.length ? trials : undefined;
    }, 120_000, 200);
    const trialId = await trialIdOf(stack.client.workflow.getHandle(await runningTrial(sweep)));
    await waitFor('the second trial to checkpoint', async () => (await checkpointedEpochs(trialId, sweep.workflowId)) >= 1);
    // Follow the running trial's checkpoint from before the request, to see when training stops.
    let epoch = await checkpointedEpochs(trialId, sweep.workflowId);
    let lastChange = Date.now();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        await sleep(100);
        const now = await checkpointedEpochs(trialId, sweep.workflowId);
        if (now !== epoch) { epoch = now; lastChange = Date.now(); }
      }
    })();
    const requestedAt = Date.now();
    const cancelled = await stack.cli(['cancel', sweep.workflowId]);
    const cliMs = Date.now() - requestedAt;
    assert.equal(cancelled.code, 0, cancelled.stderr);
    await assert.rejects(sweep.result(), WorkflowFailedError);
    const closedMs = Date.now() - requestedAt;
    assert.equal((await sweep.describe()).status.name, 'CANCELLED');
    await waitFor('training to stop (no new checkpoint for 3 s)', async () => Date.now() - lastChange > 3000, 60_000);
    watching = false;
    await watcher;
    const stoppedMs = Math.max(0, lastChange - requestedAt);
    assert.ok(epoch >= 1 && epoch < 1000, `the cancelled trial stopped mid-way (epoch ${epoch} of 1000) and its checkpoint is kept`);
    assert.ok(stoppedMs < cliMs + 10_000, `training stopped ${seconds(stoppedMs)} after \`sweep cancel\` was run (the command took ${seconds(cliMs)})`);
    assert.equal(await stack.getJson(artifactKeys.trialResult(trialId)), undefined, 'the cancelled trial has no result');
    assert.ok(await stack.getJson(artifactKeys.trialResult(done.trialId)), 'the finished trial keeps its result');

    const board = (await stack.getJson<Leaderboard>(artifactKeys.sweepResults(sweep.workflowId, 'leaderboard.json')))!;
    assert.equal(board.status, 'cancelled');
    assert.deepEqual(board.ranked.map((t) => t.trialId), [done.trialId]);
    assert.deepEqual(board.failed.map((t) => [t.trialId, t.status]), [[trialId, 'cancelled']]);
    figure(`sweep cancel (heartbeat timeout 60 s, the default): the command took ${seconds(cliMs)}; sweep CANCELLED ${seconds(closedMs)} and the running ` +
      `trial's last checkpoint ${seconds(stoppedMs)} after it was run, at epoch ${epoch}/1000 (checkpoint kept); 1 finished trial kept ` +
      'and ranked in leaderboard.json');
  });

  test('wrong S3 credentials on the GPU worker: its activities retry, status says why, a fixed worker completes the sweep', async () => {
    gpuWorker.kill('SIGKILL');
    await gpuWorker.exited;
    const wrong = path.join(stack.dir, 'wrong-aws-credentials');
    const good = fs.readFileSync(stack.env.AWS_SHARED_CREDENTIALS_FILE!, 'utf8');
    fs.writeFileSync(wrong, good.replace(/aws_secret_access_key = .*/, 'aws_secret_access_key = not-the-secret-key'), { mode: 0o600 });
    gpuWorker = stack.spawnWorker('gpu', queues, { AWS_SHARED_CREDENTIALS_FILE: wrong });
    await gpuWorker.ready;
    const sweep = await startSweep(await spec({ seed: 44, grid: { n_epochs: [2] } }), 'res-wrong-credentials');
    const failing = await statusSaysWhy(sweep, /signature we calculated does not match/);
    gpuWorker.kill('SIGKILL');
    await gpuWorker.exited;
    const fixedAt = Date.now();
    gpuWorker = stack.spawnWorker('gpu', queues);
    const board = await sweep.result() as Leaderboard;
    assert.equal(board.status, 'completed');
    assert.equal(board.ranked[0].epochsDone, 2);
    figure(`wrong S3 secret key on the GPU worker: status showed "${failing.activity} attempt ${failing.attempt}: ${failing.lastFailure}"; ` +
      `after the worker was replaced with a correctly configured one the sweep completed ${seconds(Date.now() - fixedAt)} later`);
  });

  test('secrets: the S3 secret key is in no workflow history, result or log', async () => {
    let histories = 0;
    let haystack = '';
    for await (const execution of stack.client.workflow.list()) {
      const history = await stack.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      haystack += textOf(history);
      histories++;
    }
    assert.ok(histories >= 10, `searched ${histories} histories`);
    assert.ok(haystack.includes(reference.result.trialId), 'payloads were decoded');
    let objects = 0;
    let token: string | undefined;
    do {
      const page = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, ContinuationToken: token }));
      for (const { Key } of page.Contents ?? []) {
        if (!/\.(json|csv|html|txt)$/.test(Key!)) continue;
        haystack += (await stack.getBytes(Key!)).toString('utf8');
        objects++;
      }
      token = page.NextContinuationToken;
    } while (token);
    haystack += stack.allOutput();
    assert.ok(!haystack.includes(stack.secretKey), 'the S3 secret key leaked');
    assert.match(stack.allOutput(), /\[worker\] polling/, 'the search covers worker output');
    figure(`secrets: S3 secret key absent from ${histories} workflow histories, ${objects} result/manifest objects and all worker/CLI output`);
  });
});

describe('overlapping attempts and long Temporal outages', () => {
  // Outages longer than the heartbeat timeout make Temporal start a retry while the old attempt may
  // still train; the 25 s one also outlasts the SDK's own retries in the CLI's wait.
  const OUTAGES_S = [7, 8, 6, 25];

  test('Temporal killed 4 times mid-training (outages 6 to 25 s, heartbeat timeout 5 s): no dangling checkpoint, identical results, and `start --wait` and `watch` see it through', async () => {
    // The outages (46 s) and the restarts between them end while it trains: seen, the loop took 1,609 of
    // 7,200 epochs sized for 90 s (its attempts stop and resume), so 60 s leaves it threefold.
    const chaosEpochs = epochsLastingHere(60);
    const chaosSpec = await spec({ seed: 55, grid: { n_epochs: [chaosEpochs] } });
    const began = Date.now();
    const uninterrupted = await outcome(await (await startSweep(chaosSpec, 'res-chaos-reference')).result());
    const referenceMs = Date.now() - began;
    const trialId = uninterrupted.result.trialId;
    const sweepId = uniqueId('res-chaos');
    const cliEnv = { SWEEP_CPU_QUEUE: queues.cpuQueue, SWEEP_GPU_QUEUE: queues.gpuQueue };
    const waiting = stack.cli(['start', writeTempJson(chaosSpec), '--id', sweepId, '--wait', '--json'], cliEnv);
    await waitFor('training to start', async () => (await checkpointedEpochs(trialId, sweepId)) >= 1);
    const watching = stack.cli(['watch', sweepId, '--plain'], cliEnv);

    // The watcher of the bug report: whenever checkpoint.json names weights that do not exist (read
    // twice with the same ETag around the check, so a pointer moving on is not mistaken for one),
    // kill -9 the training worker, as a node lost at the worst moment.
    let watcherKills = 0;
    let chaos = true;
    const watcher = (async () => {
      while (chaos) {
        await sleep(50);
        const before = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: artifactKeys.trialCheckpoint(trialId) })).catch(() => undefined);
        if (!before) continue;
        const pointer = JSON.parse(await before.Body!.transformToString()) as { weightsKey?: string };
        if (!pointer.weightsKey || (await stack.lastModified(pointer.weightsKey))) continue;
        const after = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: artifactKeys.trialCheckpoint(trialId) })).catch(() => undefined);
        if (after?.ETag !== before.ETag) continue;
        watcherKills++;
        gpuWorker.kill('SIGKILL');
        await gpuWorker.exited;
        gpuWorker = stack.spawnWorker('gpu', queues);
      }
    })();

    const outages: string[] = [];
    try {
      for (const outage of OUTAGES_S) {
        const atKill = await checkpointedEpochs(trialId, sweepId);
        const killedAt = Date.now();
        await stack.down('temporal', { kill: true });
        await sleep(outage * 1000);
        // Read at the moment Temporal listens again: stack-up's own checks after that take seconds on a
        // loaded machine, in which the retry may train hundreds of epochs (once, all of them).
        const restarting = stack.up('temporal');
        await waitFor('Temporal to listen again', () => listening(stack.env.TEMPORAL_ADDRESS!), 120_000, 20);
        const downMs = Date.now() - killedAt;
        const atRestart = await checkpointedEpochs(trialId, sweepId);
        await restarting;
        assert.ok(atRestart < chaosEpochs, `the trial still trained when Temporal came back (${atRestart}/${chaosEpochs})`);
        // Training goes on after the restart (by the old attempt or its retry) before the next kill.
        await waitFor('two more epochs after the restart', async () => (await checkpointedEpochs(trialId, sweepId)) >= atRestart + 2, 120_000);
        outages.push(`${seconds(downMs)} (epochs ${atKill} -> ${atRestart} while down)`);
      }
    } finally {
      chaos = false;
      await watcher;
    }

    const started = await waiting;
    assert.equal(started.code, 0, `sweep start --wait exits 0 with the sweep's outcome:\n${started.stderr}`);
    assert.match(started.stderr, /Temporal at 127\.0\.0\.1:\d+ is unreachable .*waiting for it to come back/);
    assert.match(started.stderr, /Temporal at 127\.0\.0\.1:\d+ is back after \d+ s/);
    const board = JSON.parse(started.stdout) as Leaderboard;
    const watched = await watching;
    assert.equal(watched.code, 0, `sweep watch exits 0:\n${watched.stderr}`);
    assert.match(watched.stdout, /val_acc/, 'watch ends with the final leaderboard');

    const run = await outcome(board);
    assertSameAsReference(run, 'trial across 4 Temporal kills', uninterrupted);
    assert.equal(watcherKills, 0, 'checkpoint.json never named missing weights');
    const workerLog = stack.allOutput();
    const stops = { presumedDead: workerLog.split('PresumedDead').length - 1, fenced: workerLog.split('CheckpointFencedError').length - 1 };
    figure(`Temporal killed ${OUTAGES_S.length} times mid-training (heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s, ${chaosEpochs} epochs; reference ${seconds(referenceMs)}): ` +
      `down ${outages.join(', ')}; checkpoint.json named missing weights 0 times (watcher kills ${watcherKills}); results identical to the reference; ` +
      `resumedFromEpoch ${run.result.resumedFromEpoch}; worker log: ${stops.presumedDead} attempts stopped as presumed dead, ${stops.fenced} fenced; ` +
      '`sweep start --wait` and `sweep watch` exited 0 with the leaderboard');
  });
});
