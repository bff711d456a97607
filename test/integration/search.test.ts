// Search on the real stack (Temporal dev server, MinIO, real training on tiny data): a random search
// and an ASHA sweep complete; rerunning the ASHA sweep with the same spec and seed reuses every trial
// and decides the same; a stopped trial's artifacts are complete (result.json with the epochs it
// trained, its checkpoint and best weights, its TensorBoard session ended).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { artifactKeys } from '../../lib/artifact-keys';
import { CheckpointPointer } from '../../activities/checkpoints';
import { Leaderboard, TrainResult } from '../../lib/sweep-types';
import { readEventFile } from '../../formats/tensorboard/reader';
import { OUTCOME_TEXT_TAG, trialEventSeries, trialRunName } from '../../formats/tensorboard-layout';
import { getJson, getObject, objectExists } from '../../platform/storage';
import { temporal } from '@temporalio/proto';
import { sweepWorkflow } from '../../workflows';
import { startSuggestWorker, suggestWorkerMissing } from '../../workers/suggest-worker';
import { TestWorkers, startTestWorkers, tinySpec, uniqueId } from './harness';
import { waitFor } from '../waiting';

const noSuggestWorker = suggestWorkerMissing();
let env: TestWorkers;
before(async () => { env = await startTestWorkers('search', noSuggestWorker ? ['cpu', 'gpu'] : ['cpu', 'gpu', 'suggest']); });
after(async () => { await env.stop(); });

async function runSweep(spec: unknown, prefix: string): Promise<Leaderboard> {
  return env.client.workflow.execute(sweepWorkflow, { taskQueue: env.cpuQueue, workflowId: uniqueId(prefix), args: [spec], workflowExecutionTimeout: '10m' });
}

const SPACE = {
  hidden_units: { type: 'int', low: 8, high: 32, step: 8 },
  lr: { type: 'loguniform', low: 1e-3, high: 1e-1 },
  batch_size: { type: 'choice', values: [8] },
};

