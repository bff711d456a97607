// Search survives a crash: an ASHA sweep whose training worker is killed with kill -9 while a trial
// trains past its first rung, and a median-rule sweep and a bayesian search whose training worker and
// Temporal server are both killed mid-trial, end with the same configurations, the same decisions
// (which trials stopped, where and why), the same leaderboard and the same per-trial metrics and head
// weights, bit for bit, as the same sweep run without interruption; the killed trial resumes from its
// checkpoint, not from epoch 0.
// Runs on a private stack (its own Temporal dev server and MinIO), workers as separate processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowHandle } from '@temporalio/client';
import { Leaderboard } from '../../lib/sweep-types';
import { Figures } from './fault-figures';
import { seconds, waitFor } from '../waiting';
import { freeConsecutivePorts } from './free-ports';
import { suggestionsCounted } from './prometheus-text';
import { PrivateStack, WorkerProcess, startPrivateStackWithWorkers } from './private-stack';
import {
  FIRST_DECISION, FIRST_RUNG, MAX_EPOCHS, MEDIAN_EPOCHS, assertSameOutcome, ashaSearch as search, bayesianSearch, checkpointedEpochs,
  keepEveryVersion, longGrid, medianSearch, notTrainedOnce, outcomeOf, pythonChildOf, startSweepOn, trainingRecord,
} from './search-runs';
import { tinyFlowerDataset, uniqueId } from './harness';
import { suggestWorkerMissing } from '../../workers/suggest-worker';
import { leaderboardQuery } from '../../workflows/contract';

const queues = { cpuQueue: 'search-crash-cpu', gpuQueue: 'search-crash-gpu' };
const noSuggestWorker = suggestWorkerMissing();

let stack: PrivateStack;
let gpuWorker: WorkerProcess;
/** The worker process running only the suggest role: the Python worker is its child. */
let suggestWorker: WorkerProcess;
/** The ports where the suggest role's launcher and its Python worker serve their metrics. */
let metricsPorts: number[];
const SUGGEST_NODE = 'search-crash-suggest-node';
const figures = new Figures();

before(async () => {
  await tinyFlowerDataset();
  ({ stack, gpuWorker } = await startPrivateStackWithWorkers(queues));
  if (!noSuggestWorker) {
    metricsPorts = await freeConsecutivePorts(2);
    suggestWorker = stack.spawnWorker('suggest', queues, { SWEEP_METRICS_ADDRESS: `127.0.0.1:${metricsPorts[0]}`, SWEEP_NODE_NAME: SUGGEST_NODE });
    await suggestWorker.ready;
  }
});

after(async () => {
  console.log(figures.summary());
  await stack?.destroy();
});

const startSweep = (prefix: string, searchSpec: Record<string, unknown> = search): Promise<WorkflowHandle> => startSweepOn(stack, queues, prefix, { search: searchSpec });

/** A trial of `reference` that this sweep trains between `after` and its last epoch, with the epoch checkpointed. */
function trainingPast(reference: Leaderboard, sweepId: string, after: number, except?: string) {
  return waitFor(`a trial training past epoch ${after}`, async () => {
    for (const trial of reference.ranked) {
      if (trial.trialId === except) continue;
      const epoch = await checkpointedEpochs(stack, trial.trialId, sweepId);
      if (epoch > after + 2 && epoch < trial.epochsDone - 2) return { trial, epoch };
    }
    return undefined;
  }, 120_000, 50);
}

