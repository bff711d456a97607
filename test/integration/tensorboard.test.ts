// TensorBoard on the real stack: a sweep's event files read back from MinIO over S3 with TensorBoard's
// own readers (test/python/read_events.py, the same boto3 path `sweep tensorboard` uses), the real
// `tensorboard` server started by `sweep tensorboard` while the sweep runs, a reused trial, and a
// resumed trial without duplicate steps.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deleteObject, getJson, listKeys, putJson, putObject } from '../../platform/storage';
import { tensorboardEnv, tensorboardLogdir } from '../../cli/tensorboard';
import { artifactKeys } from '../../lib/artifact-keys';
import { Leaderboard, TrainResult, TrialSummary } from '../../lib/sweep-types';
import { SCALAR_TAGS, epochEventFile, trialEventSeries, trialRunName } from '../../formats/tensorboard-layout';
import { HEAD_TENSOR_NAMES } from '../../model/head';
import { REPO_ROOT, stackDir } from '../../platform/config';
import { freePorts } from './free-ports';
import { TestWorkers, startTestWorkers, tinySpec, uniqueId } from './harness';
import { waitFor } from '../waiting';
import { sweepWorkflow } from '../../workflows';

const PYTHON = path.join(stackDir(), 'venv', 'bin', 'python');
const READER = path.join(REPO_ROOT, 'test', 'python', 'read_events.py');
const SWEEP_BIN = path.join(REPO_ROOT, 'bin', 'sweep.js');
const EPOCHS = 3;

let env: TestWorkers;
before(async () => { env = await startTestWorkers('tensorboard'); });
after(async () => { await env.stop(); });

async function runSweep(spec: unknown, id: string): Promise<Leaderboard> {
  return env.client.workflow.execute(sweepWorkflow, { taskQueue: env.cpuQueue, workflowId: id, args: [spec], workflowExecutionTimeout: '10m' });
}

