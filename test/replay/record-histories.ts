// Records the histories the replay test (test/unit/replay.test.ts) replays: real sweeps on the local
// stack, one per path through the workflows (completed, a trial waiting for another sweep's training
// lease, cancelled, failed at ingestion, a spec refused, the searches, a sweep that continued as new),
// with every run of each and every trial and lease workflow they started. Run it again after a
// deliberate, versioned workflow change, and keep the old files: they are what sweeps started by
// earlier workers look like. Name sets to record only those (the others' files and index entries are
// kept as they are), e.g. the searches alone. (before-chunking.* are not made here: a 10-trial sweep
// started with trialsPerRun 2 on the workflow code before continue-as-new, c00201f, which ran it in
// one run; recorded once, in a checkout of that commit, for the patched() branch of the replay test.)
// E.g.:
//   bash infra/node.sh --import tsx test/replay/record-histories.ts [grid] [search] [continued] [bayesian-continued] [lease-to-end] [test-in-training] [rerun] [repeated] [lease-freed] [repeated-continued] [median-continued] [suggesting-stage] [spec-checks-3] [int-budget] [objective-direction] [objective-memo] [ranking-stage] [spec-checks-6] [backbone-checked]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, WorkflowHandleWithFirstExecutionRunId as WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { suggestWorkerMissing } from '../../workers/suggest-worker';
import { TestWorkers, startTestWorkers, tinyFlowerDataset, tinySpec, uniqueId } from '../integration/harness';
import { waitFor } from '../waiting';

const OUT = path.join(__dirname, 'histories');

/**
 * The workflow and every workflow it started, depth first, as [workflowId, history JSON]: every run of
 * it from `runId` on (a sweep that continued as new has one history per run), then its children.
 */
async function family(client: Client, workflowId: string, runId?: string): Promise<Array<[string, string]>> {
  const runs = [];
  for (let next = runId; ;) {
    const history = await client.workflow.getHandle(workflowId, next).fetchHistory();
    runs.push(history);
    next = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    if (!next) break;
  }
  const children = runs.flatMap((history) => (history.events ?? []).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []));
  const nested = await Promise.all([...new Set(children)].map((child) => family(client, child).catch(() => [])));
  return [...runs.map((history): [string, string] => [workflowId, historyToJSON(history)]), ...nested.flat()];
}

/** File name -> workflow id: replay needs the recorded id, since child workflow ids derive from it. */
const INDEX = path.join(OUT, 'index.json');
const index: Record<string, string> = fs.existsSync(INDEX) ? JSON.parse(fs.readFileSync(INDEX, 'utf8')) : {};

async function save(client: Client, name: string, handle: WorkflowHandle): Promise<void> {
  await handle.result().catch(() => undefined);
  const histories = await family(client, handle.workflowId, handle.firstExecutionRunId);
  histories.forEach(([workflowId, json], i) => {
    const type = workflowId === handle.workflowId ? 'sweep' : workflowId.includes('training-lease') ? 'lease' : 'trial';
    const file = `${name}.${String(i).padStart(2, '0')}-${type}.json`;
    fs.writeFileSync(path.join(OUT, file), json);
    index[file] = workflowId;
  });
  console.log(`${name}: ${histories.length} histories`);
}

/** `continued`: the sweep workflow's second argument (tests pass a small trialsPerRun). */
type Start = (spec: unknown, prefix: string, continued?: unknown) => Promise<WorkflowHandle>;