test('kill -9 of the training worker during an ASHA sweep: the same decisions, leaderboard, metrics and weights as an uninterrupted run', async () => {
  const began = Date.now();
  const reference = await (await startSweep('search-crash-reference')).result() as Leaderboard;
  const referenceMs = Date.now() - began;
  assert.equal(reference.status, 'completed');
  assert.equal(reference.ranked.length, search.budget);
  assert.ok(reference.ranked.some((t) => t.status === 'stopped'), 'ASHA stopped at least one trial (otherwise nothing is tested)');
  const referenceOutcome = await outcomeOf(stack, reference);

  const sweep = await startSweep('search-crash-killed');
  // Kill while a trial trains past its first rung: after a decision, mid-segment.
  const victim = await trainingPast(reference, sweep.workflowId, FIRST_RUNG);
  gpuWorker.kill('SIGKILL');
  const killedAt = Date.now();
  await gpuWorker.exited;
  const savedBeforeKill = await checkpointedEpochs(stack, victim.trial.trialId, sweep.workflowId);
  gpuWorker = stack.spawnWorker('gpu', queues);
  await gpuWorker.ready;
  const resumedAt = await waitFor('a new checkpoint of the killed trial', async () =>
    (await checkpointedEpochs(stack, victim.trial.trialId, sweep.workflowId)) > savedBeforeKill && Date.now(), 120_000, 100);

  const run = await sweep.result() as Leaderboard;
  assertSameOutcome(await outcomeOf(stack, run), referenceOutcome);
  const killed = run.ranked.find((t) => t.trialId === victim.trial.trialId)!;
  assert.ok((killed.resumedFromEpoch ?? 0) >= savedBeforeKill && savedBeforeKill > FIRST_RUNG,
    `the killed trial resumed from its checkpoint (epoch ${killed.resumedFromEpoch}, saved ${savedBeforeKill}), not from its rung or epoch 0`);
  const stops = run.ranked.filter((t) => t.status === 'stopped').map((t) => `run ${t.run} at ${t.stopped!.epoch}`);
  figures.add(`ASHA sweep (${search.budget} trials, rungs ${FIRST_RUNG}/${FIRST_RUNG * 2} of ${MAX_EPOCHS}; reference ${seconds(referenceMs)}): ` +
    `kill -9 of the GPU worker with run ${victim.trial.run} at epoch ${savedBeforeKill}; resumed from ${killed.resumedFromEpoch}, ` +
    `first new checkpoint ${seconds(resumedAt - killedAt)} after the kill; stops ${stops.join(', ')} as in the reference; metrics and weights identical`);
});

/**
 * Kills the training worker (kill -9) while a trial trains past epoch `after`, starts another, then
 * kills the Temporal server while another trial trains past it, and starts it again.
 */
async function killWorkerThenServer(reference: Leaderboard, sweepId: string, after: number) {
  const victim = await trainingPast(reference, sweepId, after);
  gpuWorker.kill('SIGKILL');
  await gpuWorker.exited;
  const savedBeforeKill = await checkpointedEpochs(stack, victim.trial.trialId, sweepId);
  gpuWorker = stack.spawnWorker('gpu', queues);
  await gpuWorker.ready;
  const second = await trainingPast(reference, sweepId, after, victim.trial.trialId);
  await stack.down('temporal', { kill: true });
  await sleep(2000);
  await stack.up('temporal');
  return { victim, savedBeforeKill, second };
}

test('the median rule across kill -9 of the training worker and of the Temporal server: the same decisions, leaderboard, metrics and weights as an uninterrupted run', async () => {
  const began = Date.now();
  const reference = await (await startSweep('search-crash-median-reference', medianSearch)).result() as Leaderboard;
  const referenceMs = Date.now() - began;
  assert.equal(reference.ranked.length, medianSearch.budget);
  assert.ok(reference.ranked.some((t) => t.status === 'stopped' && t.stopped?.rule === 'median'), 'the median rule stopped a trial (otherwise nothing is tested)');
  assert.ok(reference.ranked.some((t) => t.status === 'completed'), 'a trial trained to its last epoch');
  const referenceOutcome = await outcomeOf(stack, reference);

  const sweep = await startSweep('search-crash-median-killed', medianSearch);
  // Each mid-segment, after a decision.
  const { victim, savedBeforeKill, second } = await killWorkerThenServer(reference, sweep.workflowId, FIRST_DECISION);

  const run = await sweep.result() as Leaderboard;
  assertSameOutcome(await outcomeOf(stack, run), referenceOutcome);
  const killed = run.ranked.find((t) => t.trialId === victim.trial.trialId)!;
  assert.ok((killed.resumedFromEpoch ?? 0) >= savedBeforeKill && savedBeforeKill > FIRST_DECISION,
    `the killed trial resumed from its checkpoint (epoch ${killed.resumedFromEpoch}, saved ${savedBeforeKill}), not from a decision epoch or epoch 0`);
  const stops = run.ranked.filter((t) => t.status === 'stopped').map((t) => `run ${t.run} at ${t.stopped!.epoch}`);
  figures.add(`median-rule sweep (${medianSearch.budget} trials of ${MEDIAN_EPOCHS} epochs, decisions every 20 from ${FIRST_DECISION}; reference ${seconds(referenceMs)}): ` +
    `kill -9 of the GPU worker with run ${victim.trial.run} at epoch ${savedBeforeKill} (resumed from ${killed.resumedFromEpoch}), then of the Temporal server ` +
    `with run ${second.trial.run} at epoch ${second.epoch}; stops ${stops.join(', ')} as in the reference; metrics and weights identical`);
});

