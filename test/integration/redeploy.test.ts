// A redeploy mid-sweep with Temporal worker versioning, on the real dev server and MinIO. Build A's
// workers run a sweep; build B (the product's workflows plus a memo marking every run B executes:
// ./redeploy-build-b.ts) is deployed and made current while that sweep is still running; a second
// sweep starts. The first sweep, its trials and their leases run every workflow task and every
// activity on build A, although B is current when its trials start; the second runs on B.
//
// To hold sweep A mid-flight until B is current, build A's GPU worker polls once (so the GPU queue
// joins version A) and stops before sweep A starts: A's feature extraction then waits for a build-A
// GPU worker, and must not be taken by B's, which polls the same queue.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { DeploymentVersion, type WorkerRole } from '../../platform/config';
import { Leaderboard } from '../../lib/sweep-types';
import { createWorkers } from '../../workers/run-workers';
import { connectClient } from '../../platform/temporal-connection';
import { progressQuery, sweepWorkflow } from '../../workflows';
import { waitFor } from '../waiting';
import { tinySpec, uniqueId } from './harness';
import { BUILD_B_MEMO } from './redeploy-build-b';

const deploymentName = uniqueId('it-redeploy');
const A: DeploymentVersion = { deploymentName, buildId: 'build-a' };
const B: DeploymentVersion = { deploymentName, buildId: 'build-b' };
const queues = { cpuQueue: `${deploymentName}-cpu`, gpuQueue: `${deploymentName}-gpu` };
const TIMEOUT_MS = 600_000;

let client: Client;
const running: Array<{ workers: Worker[]; done: Promise<unknown> }> = [];

before(async () => { client = await connectClient(); });
after(async () => {
  for (const { workers } of running) for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await Promise.all(running.map((r) => r.done));
  await client.connection.close();
});

async function startWorkers(roles: WorkerRole[], version: DeploymentVersion, workflowsPath?: string): Promise<{ stop(): Promise<void> }> {
  const workers = await createWorkers(roles, { ...queues, deployment: version, workflowsPath });
  const done = Promise.all(workers.map((w) => w.run()));
  running.push({ workers, done });
  return { stop: async () => { workers.forEach((w) => w.shutdown()); await done; } };
}

/** The task queues the server has recorded for a version (workers join it by polling). */
async function versionQueues(version: DeploymentVersion): Promise<string[]> {
  const response = await client.workflowService.describeWorkerDeploymentVersion({ namespace: client.options.namespace, deploymentVersion: version });
  return (response.workerDeploymentVersionInfo?.taskQueueInfos ?? []).map((q) => q.name!);
}

/** What `temporal worker deployment set-current-version` does: new workflows on the deployment's queues go to `version`. */
async function setCurrent(version: DeploymentVersion): Promise<number> {
  // The server knows a version once one of its workers has polled; until then it answers NOT_FOUND.
  await waitFor(`version ${version.buildId} to be settable as current`, () => client.workflowService
    .setWorkerDeploymentCurrentVersion({ namespace: client.options.namespace, ...version, identity: 'redeploy.test' })
    .then(() => true, () => false), 120_000, 500);
  return Date.now();
}

/** The sweep's stage; undefined while it cannot answer yet (before its first workflow task). */
async function stage(handle: WorkflowHandle): Promise<string | undefined> {
  return handle.query(progressQuery).then((progress) => progress.stage, () => undefined);
}

async function runningOn(version: DeploymentVersion): Promise<number> {
  const query = `TemporalWorkerDeploymentVersion = '${version.deploymentName}:${version.buildId}' AND ExecutionStatus = 'Running'`;
  return (await client.workflow.count(query)).count;
}

interface Execution {
  workflowId: string;
  runId: string;
  memo?: Record<string, unknown>;
  events: temporal.api.history.v1.IHistoryEvent[];
}

/** A workflow and, recursively, its children (trials, their leases): each run's memo and history. */
async function executionTree(workflowId: string, runId?: string): Promise<Execution[]> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
  const events = history.events ?? [];
  const self: Execution = { workflowId, runId: description.runId, memo: description.memo, events };
  const children = events.flatMap((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution ?? []);
  const trees = await Promise.all(children.map((c) => executionTree(c.workflowId!, c.runId!)));
  return [self, ...trees.flat()];
}

