// Sweeps that are broken on purpose (search-crash.test.ts, the soak in soak.ts) and how
// their runs are compared with an uninterrupted one: the same configurations in the same runs, the
// same decisions (which trials stopped, where and why), ranking and scores, the same misclassified
// test images, and each trial's per-epoch metrics and kept head weights, bit for bit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  DeleteObjectsCommand, GetObjectCommand, ListObjectVersionsCommand, ListObjectVersionsCommandOutput, ObjectIdentifier, ObjectVersion, PutBucketVersioningCommand, S3Client,
} from '@aws-sdk/client-s3';
import { Client, WorkflowHandle } from '@temporalio/client';
import { CheckpointPointer } from '../../activities/checkpoints';
import { artifactKeys } from '../../lib/artifact-keys';
import { Leaderboard, TrainResult, TrialSummary } from '../../lib/sweep-types';
import { parseS3Url } from '../../platform/storage';
import { metricsOf } from './fault-figures';
import { tinySpec, uniqueId } from './harness';
import { BucketReader } from './bucket-reader';

// Batch size 2 on the tiny set makes an epoch ~50 ms, so a trial trains for seconds between rungs
// (epochs 40 and 80 of 160), long enough to be killed mid-segment.
export const MAX_EPOCHS = 160;
export const FIRST_RUNG = 40;
const space = {
  hidden_units: { type: 'int', low: 8, high: 32, step: 8 },
  lr: { type: 'loguniform', low: 1e-3, high: 3e-2 },
  batch_size: { type: 'choice', values: [2] },
};
export const ashaSearch = {
  method: 'random',
  budget: 4,
  space,
  earlyStopping: { rule: 'asha', gracePeriod: FIRST_RUNG, reductionFactor: 2, maxEpochs: MAX_EPOCHS },
  keepBestEpoch: true,
};
// The median rule, deciding every 20 epochs from epoch 20 of 100; trials 3 to 5 are compared with at
// least two others.
export const MEDIAN_EPOCHS = 100;
export const FIRST_DECISION = 20;
export const medianSearch = {
  method: 'random',
  budget: 5,
  space: { ...space, n_epochs: { type: 'choice', values: [MEDIAN_EPOCHS] } },
  earlyStopping: { rule: 'median', minEpochs: FIRST_DECISION, minTrials: 2, intervalEpochs: 20 },
  keepBestEpoch: true,
};
// Bayesian: batches of 2 (the concurrency), TPE modelling from the third trial on.
export const bayesianSearch = { method: 'bayesian', budget: 6, startupTrials: 2, space: { ...space, n_epochs: { type: 'choice', values: [60] } } };

// A grid of trials as long, for the soak: 4 trials of 60 epochs.
export const longGrid = { hidden_units: [8, 24], lr: [0.003, 0.01], dropout: [0.4], num_classes: [4], batch_size: [2], n_epochs: [60] };

/** What the runs need of a stack (a private one, the cluster): its Temporal client, and its bucket and what is in it. */
export interface SweepStore extends BucketReader { client: Client; s3: S3Client; bucket: string }

/** What a sweep searches: a search section, or a grid. */
export type SweepMethod = { search: Record<string, unknown> } | { grid: Record<string, unknown> };

/**
 * Starts a sweep on `stack`: reuse off, so each run trains and a broken one is compared with a run that
 * really trained too; checkpoints after every epoch; a 5 s heartbeat timeout. `overrides` replace spec fields (reuse, seed).
 */
export async function startSweepOn(stack: SweepStore, queues: { cpuQueue: string; gpuQueue: string; suggestQueue?: string }, prefix: string, method: SweepMethod, name = 'search-crash', overrides: Record<string, unknown> = {}): Promise<WorkflowHandle> {
  const spec = await tinySpec(queues, { name, grid: undefined, ...method, reuse: false, heartbeatTimeoutSeconds: 5, checkpointEverySeconds: 0, concurrency: 2, ...overrides });
  return stack.client.workflow.start('sweepWorkflow', { taskQueue: queues.cpuQueue, workflowId: uniqueId(prefix), args: [spec], workflowExecutionTimeout: '10m' });
}