test('a bayesian search across kill -9 of the suggest worker, the training worker and the Temporal server: the same suggestions, leaderboard, metrics and weights as an uninterrupted run', { skip: noSuggestWorker }, async () => {
  const began = Date.now();
  const reference = await (await startSweep('search-crash-bayes-reference', bayesianSearch)).result() as Leaderboard;
  const referenceMs = Date.now() - began;
  assert.equal(reference.ranked.length, bayesianSearch.budget);
  const referenceOutcome = await outcomeOf(stack, reference);

  const sweep = await startSweep('search-crash-bayes-killed', bayesianSearch);
  // The Python suggest worker too, once the first batch trains: the next batch's suggestion needs the
  // one its launcher starts again.
  await trainingPast(reference, sweep.workflowId, 1);
  const python = pythonChildOf(suggestWorker.pid);
  process.kill(python, 'SIGKILL');
  await waitFor('the suggest worker started again', async () => { const next = pythonChildOf(suggestWorker.pid); return next !== python && next; }, 60_000, 200);
  const { victim, savedBeforeKill, second } = await killWorkerThenServer(reference, sweep.workflowId, 5);
  const run = await sweep.result() as Leaderboard;
  assertSameOutcome(await outcomeOf(stack, run), referenceOutcome);
  const killed = run.ranked.find((t) => t.trialId === victim.trial.trialId)!;
  assert.ok((killed.resumedFromEpoch ?? 0) >= savedBeforeKill && savedBeforeKill > 5,
    `the killed trial resumed from its checkpoint (epoch ${killed.resumedFromEpoch}, saved ${savedBeforeKill}), not from epoch 0`);
  figures.add(`bayesian search (${bayesianSearch.budget} trials of 60 epochs in batches of 2, TPE from the third; reference ${seconds(referenceMs)}): ` +
    `kill -9 of the Python suggest worker (started again by its launcher), of the GPU worker with run ${victim.trial.run} at epoch ${savedBeforeKill} (resumed from ${killed.resumedFromEpoch}), then of the Temporal server ` +
    `with run ${second.trial.run} at epoch ${second.epoch}; the same ${bayesianSearch.budget} configurations as the reference; metrics and weights identical`);
});

test('two sweeps sharing their trials across kill -9 of the training worker: each trial trained by exactly one of them, both ending as an uninterrupted run', async () => {
  // Reuse on, so the second sweep waits for the first's training leases and reuses what it stored; a seed
  // of its own, so no earlier test stored these trials.
  const seed = 4242;
  // Every write of the trials' checkpoint pointers kept: who trained which epochs (trainingRecord).
  await keepEveryVersion(stack);
  const since = new Date(Date.now() - 1000);
  const start = (name: string) => startSweepOn(stack, queues, `search-crash-shared-${name}`, { grid: longGrid }, 'search-crash', { reuse: true, seed });
  const sweeps = [await start('a'), await start('b')];
  const victim = await waitFor('a shared trial training mid-way', async () => {
    for (const sweep of sweeps) {
      for (const trial of (await sweep.query(leaderboardQuery)).running) {
        const epoch = await checkpointedEpochs(stack, trial.trialId, sweep.workflowId);
        if (epoch > 5 && epoch < trial.epochs - 5) return { ...trial, epoch };
      }
    }
    return undefined;
  }, 120_000, 50);
  gpuWorker.kill('SIGKILL');
  await gpuWorker.exited;
  gpuWorker = stack.spawnWorker('gpu', queues);
  await gpuWorker.ready;
  const boards = await Promise.all(sweeps.map((sweep) => sweep.result() as Promise<Leaderboard>));
  // Read before the reference, which trains the same trials again (reuse off) and rewrites what they stored.
  const outcomes = await Promise.all(boards.map((board) => outcomeOf(stack, board)));
  assert.deepEqual(notTrainedOnce(boards[0], boards[1]), [], 'each trial trained by exactly one of the two sweeps, the other reusing it');
  for (const trial of boards[0].ranked) {
    const record = await trainingRecord(stack, trial.trialId, sweeps.map((sweep) => sweep.workflowId), since);
    assert.equal(record.sweeps.length, 1, `run ${trial.run}: its epochs were trained by ${record.sweeps.join(' and ') || 'no sweep'}`);
    assert.deepEqual(record.twice, [], `run ${trial.run}: no epoch trained twice`);
  }
  const reference = await outcomeOf(stack, await (await startSweepOn(stack, queues, 'search-crash-shared-reference', { grid: longGrid }, 'search-crash', { seed })).result() as Leaderboard);
  for (const outcome of outcomes) assertSameOutcome(outcome, reference);
  const killed = boards.flatMap((board) => board.ranked).find((t) => t.trialId === victim.trialId && !t.reused)!;
  assert.ok((killed.resumedFromEpoch ?? 0) >= victim.epoch, `the killed trial resumed from its checkpoint (epoch ${killed.resumedFromEpoch}, saved ${victim.epoch} or later), not from epoch 0`);
  figures.add(`two grid sweeps sharing their 4 trials of 60 epochs: kill -9 of the GPU worker with run ${victim.run} at epoch ${victim.epoch} (resumed from ${killed.resumedFromEpoch}); ` +
    `trained ${boards.map((b) => b.ranked.filter((t) => !t.reused).length).join(' and ')} of the 4, each by one sweep, no epoch twice (checkpoint pointer versions); both identical to an uninterrupted run`);
});