/** The grid paths: completed, a trial waiting for another sweep's lease, cancelled, failed at ingestion, a spec refused. */
async function recordGrid(env: TestWorkers, start: Start): Promise<void> {
  const small = await tinySpec(env, { grid: { hidden_units: [16, 32], dropout: [0.5], n_epochs: [2] } });

  await save(env.client, 'completed', await start(small, 'replay-completed'));

  // Two sweeps of one spec at once, on a seed of their own: one trains each trial, the other waits for its lease.
  const shared = { ...small, seed: Math.floor(Math.random() * 2 ** 31), reuse: true };
  const [a, b] = await Promise.all([start(shared, 'replay-lease-a'), start(shared, 'replay-lease-b')]);
  await Promise.all([save(env.client, 'lease-a', a), save(env.client, 'lease-b', b)]);

  const long = await start(await tinySpec(env, { grid: { hidden_units: [16], n_epochs: [500] }, concurrency: 1, reuse: false }), 'replay-cancelled');
  for (let i = 0; i < 240; i++) {
    const progress = await long.query<{ stage: string }>('progress').catch(() => undefined);
    if (progress?.stage === 'training') break;
    await sleep(500);
  }
  await sleep(2000);
  await long.cancel();
  await save(env.client, 'cancelled', long);

  const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-broken-'));
  fs.cpSync(await tinyFlowerDataset(), broken, { recursive: true });
  fs.writeFileSync(path.join(broken, 'rose', 'broken.jpg'), 'not a jpeg');
  await save(env.client, 'failed-ingest', await start({ ...small, data: { ...small.data, source: broken, maxBadFraction: 0 } }, 'replay-failed'));

  await save(env.client, 'spec-refused', await start({ ...small, grid: { hidden_units: [0] } }, 'replay-spec-refused'));
}

const SEARCH_SPACE = {
  hidden_units: { type: 'int', low: 8, high: 32, step: 8 },
  lr: { type: 'loguniform', low: 1e-3, high: 1e-1 },
  batch_size: { type: 'choice', values: [8] },
};
const ASHA_SEARCH = { method: 'random', budget: 4, space: SEARCH_SPACE, earlyStopping: { rule: 'asha', gracePeriod: 1, reductionFactor: 2, maxEpochs: 4 }, keepBestEpoch: true };

/** The search paths: random, bayesian (when the suggest worker can run) and random with ASHA keeping the best epoch. */
async function recordSearch(env: TestWorkers, start: Start): Promise<void> {
  const space = SEARCH_SPACE;
  const twoEpochs = { ...space, n_epochs: { type: 'choice', values: [2] } };
  // reuse off: the trials train (and the trial histories show it) even if the bucket holds them.
  const search = (overrides: Record<string, unknown>) => tinySpec(env, { grid: undefined, reuse: false, search: overrides });
  await save(env.client, 'random', await start(await search({ method: 'random', budget: 3, space: twoEpochs }), 'replay-random'));
  if (suggestWorkerMissing()) console.log(`bayesian: not recorded (${suggestWorkerMissing()})`);
  else await save(env.client, 'bayesian', await start(await search({ method: 'bayesian', budget: 4, space: twoEpochs }), 'replay-bayesian'));
  await save(env.client, 'asha', await start(await search(ASHA_SEARCH), 'replay-asha'));
}

/** A sweep that continues as new: 10 trials (5 widths x the base grid's 2 dropouts) at 2 per run, so 5 runs of the sweep workflow, each recorded. */
async function recordContinued(env: TestWorkers, start: Start): Promise<void> {
  const spec = await tinySpec(env, { grid: { hidden_units: [8, 16, 24, 32, 40], n_epochs: [1] }, reuse: false });
  await save(env.client, 'continued', await start(spec, 'replay-continued', { trialsPerRun: 2 }));
}

/**
 * A bayesian sweep that continues as new: 4 trials, batches of 2, 2 per run. Recorded on the code that
 * writes the HParams experiment once (its first run holds the patch's marker; bayesian.* and continued.*
 * are from before it), so the replay test also replays that branch.
 */
async function recordBayesianContinued(env: TestWorkers, start: Start): Promise<void> {
  if (suggestWorkerMissing()) throw new Error(`bayesian-continued needs the suggest worker: ${suggestWorkerMissing()}`);
  const space = { hidden_units: { type: 'int', low: 8, high: 32, step: 8 }, n_epochs: { type: 'choice', values: [1] } };
  const spec = await tinySpec(env, { grid: undefined, reuse: false, concurrency: 2, search: { method: 'bayesian', budget: 4, space } });
  await save(env.client, 'bayesian-continued', await start(spec, 'replay-bayesian-continued', { trialsPerRun: 2 }));
}