/** Asserts that every workflow task and every activity of these executions ran on `version`'s code. */
function assertRanOn(executions: Execution[], version: DeploymentVersion, marked: boolean): void {
  for (const { workflowId, memo, events } of executions) {
    const tasks = events.flatMap((e) => e.workflowTaskCompletedEventAttributes ?? []);
    assert.ok(tasks.length > 0, `${workflowId} completed workflow tasks`);
    for (const task of tasks) {
      assert.deepEqual({ ...task.deploymentVersion }, version, `${workflowId}: a workflow task ran on ${task.deploymentVersion?.buildId}, not ${version.buildId}`);
      assert.equal(task.versioningBehavior, temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED, `${workflowId}: pinned`);
    }
    const identities = events.flatMap((e) => e.activityTaskStartedEventAttributes?.identity ?? []);
    for (const identity of identities) assert.ok(identity.endsWith(` ${version.deploymentName}:${version.buildId}`), `${workflowId}: an activity ran on ${identity}`);
    assert.equal(memo?.redeployBuild, marked ? BUILD_B_MEMO.redeployBuild : undefined, `${workflowId}: ${marked ? 'build B marked it' : 'no build B marker'}`);
  }
}

const byRun = (board: Leaderboard) => board.ranked.slice().sort((a, b) => a.run - b.run)
  .map((t) => ({ run: t.run, trialId: t.trialId, trainLoss: t.trainLoss, valLoss: t.valLoss, valAccuracy: t.valAccuracy, test: t.test?.accuracy, epochs: t.epochsDone }));

test('a sweep started on build A finishes on A after build B is deployed; a new sweep runs on B', { timeout: TIMEOUT_MS }, async () => {
  // Build A: its GPU worker polls once so the GPU queue is part of version A, then stops.
  const cpuA = await startWorkers(['cpu'], A);
  const gpuA = await startWorkers(['gpu'], A);
  await waitFor('both queues in version A', async () => {
    const names = await versionQueues(A).catch((): string[] => []);
    return names.includes(queues.cpuQueue) && names.includes(queues.gpuQueue);
  }, 120_000, 500);
  await gpuA.stop();
  await setCurrent(A);

  const spec = await tinySpec({ ...queues }, { reuse: false });
  const sweepA = await client.workflow.start(sweepWorkflow, { taskQueue: queues.cpuQueue, workflowId: uniqueId('it-redeploy-a'), args: [spec], workflowExecutionTimeout: '10m' });
  await waitFor('sweep A to wait for a build-A GPU worker', async () => (await stage(sweepA)) === 'extracting features', 120_000, 500);
  assert.ok(await runningOn(A) >= 1, 'visibility lists sweep A as running on version A');

  // Build B: new workflow code, CPU and GPU workers; made current while sweep A runs.
  await startWorkers(['cpu', 'gpu'], B, require.resolve('./redeploy-build-b'));
  const bCurrentAt = await setCurrent(B);
  const sweepB = await client.workflow.start(sweepWorkflow, { taskQueue: queues.cpuQueue, workflowId: uniqueId('it-redeploy-b'), args: [spec], workflowExecutionTimeout: '10m' });
  await waitFor('sweep B to train on build B', async () => (await stage(sweepB)) === 'training', 300_000, 500);
  assert.equal(await stage(sweepA), 'extracting features', "build B's GPU worker did not take sweep A's feature extraction");

  // Build A's GPU worker comes back (as it would have stayed up in production) and sweep A finishes on A.
  await startWorkers(['gpu'], A);
  const [boardA, boardB] = await Promise.all([sweepA.result(), sweepB.result()]);
  await waitFor('no workflow left running on version A (what an operator checks before stopping A)', async () => (await runningOn(A)) === 0, 60_000, 500);
  await cpuA.stop();

  for (const board of [boardA, boardB]) {
    assert.equal(board.status, 'completed');
    assert.equal(board.ranked.length, 4);
    assert.equal(board.failed.length, 0);
    assert.ok(board.ranked.every((t) => !t.reused && t.epochsDone === 3), 'every trial trained its 3 epochs');
  }
  assert.deepEqual(byRun(boardA), byRun(boardB), 'the same spec and seed give the same leaderboard on either build');

  const treeA = await executionTree(sweepA.workflowId);
  const treeB = await executionTree(sweepB.workflowId);
  for (const tree of [treeA, treeB]) assert.equal(tree.length, 1 + 4 + 4, 'the sweep, 4 trials and 4 training leases');
  assertRanOn(treeA, A, false);
  assertRanOn(treeB, B, true);
  // Sweep A's trials started after B became current: the children took their parent's pinned version.
  const trialStarts = treeA.slice(1).map((e) => tsToMs(e.events[0].eventTime));
  assert.ok(trialStarts.every((t) => t > bCurrentAt), 'sweep A started its trials and leases after B was current');
  const lateTasks = treeA[0].events.filter((e) => e.workflowTaskCompletedEventAttributes && tsToMs(e.eventTime) > bCurrentAt);
  assert.ok(lateTasks.length > 0, 'sweep A ran workflow tasks after B was current');
});