test('the Python suggest worker serves the SDK\'s metrics for Prometheus at the port after its launcher\'s, tagged with the node: its suggestions counted', { skip: noSuggestWorker }, async () => {
  const [launcherPort, pythonPort] = metricsPorts;
  const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(suggestWorker.output(), new RegExp(`\\[suggest-worker\\] metrics for Prometheus at http://127\\.0\\.0\\.1:${pythonPort}/metrics`));
  const suggestions = async () => suggestionsCounted(await scrape(pythonPort), SUGGEST_NODE);
  const before = await suggestions();
  // Two batches of suggestions: TPE's random start-up, then one modelled (startupTrials 2, concurrency 2).
  const board = await (await startSweep('search-crash-suggest-metrics', { ...bayesianSearch, budget: 4, space: { ...bayesianSearch.space, n_epochs: { type: 'choice', values: [1] } } })).result() as Leaderboard;
  assert.equal(board.ranked.length, 4);
  assert.equal(await suggestions() - before, 2, 'two suggestTrials executions counted, tagged with the node');
  // The launcher's runtime holds the first port (with the suggest role alone it has no TS worker whose metrics to serve).
  assert.equal((await fetch(`http://127.0.0.1:${launcherPort}/metrics`)).status, 200, 'the launcher serves its own at the first port');
});

test('a suggest worker that cannot start (a broken search venv) does not take the CPU role beside it down: a warning, and the CPU worker polls', async () => {
  const launcher = stack.spawnWorker('cpu,suggest', queues, { SWEEP_SEARCH_PYTHON: '/bin/false', SWEEP_SUGGEST_QUEUE: uniqueId('suggest-broken') });
  try {
    await launcher.ready;
    assert.match(launcher.output(), /the suggest worker did not start \(the suggest worker exited \(code 1\) before serving .*\); running the cpu role\(s\) without it/);
  } finally {
    launcher.kill('SIGTERM');
    assert.equal(await launcher.exited, 0, launcher.output());
  }
});

test('a launcher running only the suggest role runs until SIGTERM (it exited at once), and its Python worker stops with it, even after kill -9 of the launcher', { skip: noSuggestWorker }, async () => {
  const gone = (pid: number) => !/^[^Z]/.test(spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim());
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const launcher = stack.spawnWorker('suggest', queues, { SWEEP_SUGGEST_QUEUE: uniqueId('suggest-only') });
    await launcher.ready;
    const python = pythonChildOf(launcher.pid);
    assert.ok(python && !gone(launcher.pid), `${signal}: the launcher and its Python worker run`);
    launcher.kill(signal);
    const code = await launcher.exited;
    if (signal === 'SIGTERM') assert.equal(code, 0, launcher.output());
    await waitFor(`${signal}: the Python worker gone`, async () => gone(python), 30_000, 200);
  }
});