/**
 * A bayesian sweep on the code that publishes its stage before each suggestion (patch
 * 'sweep-suggesting-stage'): 4 trials in batches of 2, as bayesian.* (recorded before the patch).
 */
async function recordSuggestingStage(env: TestWorkers, start: Start): Promise<void> {
  if (suggestWorkerMissing()) throw new Error(`suggesting-stage needs the suggest worker: ${suggestWorkerMissing()}`);
  const space = { ...SEARCH_SPACE, n_epochs: { type: 'choice', values: [1] } };
  const spec = await tinySpec(env, { grid: undefined, reuse: false, concurrency: 2, search: { method: 'bayesian', budget: 4, space } });
  await save(env.client, 'suggesting-stage', await start(spec, 'replay-suggesting-stage'));
}

/**
 * Recorded on the code whose trials hold their training lease to their end (patch
 * 'trial-lease-closes-with-trial'; the sets above are from before it and release it by signal after
 * training): two sweeps sharing their trials, one waiting for the other's leases, and an ASHA search,
 * whose stopped trials end holding theirs too.
 */
async function recordLeaseToEnd(env: TestWorkers, start: Start): Promise<void> {
  const small = await tinySpec(env, { grid: { hidden_units: [16, 32], dropout: [0.5], n_epochs: [2] }, seed: Math.floor(Math.random() * 2 ** 31), reuse: true });
  const [a, b] = await Promise.all([start(small, 'replay-lease-end-a'), start(small, 'replay-lease-end-b')]);
  await Promise.all([save(env.client, 'lease-end-a', a), save(env.client, 'lease-end-b', b)]);
  const asha = await tinySpec(env, { grid: undefined, reuse: false, search: ASHA_SEARCH });
  await save(env.client, 'lease-end-asha', await start(asha, 'replay-lease-end-asha'));
}

/**
 * Recorded on the code whose training scores the test split (trainTrial returns it; the sets above
 * are from before, and call evaluateTrial after training): a completed grid, and an ASHA search, whose
 * stopped trials are scored at the rung where they stop.
 */
async function recordTestInTraining(env: TestWorkers, start: Start): Promise<void> {
  const small = await tinySpec(env, { grid: { hidden_units: [16, 32], dropout: [0.5], n_epochs: [2] }, reuse: false });
  await save(env.client, 'test-in-training', await start(small, 'replay-test-in-training'));
  const asha = await tinySpec(env, { grid: undefined, reuse: false, search: ASHA_SEARCH });
  await save(env.client, 'test-in-training-asha', await start(asha, 'replay-test-in-training-asha'));
}

/**
 * A sweep run again with reuse on, one trial at a time: its plan marks both trials found finished.
 * Recorded on the code that runs such trials beside the bound ('rerun': patch
 * 'sweep-reused-beside-bound'), and once in a checkout of eba3ff7 (the workflow code before it) with
 * today's activities/plan.ts and lib/sweep-types.ts copied in ('rerun-unpatched': a newer CPU worker
 * planned, an older workflow worker ran every trial within the bound), for the replay test's patched()
 * branch. Run as `rerun` in either checkout, then rename the older one's files.
 */
async function recordRerun(env: TestWorkers, start: Start): Promise<void> {
  const spec = await tinySpec(env, { grid: { hidden_units: [16, 32], n_epochs: [1] }, seed: Math.floor(Math.random() * 2 ** 31), reuse: true, concurrency: 1 });
  await (await start(spec, 'replay-rerun-first')).result();
  await save(env.client, 'rerun', await start(spec, 'replay-rerun'));
}

