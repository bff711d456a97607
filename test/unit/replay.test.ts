// Replay safety: histories of real sweeps (test/replay/histories, recorded by
// test/replay/record-histories.ts from every path through the workflows: grid, random, bayesian, ASHA,
// a sweep that continued as new, every run of it, and a bayesian one) replayed against the current
// workflow code. A change that would break sweeps already running (a command added, removed or
// reordered without patched()) fails here, in CI, instead of in production.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { temporal } from '@temporalio/proto';
import { parseSweepSpec } from '../../lib/sweep-spec';

const HISTORIES = path.join(__dirname, '..', 'replay', 'histories');

function histories(filter: (file: string) => boolean = () => true) {
  const ids = JSON.parse(fs.readFileSync(path.join(HISTORIES, 'index.json'), 'utf8')) as Record<string, string>;
  return Object.keys(ids).filter(filter).sort().map((file) => ({
    workflowId: ids[file],
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8'))),
  }));
}

async function replay(workflowsPath: string, filter?: (file: string) => boolean): Promise<Array<{ workflowId: string; error?: Error }>> {
  const results: Array<{ workflowId: string; error?: Error }> = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath }, histories(filter))) results.push(result);
  return results;
}

/** The activity types a recorded history scheduled, in order. */
function scheduledActivities(file: string): string[] {
  return (histories((f) => f === file)[0].history.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

// The replay of the broken variant makes core log each non-determinism it finds; the assertions say it.
Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });

test('every recorded sweep, trial and lease history replays on the current workflow code', async () => {
  const results = await replay(require.resolve('../../workflows'));
  assert.ok(results.length >= 40, `${results.length} histories`);
  for (const id of ['.trial-001', 'training-lease.', 'replay-random-', 'replay-bayesian-', 'replay-asha-', 'replay-continued-', 'replay-before-chunking-', 'replay-bayesian-continued-']) assert.ok(results.some((r) => r.workflowId.includes(id)), `a history with ${id} in its id`);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('early-stopping sweeps recorded before the progress query named the runs waiting at a rung replay on the code that names them', async () => {
  // That handler is registered only where a sweep has an early-stopping ledger; these sweeps received
  // the trials' rung reports (signals) and sent stop decisions, and were recorded before it existed.
  const files = (f: string) => /^(asha|lease-end-asha|test-in-training-asha|median-continued)\.\d+-sweep\.json$/.test(f);
  const recorded = histories(files);
  assert.ok(recorded.length >= 5, `${recorded.length} early-stopping sweep histories`);
  for (const { history } of recorded) assert.ok((history.events ?? []).some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'epochsReported'), 'rung reports in each');
  const results = await replay(require.resolve('../../workflows'), files);
  assert.equal(results.length, recorded.length);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('a sweep started before continue-as-new, with more trials than a run now takes, replays as the one run it was', async () => {
  // Recorded on the workflow code of c00201f (before continue-as-new), started with trialsPerRun 2,
  // which that code ignored: 10 trials in one run. Today's code would chunk such a sweep; only
  // patched('sweep-continue-as-new'), false for a history without its marker, keeps it one run.
  const sweep = histories((file) => file === 'before-chunking.00-sweep.json')[0].history;
  const events = sweep.events ?? [];
  const [, continued] = events[0].workflowExecutionStartedEventAttributes!.input!.payloads!.map((p) => JSON.parse(new TextDecoder().decode(p.data!)));
  const trials = events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'trialWorkflow').length;
  assert.ok(trials > continued.trialsPerRun, `the fixture has ${trials} trials, more than its trialsPerRun ${continued.trialsPerRun}`);
  assert.ok(events.at(-1)!.workflowExecutionCompletedEventAttributes, 'it completed in one run');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('before-chunking.'));
  assert.equal(results.length, 21);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('sweeps that wrote their HParams experiment every batch and every run replay as they ran', async () => {
  // Recorded before patched('sweep-experiment-once'): a bayesian sweep wrote the experiment once per
  // batch, a continued sweep once per run. Today's code writes it once per sweep; only the patch, false
  // for a history without its marker, keeps these writes in their replay.
  const writes = (file: string) => (histories((f) => f === file)[0].history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'writeTensorboardExperiment').length;
  assert.ok(writes('bayesian.00-sweep.json') > 1, 'the bayesian fixture wrote the experiment in a later batch');
  assert.ok(writes('continued.01-sweep.json') > 0, 'the continued fixture wrote the experiment in a later run');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('bayesian.') || file.startsWith('continued.'));
  assert.equal(results.length, 34);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
  // Recorded after the patch: a later run holds its marker and writes nothing (the replay of every
  // fixture, in the first test, covers that branch too).
  assert.ok(patches('bayesian-continued.01-sweep.json').some((text) => text.includes('sweep-experiment-once')), 'the second run holds the patch marker');
  assert.equal(writes('bayesian-continued.01-sweep.json'), 0);
});

test('a rerun whose plan marked its trials found finished replays as it ran: within the bound before the patch, beside it after', async () => {
  // Both sweeps ran 4 trials with stored results, concurrency 1, and a plan that marked all 4.
  // rerun-unpatched.* ran on the workflow code before the patch (eba3ff7, which ignored the marks):
  // one trial after another. rerun.* ran on today's: all four at once, under the patch's marker.
  // Only patched('sweep-reused-beside-bound'), false for a history without the marker, replays the first.
  const shape = (file: string) => {
    const events = histories((f) => f === file)[0].history.events ?? [];
    const planned = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'planTrials')!;
    const plans = JSON.parse(new TextDecoder().decode(events.find((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === planned.eventId!.toString())!
      .activityTaskCompletedEventAttributes!.result!.payloads![0].data!)) as Array<{ resultFound?: true }>;
    // The most trial workflows started before one completed.
    let running = 0;
    let most = 0;
    for (const e of events) {
      if (e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'trialWorkflow') most = Math.max(most, ++running);
      if (e.childWorkflowExecutionCompletedEventAttributes) running--;
    }
    return { found: plans.filter((p) => p.resultFound).length, most };
  };
  assert.deepEqual(shape('rerun-unpatched.00-sweep.json'), { found: 4, most: 1 });
  assert.deepEqual(shape('rerun.00-sweep.json'), { found: 4, most: 4 });
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('rerun'));
  assert.equal(results.length, 18);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('sweeps set their memo (the objective, for sweep list) in every run under its patch; those recorded before set none and replay so', async () => {
  // objective-memo.*: a random search ranked by val loss, continued as new once; each run starts with
  // no memo (continue-as-new carries none) and sets it. Every older fixture ran without it: only
  // patched('sweep-objective-memo'), false for a history without its marker, keeps them replaying.
  const memos = (file: string) => (histories((f) => f === file)[0].history.events ?? [])
    .flatMap((e) => Object.entries(e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields ?? {}))
    .map(([key, payload]) => [key, JSON.parse(new TextDecoder().decode(payload.data!))]);
  for (const file of ['objective-memo.00-sweep.json', 'objective-memo.01-sweep.json']) {
    assert.deepEqual(memos(file), [['objective', { metric: 'valLoss', direction: 'minimize' }]], file);
    assert.ok(patches(file).some((text) => text.includes('sweep-objective-memo')), `${file} holds the patch marker`);
  }
  const older = Object.keys(JSON.parse(fs.readFileSync(path.join(HISTORIES, 'index.json'), 'utf8')) as Record<string, string>)
    .filter((f) => f.endsWith('-sweep.json') && !patches(f).some((text) => text.includes('sweep-objective-memo')));
  assert.ok(older.length >= 30, `${older.length} older sweep histories`);
  assert.deepEqual(older.filter((f) => memos(f).length), [], 'no older fixture set a memo');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('objective-memo.') || file.startsWith('objective-direction') || file.startsWith('continued.'));
  assert.ok(results.length >= 10, `${results.length} histories`);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('a deliberately non-deterministic sweep workflow fails the replay', async () => {
  const results = await replay(require.resolve('../replay/nondeterministic-workflows'), (file) => file.endsWith('-sweep.json') && !file.startsWith('spec-refused'));
  assert.ok(results.length >= 4);
  for (const result of results) assert.ok(result.error instanceof DeterminismViolationError, `${result.workflowId}: ${result.error?.message ?? 'replayed without error'}`);
});

test('trials that released their training lease by signal replay with it; trials that hold it to their end replay without it', async () => {
  // Recorded before patched('trial-lease-closes-with-trial'): a trial signalled its lease after training
  // (completed.*, lease-*, the searches). Recorded after it (lease-end-*): no signal; the lease is
  // terminated when its trial closes. Only the patch, false for a history without its marker, keeps both.
  const released = (file: string) => (histories((f) => f === file)[0].history.events ?? [])
    .some((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'release');
  assert.ok(released('completed.01-trial.json'), 'the older trial fixture releases its lease by signal');
  assert.ok(!released('lease-end-a.01-trial.json') && !released('lease-end-asha.03-trial.json'), 'the newer ones do not');
  const lease = histories((f) => f === 'lease-end-a.02-lease.json')[0].history.events ?? [];
  assert.ok(lease.at(-1)!.workflowExecutionTerminatedEventAttributes, 'the lease ended with its trial (parent close policy)');
  const waited = histories((f) => f === 'lease-end-b.01-trial.json')[0].history.events ?? [];
  assert.ok(waited.some((e) => e.startChildWorkflowExecutionFailedEventAttributes), 'a trial of the second sweep waited for the first one\'s lease');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('completed.') || (file.startsWith('lease-') && !file.startsWith('lease-freed.')) || file.startsWith('asha.'));
  assert.equal(results.length, 43);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('trials that called evaluateTrial after training replay with it; trials whose training scored the test split replay without it', async () => {
  // No patch marks the change: a trial calls evaluateTrial only when trainTrial's recorded result has no
  // test scores, so each history replays the branch it ran. Recorded before (lease-end-*): trainTrial,
  // then evaluateTrial. Recorded after (test-in-training*): trainTrial alone, an ASHA trial stopped at
  // its first rung included.
  const activities = (file: string) => (histories((f) => f === file)[0].history.events ?? [])
    .flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  assert.deepEqual(activities('lease-end-a.01-trial.json'), ['trainTrial', 'evaluateTrial']);
  assert.deepEqual(activities('test-in-training.01-trial.json'), ['trainTrial']);
  assert.ok(histories((f) => f.startsWith('test-in-training-asha.') && f.endsWith('-trial.json'))
    .some(({ history }) => (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length === 1), 'an ASHA trial stopped after one segment, scored by it');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('lease-end-') || file.startsWith('test-in-training'));
  assert.equal(results.length, 33);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

/**
 * Replays the sweep history `file` with its spec (the first run's input) replaced by `rewrite`'s JSON
 * text; the replay's error, if any. The workflow re-parses the spec on every replay.
 */
/** The spec a recorded sweep was started with (its first argument). */
function specOf(file: string): Record<string, any> {
  const input = histories((f) => f === file)[0].history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
  return JSON.parse(new TextDecoder().decode(input.data!));
}

/** The texts of a fixture's marker details: a patch's marker names the patch. */
function patches(file: string): string[] {
  return (histories((f) => f === file)[0].history.events ?? [])
    .flatMap((e) => Object.values(e.markerRecordedEventAttributes?.details ?? {}))
    .flatMap((payloads) => (payloads.payloads ?? []).map((p) => new TextDecoder().decode(p.data ?? new Uint8Array())));
}

async function replayWithSpec(file: string, rewrite: (spec: Record<string, any>) => string): Promise<Error | undefined> {
  const { workflowId, history } = histories((f) => f === file)[0];
  const input = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
  input.data = new TextEncoder().encode(rewrite(JSON.parse(new TextDecoder().decode(input.data!))));
  const results: Array<{ workflowId: string; error?: Error }> = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows') }, [{ workflowId, history }])) results.push(result);
  assert.equal(results.length, 1);
  return results[0].error;
}

test('a sweep whose GPU workers computed its features with two copies of the backbone, started before the check, replays as it ran: it went on to its trials', async () => {
  // Recorded once, with the fake activities of test/workflows (val from backbone b on gpu-b, the rest
  // from a on gpu-a), on the workflow code of 0ad6ba1, before the check: that code went on to train. A
  // new sweep fails there (patched('sweep-backbones-agree')); without the patch the replay fails at the step.
  const file = 'backbones-differ.00-sweep.json';
  assert.ok((histories((f) => f === file)[0].history.events ?? []).some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes), 'it started its trials');
  const results = await replay(require.resolve('../../workflows'), (f) => f === file);
  assert.equal(results.length, 1);
  assert.equal(results[0].error, undefined, results[0].error?.message);
});

test('a sweep failed by the backbone check replays as it ran, whether the check judged each shard as it came in or every shard at the end', async () => {
  // Recorded once each, with the fake activities of test/workflows (12 train shards, then val and test;
  // train shard 1 from backbone b on gpu-b): on 1ddd3e7, whose check waited for every shard (all 14
  // asked for, the marker after the last), and on 7f66255, whose check fails the sweep at the second
  // copy's shard. Without the check at the end the first fails with a nondeterminism error.
  const files = ['backbones-differ-late.00-sweep.json', 'backbones-differ-early.00-sweep.json'];
  const scheduled = (file: string) => (histories((f) => f === file)[0].history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'extractFeatures').length;
  assert.deepEqual(files.map(scheduled), [14, 3], 'every shard asked for at the end; at most the first few as they came in');
  const results = await replay(require.resolve('../../workflows'), (f) => files.includes(f));
  assert.equal(results.length, 2);
  for (const result of results) assert.equal(result.error, undefined, `${result.workflowId}: ${result.error?.message}`);
});

test('a sweep whose spec has fields the strict checks refuse, started before them, replays as it ran', async () => {
  // The recorded grid sweep's spec, with fields the parser of its time ignored (a note, a misspelt
  // augmentation field): that code ran this same history. Today's parser refuses them, but only for
  // sweeps that record the patch's marker (patched('sweep-spec-strict')); without it the replay would
  // fail the workflow at its first task instead of scheduling what the history holds.
  const error = await replayWithSpec('completed.00-sweep.json', (spec) => {
    // And a label of 1e400 (Infinity once parsed), which the parser of its time took and the strict checks refuse.
    const withTypos = { ...spec, notes: 'recorded before the strict checks', augmentation: { ...spec.augmentation, vies: 2 }, grid: { ...spec.grid, replicate: [Infinity] } };
    assert.throws(() => parseSweepSpec(withTypos), /notes: not a field of the spec[\s\S]*augmentation\.vies[\s\S]*grid\.replicate: a number too large/);
    return JSON.stringify({ ...withTypos, grid: { ...withTypos.grid, replicate: ['INFINITY'] } }).replace('"INFINITY"', '1e400');
  });
  assert.equal(error, undefined, error?.message);
});

test('a sweep started under the first generation of strict checks replays without the checks added since (patch sweep-spec-checks-2)', async () => {
  // Both recorded after patched('sweep-spec-strict') and before patched('sweep-spec-checks-2'): their
  // first task ran the first generation of checks. Each rewrite breaks one check of the second generation;
  // without the patch the replay fails the sweep at its first task (checked by hand: nondeterminism).
  const grid = 'cancelled-exporting-unpatched.00-sweep.json';
  const search = 'cancelled-suggesting-unpatched.00-sweep.json';
  const cases: Array<[string, string, (spec: Record<string, any>) => Record<string, any>, RegExp]> = [
    [grid, 'an oversized head', (spec) => ({ ...spec, grid: { ...spec.grid, hidden_units: [8, 20_000] } }), /grid\.hidden_units: 20000 hidden units is more than/],
    [grid, 'a class written twice', (spec) => ({ ...spec, data: { ...spec.data, classes: [...spec.data.classes, 'ros\u00e9', 'rose\u0301'] } }), /data\.classes: "[^"]+" and "[^"]+" are one name/],
    [search, 'median-rule histories past the limits', (spec) => ({
      ...spec, search: { ...spec.search, earlyStopping: { rule: 'median', minTrials: 1 }, space: { ...spec.search.space, n_epochs: { type: 'choice', values: [400] } } },
    }), /search\.earlyStopping: the median rule deciding every epoch .* MB in a trial's workflow history/],
  ];
  for (const [file, what, rewrite, refusal] of cases) {
    const rewritten = rewrite(specOf(file));
    assert.throws(() => parseSweepSpec(rewritten), refusal, `a new sweep with ${what} is refused`);
    const error = await replayWithSpec(file, () => JSON.stringify(rewritten));
    assert.equal(error, undefined, `${what}: ${error?.message}`);
  }
});

test('a sweep started before the third generation of checks replays with its task queue named for two roles; one started after it replays with the marker (patch sweep-spec-checks-3)', async () => {
  // A bayesian sweep recorded after patched('sweep-spec-checks-2') and before patched('sweep-spec-checks-3').
  // Such a sweep ran, its steps retried until the right role's worker took them; without the patch the
  // replay fails it at its first task (checked by hand).
  const file = 'suggesting-stage.00-sweep.json';
  const raw = specOf(file);
  const shared = { ...raw, taskQueues: { ...raw.taskQueues, suggest: raw.taskQueues.cpu } };
  assert.throws(() => parseSweepSpec(shared), /taskQueues\.suggest: "[^"]+" is also taskQueues\.cpu/, 'a new sweep with it is refused');
  const error = await replayWithSpec(file, () => JSON.stringify(shared));
  assert.equal(error, undefined, error?.message);
  // And a sweep recorded on the patched code (spec-checks-3.*) holds the marker and replays as it ran.
  const hasMarker = (f: string) => patches(f).some((text) => text.includes('sweep-spec-checks-3'));
  assert.equal(hasMarker(file), false);
  assert.equal(hasMarker('spec-checks-3.00-sweep.json'), true);
  const results = await replay(require.resolve('../../workflows'), (f) => f.startsWith('spec-checks-3.'));
  assert.equal(results.length, 9);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

/**
 * A generation of spec checks (patch `marker`): `name`-unpatched.* was recorded before the patch, with a
 * spec the generation refuses, and must replay as it ran; `name`.* is the same spec started after it,
 * refused at the first task, with the marker.
 */
async function assertChecksGeneration(name: string, marker: string, refusal: RegExp, recorded: number): Promise<void> {
  const [before, after] = [`${name}-unpatched.00-sweep.json`, `${name}.00-sweep.json`];
  assert.throws(() => parseSweepSpec(specOf(before)), refusal, 'a new sweep with its spec is refused');
  assert.deepEqual(specOf(after).search, specOf(before).search);
  const hasMarker = (f: string) => patches(f).some((text) => text.includes(marker));
  assert.equal(hasMarker(before), false);
  assert.equal(hasMarker(after), true);
  const results = await replay(require.resolve('../../workflows'), (f) => f.startsWith(`${name}.`) || f.startsWith(`${name}-unpatched.`));
  assert.equal(results.length, recorded);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
}

test('a random search whose budget passes its space of choices and integer ranges is refused since the fourth generation of checks; one started before replays as it ran (patch sweep-spec-checks-4)', async () => {
  // int-budget-unpatched.*: a budget of 3 over 2 configurations (a stepped int range and a choice); it
  // ran, its repeat sharing run 1's trial. Without the patch its replay fails at the first task (checked by hand).
  await assertChecksGeneration('int-budget', 'sweep-spec-checks-4', /search\.budget: the space has only 2 configurations/, 6);
});

test('a search whose objective maximises a loss is refused since the fifth generation of checks; one started before replays as it ran (patch sweep-spec-checks-5)', async () => {
  // objective-direction-unpatched.*: a random search of 2 trials maximising valLoss; it ran. Without the
  // patch its replay fails with a nondeterminism error (checked by hand).
  await assertChecksGeneration('objective-direction', 'sweep-spec-checks-5', /search\.objective\.direction: "maximize" would rank the trials with the highest valLoss first/, 6);
});

test('a bayesian budget past its space and a backbone mean on the 0-255 scale are refused since the sixth generation of checks; a sweep started before replays as it ran (patch sweep-spec-checks-6)', async () => {
  // spec-checks-6-unpatched.*: a bayesian search of 3 trials over 2 configurations (its repeat shares a
  // trial), its backbone's mean and std on the 0-255 scale; it ran to the end. Without the patch its
  // replay fails at the first task (checked by hand).
  await assertChecksGeneration('spec-checks-6', 'sweep-spec-checks-6', /search\.budget: the space has only 2 configurations .* so a bayesian search of 3 trials would repeat some/, 6);
  assert.throws(() => parseSweepSpec(specOf('spec-checks-6.00-sweep.json')), /backbone\.mean \[123\.68,116\.78,103\.94\]: values above 1 look like the 0-255 scale/);
});

test('sweeps that checked their backbone at the first feature shard replay without the check; one that loads it while ingesting replays with it (patch sweep-backbone-checked-first)', async () => {
  assert.deepEqual(scheduledActivities('ranking-stage.00-sweep.json').slice(0, 2), ['ingestDataset', 'balanceDataset']);
  assert.deepEqual(scheduledActivities('backbone-checked.00-sweep.json').slice(0, 3), ['checkBackbone', 'ingestDataset', 'balanceDataset']);
  assert.ok(patches('backbone-checked.00-sweep.json').some((text) => text.includes('sweep-backbone-checked-first')));
  const results = await replay(require.resolve('../../workflows'), (f) => f.startsWith('backbone-checked.') || f.startsWith('ranking-stage.'));
  assert.ok(results.length >= 10, `${results.length} histories`);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('a search that drew one configuration twice replays as it ran: a trial workflow per run before the patch, one per trial after', async () => {
  // repeated-unpatched.* ran on the code before patched('sweep-repeated-trial-once'): runs 1 and 2 (one
  // trial id) each started a trial workflow, the second waiting for the first's lease. repeated.* ran on
  // today's: run 2 shares run 1's outcome. Only the patch, false for a history without its marker, replays the first.
  const trialWorkflows = (file: string) => (histories((f) => f === file)[0].history.events ?? [])
    .filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'trialWorkflow').length;
  assert.equal(trialWorkflows('repeated-unpatched.00-sweep.json'), 3);
  assert.equal(trialWorkflows('repeated.00-sweep.json'), 2);
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('repeated.') || file.startsWith('repeated-unpatched.'));
  assert.equal(results.length, 12);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('ASHA trials that gave their lease back during a long wait at a rung replay with it; those that held it through every wait replay without it', async () => {
  // lease-freed.*: run 2 waited at its first rung past the 10 s a trial keeps its lease there (the
  // recorder held run 1's lease), gave it back by signal, and took it again to train on; at its second
  // rung the decision came first and the timer was cancelled. The ASHA sets before
  // patched('trial-lease-freed-at-rung') (asha.*, lease-end-asha.*, test-in-training-asha.*) have no timer.
  const events = (file: string) => histories((f) => f === file)[0].history.events ?? [];
  const waited = events('lease-freed.03-trial.json');
  const index = (match: (e: (typeof waited)[number]) => unknown) => waited.findIndex(match);
  const released = index((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'release');
  const leases = waited.flatMap((e, i) => (e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name === 'trainingLeaseWorkflow' ? [i] : []));
  const trainings = waited.flatMap((e, i) => (e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainTrial' ? [i] : []));
  assert.ok(index((e) => e.timerFiredEventAttributes) < released && released > trainings[0], 'the rung wait timed out, then the lease was given back');
  assert.ok(leases.length === 2 && released < leases[1] && leases[1] < trainings[1], 'and taken again before training on');
  assert.ok(waited.some((e) => e.timerCanceledEventAttributes), 'a decision that came in time cancelled the timer');
  assert.ok(!events('asha.03-trial.json').some((e) => e.timerStartedEventAttributes), 'the older ASHA trials have no timer');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('lease-freed.') || file.includes('asha.'));
  assert.equal(results.length, 32);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('a continued sweep whose later runs drew a configuration of an earlier run again replays as it ran: a trial workflow for the repeat before the patch, none after', async () => {
  // The same sweep (6 draws, 2 per run; runs 4 and 5 repeat configurations of earlier runs), recorded on
  // the code before patched('sweep-repeated-across-runs') (repeated-continued-unpatched.*, a worktree of
  // 6bb42a6: runs 4 and 5 started trial workflows of their own) and on today's (repeated-continued.*:
  // they share their first runs' outcomes). The older histories replay because their plans carry no
  // repeatOf: only a plan asked for with the earlier runs' parts, which only today's workflow asks for,
  // marks repeats (the patch, which records its marker where a marked repeat is first run, guards the rest).
  const trialWorkflows = (file: string) => (histories((f) => f === file)[0].history.events ?? [])
    .flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId?.split('.').at(-1) ?? []);
  const runs = (set: string) => ['00', '01', '02'].map((run) => trialWorkflows(`${set}.${run}-sweep.json`));
  assert.deepEqual(runs('repeated-continued-unpatched'), [['trial-001'], ['trial-003', 'trial-004'], ['trial-005', 'trial-006']]);
  assert.deepEqual(runs('repeated-continued'), [['trial-001'], ['trial-003'], ['trial-006']]);
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('repeated-continued') || file.startsWith('continued.'));
  assert.equal(results.length, 13 + 9 + 25);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('a bayesian sweep cancelled while it asks for a suggestion replays either way: before the patch it ended there, after it ranks what finished', async () => {
  // Recorded by the workflow test "cancelled while a suggestion is asked for" (fake activities), with its
  // history saved: -unpatched on a worktree of a9f0e90, the code before patched('sweep-cancelled-while-suggesting').
  assert.ok(!scheduledActivities('cancelled-suggesting-unpatched.00-sweep.json').includes('rankSweep'), 'the older sweep ended at the cancelled suggestion');
  assert.ok(scheduledActivities('cancelled-suggesting.00-sweep.json').includes('rankSweep'), 'the newer one ranked what finished');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('cancelled-suggesting'));
  // Without the patch (break whenever cancelled) the older history fails: 'Activity machine does not handle WorkflowExecutionCanceled'.
  assert.equal(results.length, 2);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('a sweep cancelled while a later run plans, or while its best trial is exported, replays either way: before the patches it ended unranked or completed, after them it ranks and ends cancelled', async () => {
  // Recorded by the workflow tests "cancelled while a later run plans its trials" (the second run's
  // history) and "cancelled while the best trial is exported" (fake activities): -unpatched on the code of
  // 2b81fc8, before patched('sweep-cancelled-while-planning') and patched('sweep-cancelled-while-exporting').
  const ended = (file: string) => (histories((f) => f === file)[0].history.events ?? []).at(-1)!.eventType;
  const { EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: cancelled, EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: completed } = temporal.api.enums.v1.EventType;
  assert.ok(!scheduledActivities('cancelled-planning-unpatched.00-sweep.json').includes('rankSweep'), 'the older run ended at the cancelled plan');
  assert.ok(scheduledActivities('cancelled-planning.00-sweep.json').includes('rankSweep'), 'the newer one ranked the earlier runs');
  assert.equal(ended('cancelled-exporting-unpatched.00-sweep.json'), completed, 'the older sweep completed without its model');
  assert.equal(ended('cancelled-exporting.00-sweep.json'), cancelled);
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('cancelled-planning') || file.startsWith('cancelled-exporting'));
  assert.equal(results.length, 4);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('median-rule sweeps that continued as new replay either way: before the patch carrying every epoch\'s values, after it the values at decision epochs', async () => {
  // Recorded by test/replay/record-histories.ts median-continued (-unpatched: without patched('sweep-ledger-at-decisions')).
  const carried = (file: string) => {
    const [, continued] = histories((f) => f === file)[0].history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads!;
    return (JSON.parse(Buffer.from(continued.data!).toString()) as { carry: { ledger: Record<string, unknown> } }).carry.ledger;
  };
  assert.ok(!('atDecisions' in carried('median-continued-unpatched.01-sweep.json')), 'the older sweep carried every epoch');
  assert.ok(carried('median-continued.01-sweep.json').atDecisions, 'the newer one the values at decision epochs');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('median-continued'));
  assert.equal(results.length, 30);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

/** The SweepStatus each `activity` of a sweep's history was scheduled under: the last upserted before it. */
function stagesWhenScheduled(file: string, activity: string): Array<string | undefined> {
  const { EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: upsert, EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: scheduled } = temporal.api.enums.v1.EventType;
  let stage: string | undefined;
  const stages: Array<string | undefined> = [];
  for (const e of histories((f) => f === file)[0].history.events ?? []) {
    const status = e.eventType === upsert ? e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.SweepStatus : undefined;
    if (status?.data) stage = JSON.parse(Buffer.from(status.data).toString());
    if (e.eventType === scheduled && e.activityTaskScheduledEventAttributes?.activityType?.name === activity) stages.push(stage);
  }
  return stages;
}

test('bayesian sweeps replay either way: before patch sweep-suggesting-stage with no stage before a suggestion, after it publishing "suggesting trials" before each', async () => {
  // Recorded by test/replay/record-histories.ts: bayesian.* (search) before the patch, suggesting-stage.* after it.
  assert.deepEqual(stagesWhenScheduled('bayesian.00-sweep.json', 'suggestTrials'), ['extracting features', 'training'], 'the older sweep showed the step before');
  assert.deepEqual(stagesWhenScheduled('suggesting-stage.00-sweep.json', 'suggestTrials'), ['suggesting trials', 'suggesting trials']);
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('bayesian.') || file.startsWith('suggesting-stage.'));
  assert.equal(results.length, 18);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('sweeps that scheduled their report with 3 attempts at most replay on the code that retries it like every step (a retry policy is not compared)', async () => {
  const reportAttempts = (file: string) => (histories((f) => f === file)[0].history.events ?? [])
    .flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name === 'writeReport' ? [e.activityTaskScheduledEventAttributes.retryPolicy?.maximumAttempts ?? 0] : []));
  assert.deepEqual(reportAttempts('completed.00-sweep.json'), [3], 'recorded with the old cap');
  assert.deepEqual(reportAttempts('ranking-stage.00-sweep.json'), [0], 'recorded without it');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('completed.') || file.startsWith('ranking-stage.'));
  assert.ok(results.length >= 10, `${results.length} histories`);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('sweeps publish the stage "ranking" while they export, rank and report under patch sweep-ranking-stage; those recorded before stayed at "training" and replay so', async () => {
  // ranking-stage.*: a small grid recorded after the patch; completed.* before it.
  for (const activity of ['exportModel', 'rankSweep', 'writeReport']) {
    assert.deepEqual(stagesWhenScheduled('ranking-stage.00-sweep.json', activity), ['ranking'], activity);
    assert.deepEqual(stagesWhenScheduled('completed.00-sweep.json', activity), ['training'], `${activity}, before the patch`);
  }
  assert.ok(patches('ranking-stage.00-sweep.json').some((text) => text.includes('sweep-ranking-stage')), 'the newer sweep holds the patch marker');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('ranking-stage.') || file.startsWith('completed.') || file.startsWith('cancelled.'));
  assert.ok(results.length >= 10, `${results.length} histories`);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

/** The first argument of each of a recorded history's commands of `type` (an activity type, or a child workflow type). */
function recordedInputs(file: string, type: string): Array<Record<string, unknown>> {
  return (histories((f) => f === file)[0].history.events ?? []).flatMap((e) => {
    const activity = e.activityTaskScheduledEventAttributes;
    const child = e.startChildWorkflowExecutionInitiatedEventAttributes;
    const input = activity?.activityType?.name === type ? activity.input : child?.workflowType?.name === type ? child.input : undefined;
    return input ? [JSON.parse(new TextDecoder().decode(input.payloads![0].data!)) as Record<string, unknown>] : [];
  });
}

test('sweeps that ranked without the split\'s class names replay on the code that passes them to rankSweep (an activity\'s input is not compared)', async () => {
  const recorded = recordedInputs('ranking-stage.00-sweep.json', 'rankSweep');
  assert.equal(recorded.length, 1);
  assert.ok(!('classes' in recorded[0]), 'recorded before rankSweep took the classes');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('ranking-stage.') || file.startsWith('completed.') || file.startsWith('asha.'));
  assert.ok(results.length >= 10, `${results.length} histories`);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});

test('sweeps that gave every trial and every plan the class names replay on the code that gives them neither (inputs of activities and children are not compared, so no patch)', async () => {
  // bayesian.*: a plan per batch; asha.*: a trial workflow per configuration. Both recorded before 2026-12-08.
  for (const file of ['bayesian.00-sweep.json', 'asha.00-sweep.json']) {
    const plans = recordedInputs(file, 'planTrials');
    const trials = recordedInputs(file, 'trialWorkflow');
    assert.ok(plans.length >= 1 && trials.length >= 4, `${file}: ${plans.length} plans, ${trials.length} trials`);
    for (const input of [...plans, ...trials]) assert.ok(Array.isArray(input.classes), `${file}: recorded with the class names`);
  }
  assert.ok(recordedInputs('bayesian.00-sweep.json', 'planTrials').length >= 2, 'a plan per batch');
  const results = await replay(require.resolve('../../workflows'), (file) => file.startsWith('bayesian.') || file.startsWith('asha.'));
  assert.ok(results.length >= 18, `${results.length} histories`);
  assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${r.error!.message}`), []);
});