/** Epochs this sweep's attempts have checkpointed for a trial (0 before, or while another sweep's checkpoint is there). */
export async function checkpointedEpochs(stack: SweepStore, trialId: string, sweepId: string): Promise<number> {
  const checkpoint = await stack.getJson<{ sweepId: string; epoch: number }>(artifactKeys.trialCheckpoint(trialId));
  return checkpoint?.sweepId === sweepId ? checkpoint.epoch : 0;
}

/** The pid of the suggest worker's Python process, a child of the worker process `pid`, or 0 while there is none. */
export function pythonChildOf(pid: number): number {
  const children = spawnSync('pgrep', ['-P', String(pid), '-f', 'suggest_worker.py'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  return Number(children[0] ?? 0);
}

/**
 * What the sweep decided for each trial and what the trial kept, in ranking order. The misclassified list is
 * compared by content (SweepOutcome): a trial stopped at a rung keeps it in its own trial workflow's folder.
 */
const decisions = (board: Leaderboard) => board.ranked.map((t: TrialSummary) => ({
  run: t.run, trialId: t.trialId, status: t.status, stopped: t.stopped, epochsDone: t.epochsDone, bestEpoch: t.bestEpoch,
  valAccuracy: t.valAccuracy, valLoss: t.valLoss, test: t.test && { ...t.test, misclassified: { count: t.test.misclassified.count } },
}));

/**
 * A finished sweep's leaderboard and, read from S3 as soon as it ended, each ranked trial's stored
 * per-epoch metrics (without wall-clock columns), kept head weights and misclassified test images. Read
 * at once because a later sweep of the same trials (reuse off) rewrites those objects under the same keys.
 */
export interface SweepOutcome {
  board: Leaderboard;
  trials: Map<string, { epochs: unknown[]; head: Buffer; misclassified: unknown }>;
}

export async function outcomeOf(stack: SweepStore, board: Leaderboard): Promise<SweepOutcome> {
  const trials: SweepOutcome['trials'] = new Map();
  for (const trial of board.ranked) {
    const result = (await stack.getJson<TrainResult>(artifactKeys.trialResult(trial.trialId)))!;
    trials.set(trial.trialId, {
      epochs: metricsOf(result.epochs),
      head: await stack.getBytes(result.headKey),
      misclassified: await stack.getJson(parseS3Url(trial.test!.misclassified.list).key),
    });
  }
  return { board, trials };
}

/** The run ended as the uninterrupted reference did: configurations, decisions, ranking, scores, misclassified images, per-epoch metrics, kept weights, model and report. */
export function assertSameOutcome(run: SweepOutcome, reference: SweepOutcome): void {
  assert.equal(run.board.status, 'completed');
  assert.deepEqual(run.board.failed, []);
  const configurations = (board: Leaderboard) => [...board.ranked].sort((a, b) => a.run - b.run).map((t) => [t.run, t.trialId, t.params]);
  assert.deepEqual(configurations(run.board), configurations(reference.board), 'the same configurations in the same runs');
  assert.deepEqual(decisions(run.board), decisions(reference.board), 'same stops (epoch, rule, reason), best epochs, ranking and scores');
  // The steps whose failure a sweep survives: a fault at that moment must not cost it its model or report.
  assert.equal(run.board.model?.run, reference.board.model?.run, 'the same trial exported as the model');
  assert.equal(run.board.modelError, reference.board.modelError);
  assert.equal(Boolean(run.board.artifacts.report), Boolean(reference.board.artifacts.report), 'the report written, as the reference wrote it');
  for (const [trialId, expected] of reference.trials) {
    const actual = run.trials.get(trialId)!;
    assert.deepEqual(actual.misclassified, expected.misclassified, `${trialId}: the same misclassified test images`);
    assert.deepEqual(actual.epochs, expected.epochs, `${trialId}: per-epoch metrics equal the uninterrupted run's`);
    assert.ok(actual.head.equals(expected.head), `${trialId}: kept weights equal, bit for bit`);
  }
}

/** Trials that not exactly one of two sweeps sharing them trained (the other reused them), as "run N: both" or "run N: neither". */
export function notTrainedOnce(a: Leaderboard, b: Leaderboard): string[] {
  return a.ranked.flatMap((trial) => {
    const twin = b.ranked.find((t) => t.trialId === trial.trialId);
    const trainers = [trial, twin].filter((t) => t && !t.reused).length;
    return trainers === 1 ? [] : [`run ${trial.run}: ${trainers ? 'both' : 'neither'}`];
  });
}

/** Versioning on the stack's bucket: every write of a trial's checkpoint pointer stays readable (trainingRecord). */
export async function keepEveryVersion(stack: SweepStore): Promise<void> {
  await stack.s3.send(new PutBucketVersioningCommand({ Bucket: stack.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

/**
 * keepEveryVersion undone as far as S3 allows: versioning suspended (it cannot be turned off), and every
 * version that is not an object's current one deleted, delete markers too, so that a bucket others use
 * (the cluster's) is not left grown by every write of the soak. Returns how many went.
 */
export async function forgetKeptVersions(stack: SweepStore): Promise<number> {
  await stack.s3.send(new PutBucketVersioningCommand({ Bucket: stack.bucket, VersioningConfiguration: { Status: 'Suspended' } }));
  let removed = 0;
  for await (const listed of versionPages(stack)) {
    const old: ObjectIdentifier[] = [...(listed.Versions ?? []).filter((v) => !v.IsLatest), ...(listed.DeleteMarkers ?? [])]
      .map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (!old.length) continue;
    const deleted = await stack.s3.send(new DeleteObjectsCommand({ Bucket: stack.bucket, Delete: { Objects: old, Quiet: true } }));
    assert.equal(deleted.Errors?.length ?? 0, 0, `deleting kept versions: ${JSON.stringify(deleted.Errors?.slice(0, 3))}`);
    removed += old.length;
  }
  return removed;
}

/** The bucket's object versions under `prefix`, a page at a time, newest first per key. */
async function* versionPages(stack: SweepStore, prefix?: string): AsyncGenerator<ListObjectVersionsCommandOutput> {
  let page: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const listed = await stack.s3.send(new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: prefix, ...page }));
    yield listed;
    if (!listed.IsTruncated) return;
    page = { KeyMarker: listed.NextKeyMarker, VersionIdMarker: listed.NextVersionIdMarker };
  }
}

/** Who trained a trial, read from its checkpoint pointer's versions (the bucket must keep them: keepEveryVersion). */
export interface TrainingRecord {
  /** The sweeps whose attempts moved the pointer past an epoch: those that trained some of it. */
  sweeps: string[];
  /** How many epochs they trained, each time counted (one per move of the pointer). */
  epochs: number;
  /** Epochs the pointer moved to more than once: trained twice. */
  twice: number[];
}

/**
 * The pointer moves once per checkpointed epoch (the sweeps here checkpoint every epoch), written by
 * its owner; an attempt's first write is its claim, which resumes where the pointer was and trains
 * nothing. So the writes after each owner's first, by the sweeps in `sweepIds` since `since`, are the
 * epochs those sweeps trained; an epoch among them twice was trained twice.
 */
export async function trainingRecord(stack: SweepStore, trialId: string, sweepIds: readonly string[], since: Date): Promise<TrainingRecord> {
  const key = artifactKeys.trialCheckpoint(trialId);
  const versions: ObjectVersion[] = [];
  // Listed newest first, page by page: stop at the first write before `since`.
  for await (const listed of versionPages(stack, key)) {
    const recent = (listed.Versions ?? []).filter((v) => v.Key === key);
    versions.push(...recent.filter((v) => v.LastModified! >= since));
    if (recent.some((v) => v.LastModified! < since)) break;
  }
  const pointers = await Promise.all(versions.reverse().map(async (v) => {
    const response = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key, VersionId: v.VersionId }));
    return JSON.parse(await response.Body!.transformToString()) as CheckpointPointer;
  }));
  const owners = new Set<string>();
  const trainers = new Set<string>();
  const moves = new Map<number, number>();
  for (const pointer of pointers) {
    if (!owners.has(pointer.owner!)) {
      owners.add(pointer.owner!);
      continue;
    }
    if (!sweepIds.includes(pointer.sweepId)) continue;
    trainers.add(pointer.sweepId);
    moves.set(pointer.epoch, (moves.get(pointer.epoch) ?? 0) + 1);
  }
  return { sweeps: [...trainers], epochs: [...moves.values()].reduce((sum, n) => sum + n, 0), twice: [...moves].filter(([, n]) => n > 1).map(([epoch]) => epoch) };
}