/**
 * A random search whose seed draws one configuration for its runs 1 and 2 (one trial id), concurrency 2.
 * Recorded on the code that runs such a trial once ('repeated': patch 'sweep-repeated-trial-once'), and
 * once in a checkout of the code before it ('repeated-unpatched': a trial workflow per run, the second
 * waiting for the first one's lease), for the replay test's patched() branch. Run as `repeated` in
 * either checkout, then rename the older one's files.
 */
async function recordRepeated(env: TestWorkers, start: Start): Promise<void> {
  const space = { hidden_units: { type: 'choice', values: [8, 16, 24] }, dropout: { type: 'choice', values: [0.1, 0.2] }, n_epochs: { type: 'choice', values: [1] } };
  const spec = await tinySpec(env, { grid: undefined, seed: 2, reuse: false, concurrency: 2, search: { method: 'random', budget: 3, space } });
  await save(env.client, 'repeated', await start(spec, 'replay-repeated'));
}

/**
 * An ASHA grid whose run 2 waits at its first rung longer than a trial keeps its lease there, because
 * the recorder holds run 1's lease meanwhile (as another sweep's trial would): run 2 gives its lease
 * back and takes it again to train on (patch 'trial-lease-freed-at-rung'; the ASHA sets above hold it
 * through every wait). The first sweep only finds the trial ids.
 */