/** What TensorBoard's loaders find under the sweep's s3:// log directory (see read_events.py `read`). */
async function readFromS3(sweepId: string): Promise<any> {
  const r = spawnSync(PYTHON, [READER, 'read', tensorboardLogdir(sweepId)], { env: await tensorboardEnv(), encoding: 'utf8', maxBuffer: 256 << 20, timeout: 180_000 });
  if (r.status !== 0) throw new Error(`read_events.py read failed (${r.status}): ${r.error ?? ''}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function resultOf(trialId: string): Promise<TrainResult> {
  return getJson<TrainResult>(artifactKeys.trialResult(trialId));
}

/** Steps of one run's scalar events, per event file (header/footer events are at step 0). */
function stepsPerFile(run: any): number[][] {
  return run.files.map((f: { steps: number[] }) => [...new Set(f.steps.filter((s) => s > 0))]).filter((s: number[]) => s.length > 0);
}

/** Every epoch's four scalars, each step in exactly one file, the graph, and the HParams session. */
function assertTrialRun(data: any, trial: TrialSummary, result: TrainResult, status = 'STATUS_SUCCESS'): any {
  const name = trialRunName(trial.run, trial.params);
  const run = data.runs[name];
  assert.ok(run, `run ${name} is missing; runs: ${Object.keys(data.runs).join(', ')}`);
  const steps = result.epochs.map((e) => e.epoch);
  assert.deepEqual(steps, Array.from({ length: EPOCHS }, (_, i) => i + 1));
  for (const [field, tag] of Object.entries(SCALAR_TAGS)) {
    assert.deepEqual(run.scalars[tag].map((p: number[]) => p[0]), steps, `${name} ${tag}: one point per epoch`);
    assert.deepEqual(run.scalars[tag].map((p: number[]) => p[1]), result.epochs.map((e) => Math.fround(e[field as keyof typeof SCALAR_TAGS])), `${name} ${tag}: values of result.json`);
    assert.deepEqual(data.plugin_scalars[name][tag].map((p: number[]) => p[0]), steps, `${name} ${tag} as the scalars plugin sees it`);
  }
  assert.deepEqual(stepsPerFile(run).flat().sort((a, b) => a - b), steps, `${name}: each epoch's events in exactly one file`);
  assert.ok(run.has_graph, `${name} has the head graph`);
  assert.ok(['dense_1/kernel', 'dense_2/bias', 'log_softmax'].every((n) => run.graph.some((node: { name: string }) => node.name === n)));
  const session = data.hparams[name];
  assert.deepEqual(session['_hparams_/session_start_info'].hparams, trial.params, `${name}: hparams of the session`);
  assert.equal(session['_hparams_/session_end_info'].status, status);
  return run;
}

/** Histograms of the four head tensors at `steps`, with the sizes of the head's tensors. */
function assertHistograms(run: any, trial: TrialSummary, steps: number[]): void {
  const hidden = Number(trial.params.hidden_units);
  const classes = Number(trial.params.num_classes);
  for (const tag of HEAD_TENSOR_NAMES) {
    const histos = run.histograms[tag];
    assert.ok(histos, `histogram ${tag} is missing`);
    assert.deepEqual(histos.map((h: { step: number }) => h.step), steps, `${tag} at every epoch`);
    for (const h of histos) assert.equal(h.bucket.reduce((a: number, b: number) => a + b, 0), h.num);
  }
  const num = (tag: string) => run.histograms[tag][0].num;
  assert.equal(num('dense1/bias'), hidden);
  assert.equal(num('dense2/bias'), classes);
  assert.equal(num('dense2/kernel'), hidden * classes);
  assert.equal(num('dense1/kernel') % hidden, 0);
}

describe('TensorBoard event files of a sweep, from MinIO', () => {
  const sweepId = uniqueId('it-tb');
  let spec: Record<string, any>;
  let board: Leaderboard;

  test('`sweep tensorboard`, started with the sweep, serves every trial and epoch as they arrive; Ctrl-C stops it', async () => {
    // A seed of its own: the resume test rewrites a trial's stored result, which no other test may reuse.
    spec = await tinySpec(env, { reuse: false, seed: 1000 + Math.floor(Math.random() * 1e6) });
    const handle = await env.client.workflow.start(sweepWorkflow, { taskQueue: env.cpuQueue, workflowId: sweepId, args: [spec], workflowExecutionTimeout: '10m' });
    const [port] = await freePorts(1);
    const cli = spawn(process.execPath, [SWEEP_BIN, 'tensorboard', sweepId, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cli.stdout.on('data', (d) => { output += d; });
    cli.stderr.on('data', (d) => { output += d; });
    const exited = once(cli, 'exit');
    try {
      const url = await waitFor('the URL line', async () => {
        if (cli.exitCode !== null) throw new Error(`sweep tensorboard exited early:\n${output}`);
        return /TensorBoard for sweep \S+: (http:\/\/\S+)/.exec(output)?.[1];
      }, 120_000, 500);
      assert.equal(url, `http://127.0.0.1:${port}/`);
      const api = async (route: string, body?: unknown) => {
        const response = await fetch(new URL(route, url), body ? { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {});
        assert.ok(response.ok, `${route}: HTTP ${response.status}`);
        return response.json() as Promise<any>;
      };
      board = await handle.result();
      assert.equal(board.ranked.length, 4);
      const runNames = board.ranked.map((t) => trialRunName(t.run, t.params));
      // TensorBoard was started before any event file existed: everything below arrived by its reloads.
      // TensorBoard may answer an error while it reloads: not yet, as a missing run is.
      await waitFor('every epoch of every trial in TensorBoard', async () => {
        const tags = await api('data/plugin/scalars/tags').catch(() => undefined);
        for (const name of runNames) {
          if (!tags?.[name]?.[SCALAR_TAGS.valAccuracy]) return undefined;
          const points = await api(`data/plugin/scalars/scalars?run=${encodeURIComponent(name)}&tag=${encodeURIComponent(SCALAR_TAGS.valAccuracy)}`).catch(() => []);
          if (points.length < EPOCHS) return undefined;
        }
        return true;
      }, 90_000, 500);
      const runs: string[] = await api('data/runs');
      assert.deepEqual(runs.filter((r) => r !== '.').sort(), [...runNames].sort());
      const scalarTags = await api('data/plugin/scalars/tags');
      const histogramTags = await api('data/plugin/histograms/tags');
      for (const name of runNames) {
        assert.deepEqual(Object.keys(scalarTags[name]).sort(), Object.values(SCALAR_TAGS).sort());
        assert.deepEqual(Object.keys(histogramTags[name]).sort(), [...HEAD_TENSOR_NAMES].sort());
        const points = await api(`data/plugin/scalars/scalars?run=${encodeURIComponent(name)}&tag=${encodeURIComponent(SCALAR_TAGS.trainLoss)}`);
        assert.deepEqual(points.map((p: number[]) => p[1]), [1, 2, 3]);
      }
      // The HParams tab: one session group per trial, with its hyperparameters and final metrics.
      const groups = await waitFor('the HParams sessions with metrics', async () => {
        const answer = await api('data/plugin/hparams/session_groups', { experimentName: '', startIndex: 0, sliceSize: 100, allowedStatuses: ['STATUS_UNKNOWN', 'STATUS_SUCCESS', 'STATUS_FAILURE', 'STATUS_RUNNING'] }).catch(() => ({}));
        const complete = (answer.sessionGroups ?? []).filter((g: any) => g.metricValues?.length === Object.keys(SCALAR_TAGS).length);
        return complete.length === runNames.length ? complete : undefined;
      }, 60_000, 500);
      for (const trial of board.ranked) {
        const group = groups.find((g: any) => g.sessions[0].name === trialRunName(trial.run, trial.params));
        assert.ok(group, `session group of run ${trial.run}`);
        assert.deepEqual(group.hparams, trial.params);
        const valAccuracy = group.metricValues.find((m: any) => m.name.tag === SCALAR_TAGS.valAccuracy);
        assert.equal(valAccuracy.value, Math.fround(trial.valAccuracy!));
        assert.equal(group.sessions[0].status, 'STATUS_SUCCESS');
      }
    } finally {
      cli.kill('SIGINT');
      const [code] = await exited;
      assert.equal(code, 0, `sweep tensorboard exit code; output:\n${output}`);
    }
    await assert.rejects(fetch(`http://127.0.0.1:${port}/data/runs`), 'TensorBoard stopped with the command');
  });

  test('read from s3:// with TensorBoard\'s readers: every trial\'s scalars per epoch, histograms, graph, hparams', async () => {
    const data = await readFromS3(sweepId);
    assert.deepEqual(Object.keys(data.runs).sort(), ['.', ...board.ranked.map((t) => trialRunName(t.run, t.params))].sort());
    for (const trial of board.ranked) {
      const run = assertTrialRun(data, trial, await resultOf(trial.trialId));
      assertHistograms(run, trial, [1, 2, 3]);
      const sums = run.histograms['dense1/kernel'].map((h: { sum: number }) => h.sum);
      assert.equal(new Set(sums).size, EPOCHS, 'weights change from epoch to epoch');
    }
    const experiment = data.hparams['.']['_hparams_/experiment'];
    assert.deepEqual(experiment.hparam_infos.map((h: any) => [h.name, h.domain_discrete]), Object.entries(spec.grid));
    assert.deepEqual(experiment.metric_infos.map((m: any) => m.name.tag), ['val/accuracy', 'val/loss', 'train/accuracy', 'train/loss']);
  });

  test('a trial reused by a later sweep appears in that sweep\'s folder: all epochs, final-weight histograms', async () => {
    const laterId = uniqueId('it-tb-reuse');
    const later = await runSweep({ ...spec, reuse: true }, laterId);
    assert.ok(later.ranked.every((t) => t.reused), 'every trial was reused');
    const data = await readFromS3(laterId);
    for (const trial of later.ranked) {
      const run = assertTrialRun(data, trial, await resultOf(trial.trialId));
      assertHistograms(run, trial, [EPOCHS]);
    }
  });

  test('a resumed trial rewrites its epochs: no duplicate steps, stale epochs removed', async () => {
    const trial = board.ranked.find((t) => t.run === 1)!;
    const before = await resultOf(trial.trialId);
    // The trial crashed after epoch 3's events but its checkpoint says epoch 2 (resume retrains epoch 3),
    // and an earlier attempt had left an epoch 4 behind.
    const checkpointKey = artifactKeys.trialCheckpoint(trial.trialId);
    const checkpoint = await getJson<{ epoch: number; epochs: unknown[] }>(checkpointKey);
    await putJson(checkpointKey, { ...checkpoint, epoch: 2, epochs: checkpoint.epochs.slice(0, 2) });
    await deleteObject(artifactKeys.trialResult(trial.trialId));
    const runPrefix = artifactKeys.tensorboardRun(sweepId, trialRunName(trial.run, trial.params));
    const staleKey = `${runPrefix}/${trialEventSeries(trial.trialId).epochName(4)}`;
    await putObject(staleKey, epochEventFile({ ...before.epochs[2], epoch: 4 }, [], Date.now() / 1000));

    // The same sweep id again: trial 1 resumes in the same run folder, the others are reused.
    const again = await runSweep({ ...spec, reuse: true }, sweepId);
    const resumed = await resultOf(trial.trialId);
    assert.equal(resumed.resumedFromEpoch, 2, 'trial 1 resumed from its checkpoint');
    assert.notEqual(resumed.epochs[2].trainLoss, before.epochs[2].trainLoss, 'epoch 3 was trained again, from other weights');
    assert.ok(again.ranked.filter((t) => t.run !== 1).every((t) => t.reused));

    const keys: string[] = [];
    for await (const { key } of listKeys(`${runPrefix}/`)) keys.push(key);
    assert.ok(!keys.includes(staleKey), 'the stale epoch 4 file was deleted');
    const data = await readFromS3(sweepId);
    for (const t of again.ranked) {
      const run = assertTrialRun(data, t, await resultOf(t.trialId));
      assertHistograms(run, t, [1, 2, 3]);
    }
    const run = data.runs[trialRunName(trial.run, trial.params)];
    assert.equal(run.scalars[SCALAR_TAGS.trainLoss][2][1], Math.fround(resumed.epochs[2].trainLoss), 'epoch 3 holds the resumed attempt\'s value');
    assert.equal(stepsPerFile(run).length, EPOCHS, 'one file per epoch');
  });
});