describe('search end to end', () => {
  test('a random search trains its budget of sampled trials and ranks them', async () => {
    const board = await runSweep(await tinySpec(env, { grid: undefined, reuse: false, search: { method: 'random', budget: 3, space: { ...SPACE, n_epochs: { type: 'choice', values: [2] } } } }), 'it-random');
    assert.equal(board.status, 'completed');
    assert.equal(board.ranked.length, 3);
    assert.equal(new Set(board.ranked.map((t) => t.params.hidden_units + '/' + t.params.lr)).size, 3, 'three different configurations');
    for (const t of board.ranked) assert.equal(t.epochsDone, 2);
  });

  test('a bayesian search runs batch by batch on the Python suggest worker; a rerun proposes and reuses the same trials', { skip: noSuggestWorker }, async () => {
    const search = { method: 'bayesian', budget: 4, space: { ...SPACE, n_epochs: { type: 'choice', values: [2] } } };
    const first = await runSweep(await tinySpec(env, { grid: undefined, reuse: false, concurrency: 2, search }), 'it-bayes');
    assert.equal(first.status, 'completed');
    assert.equal(first.ranked.length, 4);
    for (const t of first.ranked) {
      assert.ok(Number.isInteger(t.params.hidden_units) && (t.params.hidden_units as number) % 8 === 0 && (t.params.hidden_units as number) <= 32);
      assert.ok((t.params.lr as number) >= 1e-3 && (t.params.lr as number) <= 1e-1);
    }
    const again = await runSweep(await tinySpec(env, { grid: undefined, concurrency: 2, search }), 'it-bayes-again');
    assert.equal(again.reusedTrials, 4);
    const ids = (board: Leaderboard) => board.ranked.map((t) => [t.run, t.trialId]).sort();
    assert.deepEqual(ids(again), ids(first));
  });

  test('the suggest worker stops on SIGTERM (exit 0) after finishing the suggestions in progress; before, the signal killed it', { skip: noSuggestWorker }, async () => {
    const worker = await startSuggestWorker(uniqueId('sigterm-suggest'));
    const exit = new Promise<[number | null, string | null]>((resolve) => worker.process.once('exit', (code, signal) => resolve([code, signal])));
    let output = '';
    worker.process.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    await worker.stop();
    assert.deepEqual(await exit, [0, null]);
    assert.match(output, /stopping: finishing the suggestions in progress[\s\S]*stopped/);
  });

  test('a hung suggest worker (SIGSTOP) holding a suggestion: another worker answers it after the 20 s heartbeat timeout, not after 5 minutes', { skip: noSuggestWorker }, async () => {
    const queue = uniqueId('hung-suggest');
    const hung = await startSuggestWorker(queue);
    const exited = new Promise((resolve) => hung.process.once('exit', resolve));
    // Stopped once its polls have reached the server (it says it serves as it starts polling).
    await sleep(2000);
    hung.process.kill('SIGSTOP');
    let answering: Awaited<ReturnType<typeof startSuggestWorker>> | undefined;
    try {
      const search = { method: 'bayesian', budget: 2, space: { ...SPACE, n_epochs: { type: 'choice', values: [1] } } };
      const spec = await tinySpec({ ...env, suggestQueue: queue }, { grid: undefined, concurrency: 2, search });
      const started = Date.now();
      const handle = await env.client.workflow.start(sweepWorkflow, { taskQueue: env.cpuQueue, workflowId: uniqueId('it-bayes-hung'), args: [spec], workflowExecutionTimeout: '10m' });
      // The stopped worker's poll, already waiting at the server, takes the suggestion: it is started, and never answered.
      await waitFor('the suggestion to be started (by the stopped worker)', async () => ((await handle.describe()).raw.pendingActivities ?? [])
        .some((a) => a.activityType?.name === 'suggestTrials' && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED), 120_000, 200);
      answering = await startSuggestWorker(queue);
      const board = await handle.result();
      assert.equal(board.ranked.length, 2);
      // The retry may go to the stopped worker's other polls too: each costs the heartbeat timeout again.
      const events = (await handle.fetchHistory()).events!;
      const suggestions = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'suggestTrials').map((e) => String(e.eventId)));
      const attempts = events.flatMap((e) => (suggestions.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)) ? [e.activityTaskStartedEventAttributes!.attempt!] : []));
      assert.ok(Math.max(...attempts) >= 2, `the suggestion was asked again: attempts ${attempts.join(', ')}`);
      assert.ok(Date.now() - started < 120_000, `took ${Date.now() - started} ms`);
    } finally {
      hung.process.kill('SIGKILL');
      await exited;
      await answering?.stop();
    }
  });

  describe('ASHA, keeping the best epoch', () => {
    const search = { method: 'random', budget: 4, space: SPACE, earlyStopping: { rule: 'asha', gracePeriod: 1, reductionFactor: 2, maxEpochs: 4 }, keepBestEpoch: true };
    let first: Leaderboard;
    let sweepId: string;

    test('completes: every trial stopped at a rung or trained to maxEpochs, ranked by its best epoch', async () => {
      sweepId = uniqueId('it-asha');
      first = await env.client.workflow.execute(sweepWorkflow, {
        taskQueue: env.cpuQueue, workflowId: sweepId, workflowExecutionTimeout: '10m',
        // reuse off: train even if an earlier test run left these trials in the bucket.
        args: [await tinySpec(env, { grid: undefined, reuse: false, search })],
      });
      assert.equal(first.status, 'completed');
      assert.equal(first.ranked.length, 4);
      assert.equal(first.failed.length, 0);
      for (const t of first.ranked) {
        assert.ok(t.status === 'stopped' ? [1, 2].includes(t.epochsDone) : t.epochsDone === 4, `run ${t.run}: ${t.status} after ${t.epochsDone}`);
        assert.ok(t.bestEpoch! >= 1 && t.bestEpoch! <= t.epochsDone);
        assert.ok(t.test, `run ${t.run} was tested`);
      }
      const values = first.ranked.map((t) => t.valAccuracy!);
      assert.deepEqual(values, [...values].sort((a, b) => b - a));
    });

    test("a stopped trial's artifacts are complete: result.json, checkpoint and best weights, TensorBoard session end", async (t) => {
      const stopped = first.ranked.find((trial) => trial.status === 'stopped');
      if (!stopped) return t.skip('this seed stopped no trial');
      assert.match(stopped.stopped!.reason, /^stopped at epoch \d by ASHA rung \d/);
      const result = await getJson<TrainResult>(artifactKeys.trialResult(stopped.trialId));
      assert.equal(result.epochs.length, stopped.epochsDone);
      assert.equal(result.bestEpoch, stopped.bestEpoch);
      assert.ok(await objectExists(result.headKey));
      const pointer = await getJson<CheckpointPointer>(artifactKeys.trialCheckpoint(stopped.trialId));
      assert.equal(pointer.epoch, stopped.epochsDone);
      assert.ok(await objectExists(pointer.weightsKey!));
      assert.equal(pointer.best?.epoch, stopped.bestEpoch);
      assert.ok(await objectExists(pointer.best!.weightsKey));
      const runFolder = artifactKeys.tensorboardRun(sweepId, trialRunName(stopped.run, stopped.params));
      const footer = readEventFile(await getObject(`${runFolder}/${trialEventSeries(stopped.trialId).footerName()}`));
      assert.ok(footer.some((e) => e.summary?.value.some((v) => v.tag === '_hparams_/session_end_info')), 'the HParams session ended');
      const outcome = footer.flatMap((e) => e.summary?.value ?? []).find((v) => v.tag === OUTCOME_TEXT_TAG);
      assert.match(Buffer.from(outcome!.tensor!.string_val![0]).toString('utf8'), /^\*\*stopped early\*\*: stopped at epoch \d by ASHA/, "TensorBoard's Text tab says it stopped");
      for (let epoch = 1; epoch <= stopped.epochsDone; epoch++) {
        assert.ok(await objectExists(`${runFolder}/${trialEventSeries(stopped.trialId).epochName(epoch)}`), `epoch ${epoch} events`);
      }
      // Every trial's HParams session start, written by its first segment only (later ones find their checkpoint).
      for (const trial of first.ranked) {
        const folder = artifactKeys.tensorboardRun(sweepId, trialRunName(trial.run, trial.params));
        assert.ok(await objectExists(`${folder}/${trialEventSeries(trial.trialId).headerName()}`), `run ${trial.run}: the session start`);
      }
    });

    test('a rerun with the same spec and seed reuses every trial and decides the same', async () => {
      const again = await runSweep(await tinySpec(env, { grid: undefined, search }), 'it-asha-again');
      assert.equal(again.reusedTrials, 4, 'no trial trained again');
      const outcome = (board: Leaderboard) => board.ranked.map((t) => [t.run, t.trialId, t.status, t.epochsDone, t.bestEpoch, t.stopped?.reason, t.valAccuracy]);
      assert.deepEqual(outcome(again), outcome(first));
    });
  });
});