async function recordLeaseFreedAtRung(env: TestWorkers, start: Start): Promise<void> {
  const search = { method: 'grid', space: { hidden_units: { type: 'choice', values: [8, 16] } }, earlyStopping: { rule: 'asha', gracePeriod: 1, reductionFactor: 2, maxEpochs: 4 } };
  const spec = await tinySpec(env, { grid: undefined, seed: Math.floor(Math.random() * 2 ** 31), reuse: false, concurrency: 2, search });
  const ids = await (await start(spec, 'replay-lease-freed-ids')).result() as { ranked: Array<{ run: number; trialId: string }> };
  const firstTrial = ids.ranked.find((t) => t.run === 1)!.trialId;
  const held = await env.client.workflow.start('trainingLeaseWorkflow', { taskQueue: env.cpuQueue, workflowId: `training-lease.${firstTrial}` });
  const sweep = await start(spec, 'replay-lease-freed');
  const gaveBack = async () => ((await env.client.workflow.getHandle(`${sweep.workflowId}.trial-002`).fetchHistory().catch(() => undefined))?.events ?? [])
    .some((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'release');
  await waitFor('trial 2 to give its lease back at its rung', gaveBack, 60_000, 500);
  await held.signal('release');
  await save(env.client, 'lease-freed', sweep);
}

/**
 * A random search that continues as new, 2 trials per run, over 6 configurations in 6 draws (seed 13):
 * a configuration drawn again in a later run shares its first run's outcome (patch
 * 'sweep-repeated-across-runs'; continued.* holds no repeat). Recorded also in a worktree of 6bb42a6,
 * the code before the patch, with this file copied in and the check below left out (there the repeats
 * ran trial workflows of their own), then renamed repeated-continued-unpatched.*.
 */
async function recordRepeatedContinued(env: TestWorkers, start: Start): Promise<void> {
  const space = { hidden_units: { type: 'int', low: 8, high: 24, step: 8 }, dropout: { type: 'choice', values: [0.1, 0.2] }, n_epochs: { type: 'choice', values: [1] } };
  const spec = await tinySpec(env, { grid: undefined, seed: 13, reuse: false, concurrency: 2, search: { method: 'random', budget: 6, space } });
  const sweep = await start(spec, 'replay-repeated-continued', { trialsPerRun: 2 });
  const board = await sweep.result() as { ranked: Array<{ run: number; sameAs?: number }> };
  if (!board.ranked.some((t) => t.sameAs !== undefined && Math.ceil(t.sameAs / 2) < Math.ceil(t.run / 2))) throw new Error('no configuration was drawn again in a later run: pick another seed');
  await save(env.client, 'repeated-continued', sweep);
}

/**
 * A grid sweep on the code that checks a spec with the third generation of checks (patch
 * 'sweep-spec-checks-3': one task queue per role); every fixture before it lacks the marker.
 */
async function recordSpecChecks3(env: TestWorkers, start: Start): Promise<void> {
  const spec = await tinySpec(env, { grid: { hidden_units: [8, 16], n_epochs: [1] }, reuse: false });
  await save(env.client, 'spec-checks-3', await start(spec, 'replay-spec-checks-3'));
}

/**
 * A median-rule search deciding every 2 epochs that continues as new, 2 trials per run: each run hands
 * the next the early-stopping ledger. median-continued-unpatched.* were recorded with the sweep
 * workflow's `ledger.state(nextRun)` as before patch 'sweep-ledger-at-decisions' (every epoch carried).
 */
async function recordMedianContinued(env: TestWorkers, start: Start): Promise<void> {
  const space = { hidden_units: { type: 'int', low: 8, high: 32, step: 8 }, lr: { type: 'loguniform', low: 1e-3, high: 3e-2 }, n_epochs: { type: 'choice', values: [6] } };
  const earlyStopping = { rule: 'median', minEpochs: 1, minTrials: 1, intervalEpochs: 2 };
  const spec = await tinySpec(env, { grid: undefined, seed: 17, reuse: false, concurrency: 2, search: { method: 'random', budget: 6, space, earlyStopping } });
  await save(env.client, process.env.RECORD_AS ?? 'median-continued', await start(spec, 'replay-median-continued', { trialsPerRun: 2 }));
}

/**
 * A random search whose budget (3) is above its space's configurations (2: a stepped int range and a
 * choice), which the fourth generation of checks refuses (patch 'sweep-spec-checks-4'); the repeat
 * shares run 1's trial. Recorded on the code before that patch as int-budget-unpatched.*: such a sweep
 * must replay as it ran. On the code after it, the refusal is recorded as int-budget.*.
 */
async function recordIntBudget(env: TestWorkers, start: Start): Promise<void> {
  const space = { hidden_units: { type: 'int', low: 8, high: 16, step: 8 }, dropout: { type: 'choice', values: [0.1] }, n_epochs: { type: 'choice', values: [1] } };
  const spec = await tinySpec(env, { grid: undefined, seed: 5, reuse: false, concurrency: 2, search: { method: 'random', budget: 3, space } });
  await save(env.client, process.env.RECORD_AS ?? 'int-budget', await start(spec, 'replay-int-budget'));
}

/**
 * A random search that maximises val loss, which the fifth generation of checks refuses (patch
 * 'sweep-spec-checks-5'): it would rank the worst-fitting trial first. Recorded on the code before that
 * patch as objective-direction-unpatched.*: such a sweep must replay as it ran. On the code after it,
 * the refusal is recorded as objective-direction.*.
 */
async function recordObjectiveDirection(env: TestWorkers, start: Start): Promise<void> {
  const space = { hidden_units: { type: 'int', low: 8, high: 16, step: 8 }, n_epochs: { type: 'choice', values: [1] } };
  const objective = { metric: 'valLoss', direction: 'maximize' };
  const spec = await tinySpec(env, { grid: undefined, seed: 5, reuse: false, concurrency: 2, search: { method: 'random', budget: 2, space, objective } });
  await save(env.client, process.env.RECORD_AS ?? 'objective-direction', await start(spec, 'replay-objective-direction'));
}

/**
 * A bayesian search whose budget (3) is above its space's configurations (2), with the backbone's mean
 * and std given on the 0-255 scale: both refused by the sixth generation of checks (patch
 * 'sweep-spec-checks-6'). Recorded on the code before that patch as spec-checks-6-unpatched.*: such a
 * sweep must replay as it ran. On the code after it, the refusal is recorded as spec-checks-6.*.
 */
async function recordSpecChecks6(env: TestWorkers, start: Start): Promise<void> {
  if (suggestWorkerMissing()) throw new Error(`spec-checks-6 needs the suggest worker: ${suggestWorkerMissing()}`);
  const space = { hidden_units: { type: 'int', low: 8, high: 16, step: 8 }, n_epochs: { type: 'choice', values: [1] } };
  const spec = await tinySpec(env, {
    grid: undefined, seed: 5, reuse: false, concurrency: 1, search: { method: 'bayesian', budget: 3, startupTrials: 2, space },
    backbone: { mean: [123.68, 116.78, 103.94], std: [58.39, 57.12, 57.38] },
  });
  await save(env.client, process.env.RECORD_AS ?? 'spec-checks-6', await start(spec, 'replay-spec-checks-6'));
}

/** A small grid that loads and checks its backbone while it ingests (patch 'sweep-backbone-checked-first'). */
async function recordBackboneChecked(env: TestWorkers, start: Start): Promise<void> {
  const spec = await tinySpec(env, { grid: { hidden_units: [8, 16], n_epochs: [1] }, seed: 13, reuse: false });
  await save(env.client, 'backbone-checked', await start(spec, 'replay-backbone-checked'));
}

/**
 * A random search ranked by val loss that continues as new, 1 trial per run: each run sets the memo
 * (patch 'sweep-objective-memo') that `sweep list` reads the objective from.
 */
async function recordObjectiveMemo(env: TestWorkers, start: Start): Promise<void> {
  const space = { hidden_units: { type: 'int', low: 8, high: 16, step: 8 }, n_epochs: { type: 'choice', values: [1] } };
  const spec = await tinySpec(env, { grid: undefined, seed: 7, reuse: false, concurrency: 1, search: { method: 'random', budget: 2, space, objective: { metric: 'valLoss' } } });
  await save(env.client, 'objective-memo', await start(spec, 'replay-objective-memo', { trialsPerRun: 1 }));
}

/** A small grid that publishes the stage `ranking` once its trials are done (patch 'sweep-ranking-stage'). */
async function recordRankingStage(env: TestWorkers, start: Start): Promise<void> {
  const spec = await tinySpec(env, { grid: { hidden_units: [8, 16], n_epochs: [1] }, seed: 11, reuse: false });
  await save(env.client, 'ranking-stage', await start(spec, 'replay-ranking-stage'));
}

const SETS = {
  grid: recordGrid, search: recordSearch, continued: recordContinued, 'bayesian-continued': recordBayesianContinued, 'lease-to-end': recordLeaseToEnd,
  'test-in-training': recordTestInTraining, rerun: recordRerun, repeated: recordRepeated, 'lease-freed': recordLeaseFreedAtRung,
  'repeated-continued': recordRepeatedContinued, 'median-continued': recordMedianContinued, 'suggesting-stage': recordSuggestingStage,
  'spec-checks-3': recordSpecChecks3, 'int-budget': recordIntBudget, 'objective-direction': recordObjectiveDirection,
  'objective-memo': recordObjectiveMemo, 'ranking-stage': recordRankingStage, 'spec-checks-6': recordSpecChecks6,
  'backbone-checked': recordBackboneChecked,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !(name in SETS));
  if (unknown.length) throw new Error(`unknown history set ${unknown.join(', ')}: name some of ${Object.keys(SETS).join(', ')} (or none for all)`);
  fs.mkdirSync(OUT, { recursive: true });
  const env = await startTestWorkers('replay-record', suggestWorkerMissing() ? ['cpu', 'gpu'] : ['cpu', 'gpu', 'suggest']);
  try {
    const start: Start = (spec, prefix, continued) => env.client.workflow.start('sweepWorkflow', {
      taskQueue: env.cpuQueue, workflowId: uniqueId(prefix), args: continued === undefined ? [spec] : [spec, continued],
    });
    for (const [name, record] of Object.entries(SETS)) if (!names.length || names.includes(name)) await record(env, start);
    fs.writeFileSync(INDEX, `${JSON.stringify(index, null, 1)}\n`);
  } finally {
    await env.stop();
  }
}

main().catch((error) => { console.error(error); process.exit(1); });
