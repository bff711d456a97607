// The `sweep` CLI as a user runs it: start --wait --json, status --json, results --csv, cancel, list,
// validate, help, bad flags, and the exit code and message for a bad spec and a failed sweep.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../platform/config';
import { startSweep } from '../../cli/sweep';
import type { SweepListEntry } from '../../cli/list';
import { TestWorkers, sparseFlowerDataset, startTestWorkers, tinyFlowerDataset, tinySpec, uniqueId, writeTempJson } from './harness';
import { progressQuery } from '../../workflows';
import { trialWorkflowId } from '../../lib/live-leaderboard';
import { artifactKeys } from '../../lib/artifact-keys';
import { putJson } from '../../platform/storage';
import { storageConfig } from '../../platform/config';
import { cuttableLink } from './cuttable-link';

const BIN = path.join(REPO_ROOT, 'bin', 'sweep.js');
let env: TestWorkers;
before(async () => { env = await startTestWorkers('cli-bin'); });
after(async () => { await env.stop(); });

/** Runs the CLI in a child process, asynchronously: this process's workers must keep running meanwhile. */
function sweep(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return sweepWithEnv({}, ...args);
}

function sweepWithEnv(extraEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // The CLI starts sweeps on SWEEP_CPU_QUEUE, which must be the queue this test's workers poll.
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, SWEEP_CPU_QUEUE: env.cpuQueue, ...extraEnv }, timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

test('start --wait --json, status --json and results --csv describe the same sweep', async () => {
  const id = uniqueId('it-cli-bin');
  // reuse off: the trials train here, so they record this machine as their node.
  const raw = await tinySpec(env, { reuse: false, grid: { hidden_units: [16, 32], dropout: [0.5], n_epochs: [2] } });
  // No queues in the spec: its steps go to the queues this environment's workers poll (SWEEP_*_QUEUE).
  delete (raw as { taskQueues?: unknown }).taskQueues;
  const spec = writeTempJson(raw);
  const started = await sweepWithEnv({ SWEEP_GPU_QUEUE: env.gpuQueue }, 'start', spec, '--id', id, '--wait', '--json');
  assert.equal(started.code, 0, started.stderr);
  assert.doesNotMatch(started.stderr, /no worker polls/, 'workers poll both queues: no warning');
  const board = JSON.parse(started.stdout);
  assert.equal(board.sweepId, id);
  assert.equal(board.ranked.length, 2);
  assert.ok(board.ranked.every((t: { node?: string }) => t.node === os.hostname()), 'each trial records the node that trained it');

  const status = await sweep('status', id, '--json');
  assert.equal(status.code, 0, status.stderr);
  const doc = JSON.parse(status.stdout);
  assert.equal(doc.status, 'COMPLETED');
  assert.equal(doc.trialsTotal, 2);
  assert.equal(doc.trialsCompleted, 2);
  assert.equal(doc.bestValAccuracy, board.ranked[0].valAccuracy);

  const csv = await sweep('results', id, '--csv');
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.match(lines[0], /^run,trial_id,epoch,train_loss/);
  assert.equal(lines.length, 1 + 2 * 2);

  const table = await sweep('results', id);
  assert.match(table.stdout, /2 trials ranked by validation accuracy/);

  // The data summary: in status (text and JSON) and in the leaderboard document.
  assert.deepEqual(Object.keys(doc.data.counts), ['daisy', 'rose', 'sunflower', 'tulip']);
  assert.deepEqual(board.data, doc.data);
  assert.match((await sweep('status', id)).stdout, /^data: \d+ images in 4 classes \(daisy \d+, rose \d+, sunflower \d+, tulip \d+\); /m);

  // The id of a sweep that has ended is not used again: its folder holds that sweep's results.
  const again = await sweepWithEnv({ SWEEP_GPU_QUEUE: env.gpuQueue }, 'start', spec, '--id', id);
  assert.equal(again.code, 2, again.stderr);
  assert.match(again.stderr, new RegExp(`^the id ${id} was used by a sweep that ended COMPLETED; give a new --id`));
  // Temporal forgets a closed sweep after its retention; the folder it left in S3 still names the id.
  const forgotten = uniqueId('it-cli-forgotten');
  await putJson(artifactKeys.sweepResults(forgotten, 'leaderboard.json'), { sweepId: forgotten });
  const overFolder = await sweepWithEnv({ SWEEP_GPU_QUEUE: env.gpuQueue }, 'start', spec, '--id', forgotten);
  assert.equal(overFolder.code, 2, overFolder.stderr);
  assert.match(overFolder.stderr, new RegExp(`^the id ${forgotten} was used by an earlier sweep, whose artifacts are under sweeps/${forgotten}/; give a new --id`));

  // A trial's workflow id (the Web UI lists trials beside their sweep) is not taken for a sweep's.
  const trial = trialWorkflowId(id, 1);
  for (const command of [['status', trial], ['results', trial, '--json'], ['cancel', trial], ['watch', trial, '--plain']]) {
    const misread = await sweep(...command);
    assert.equal(misread.code, 2, `${command.join(' ')}: ${misread.stderr}`);
    assert.match(misread.stderr, new RegExp(`^${trial} is a trialWorkflow, not a sweep \\(its sweep is ${id}\\); give a sweep's id`), command[0]);
    assert.equal(misread.stdout, '', command[0]);
  }

  const listed = await sweep('list', '--limit=50', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const entry = (JSON.parse(listed.stdout) as SweepListEntry[]).find((e) => e.sweepId === id);
  assert.ok(entry, 'the sweep is listed');
  assert.equal(entry.status, 'COMPLETED');
  assert.equal(entry.trialsDone, 2);
  assert.equal(entry.bestValAccuracy, board.ranked[0].valAccuracy);
  assert.deepEqual(entry.objective, { metric: 'valAccuracy', direction: 'maximize' }, 'a grid is ranked by val accuracy, and its memo says so');
  assert.match((await sweep('list')).stdout, new RegExp(`^ *sweep +status +stage +done +running +failed +best_val_acc[\\s\\S]*^ *${id} +COMPLETED +done +2 +0 +0 `, 'm'));
});

test('cancel stops a running sweep, which ends cancelled; a second start under its id exits 2', async () => {
  const id = uniqueId('it-cli-cancel');
  // A seed of its own: trials of an earlier run of this test (checkpoints, results) would be reused, and
  // the sweep could end before the cancel reaches it.
  const spec = writeTempJson(await tinySpec(env, { seed: 1000 + Math.floor(Math.random() * 1e6), grid: { hidden_units: [16, 32, 64, 128], n_epochs: [50] }, concurrency: 1 }));
  assert.equal((await sweep('start', spec, '--id', id)).code, 0);
  // Started again under the id of a sweep that runs: a bad command line, named as such.
  const twice = await sweep('start', spec, '--id', id);
  assert.equal(twice.code, 2, twice.stderr);
  assert.match(twice.stderr, new RegExp(`^a sweep with id ${id} is already running; give another --id`));
  const handle = env.client.workflow.getHandle(id);
  // Wait until training has begun, so the cancellation has a running trial to stop.
  for (let i = 0; i < 120; i++) {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress?.stage === 'training') break;
    await sleep(500);
  }
  const cancelled = await sweep('cancel', id);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  await assert.rejects(handle.result());
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
  // watch on the cancelled sweep ends with the partial leaderboard it wrote, as results prints it.
  const watched = await sweep('watch', id, '--plain');
  assert.equal(watched.code, 4, watched.stderr);
  const partial = await sweep('results', id);
  assert.match(watched.stdout, new RegExp(`sweep ${id} ended CANCELLED\n${partial.stdout.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // Cancelled again: it has ended (the server took the request without a word, and the CLI said "cancellation requested").
  const again = await sweep('cancel', id);
  assert.equal(again.code, 4, again.stderr);
  assert.match(again.stderr, new RegExp(`sweep ${id} already ended CANCELLED: nothing to cancel`));
});

test('sweeps of one name started in the same second get ids of their own (the second one failed as "id taken")', async () => {
  // On a queue no worker polls: the sweeps only need to start.
  const nowhere = uniqueId('it-nobody-polls');
  const spec = await tinySpec({ cpuQueue: `${nowhere}-cpu`, gpuQueue: `${nowhere}-gpu` }, { name: uniqueId('it-same-second') });
  const second = new Date('2026-12-03T10:20:30.456Z');
  const handles = [];
  for (let i = 0; i < 3; i++) handles.push(await startSweep(env.client, spec, undefined, second));
  try {
    assert.deepEqual(handles.map((h) => h.workflowId), ['', '-2', '-3'].map((n) => `${spec.name}-20261203-102030${n}`));
  } finally {
    await Promise.all(handles.map((h) => h.terminate('test over')));
  }
});

test('start warns of the sweep\'s queues no worker polls, naming each and the command that starts workers for them; the sweep starts', async () => {
  const nowhere = uniqueId('it-nobody-polls');
  const raw = await tinySpec({ cpuQueue: `${nowhere}-cpu`, gpuQueue: env.gpuQueue, suggestQueue: `${nowhere}-suggest` }, {
    grid: undefined, search: { method: 'bayesian', budget: 2, space: { lr: { type: 'loguniform', low: 1e-3, high: 1e-1 }, n_epochs: { type: 'choice', values: [1] } } },
  });
  const id = uniqueId('it-cli-idle');
  // This environment's workers poll the GPU queue; the spec names a CPU and a suggest queue nobody polls.
  const started = await sweepWithEnv({ SWEEP_GPU_QUEUE: env.gpuQueue }, 'start', writeTempJson(raw), '--id', id);
  try {
    assert.equal(started.code, 0, started.stderr);
    assert.equal(started.stdout.trim(), `started sweep ${id}`);
    assert.equal(started.stderr, [
      'warning: no running worker serves these queues of the sweep (none polled them in the last minutes, or those that did have stopped), so it waits there until one does:',
      `  cpu queue "${nowhere}-cpu": the sweep and its trials (workflows), ingest, balance, split, ranking`,
      `  suggest queue "${nowhere}-suggest": bayesian suggestions (a Python worker)`,
      `start workers for them: \`SWEEP_CPU_QUEUE=${nowhere}-cpu SWEEP_SUGGEST_QUEUE=${nowhere}-suggest npm run workers\` on this machine (cpu, gpu and suggest), ` +
        `or \`SWEEP_CPU_QUEUE=${nowhere}-cpu SWEEP_SUGGEST_QUEUE=${nowhere}-suggest infra/node.sh --import tsx workers/run-workers.ts cpu,suggest\` where they should run (docs/deploy.md)`,
      '',
    ].join('\n'));
    // status says where the sweep waits, without asking it: the progress query would wait ~30 s for a
    // workflow worker and fail (stage absent either way), so the bound is what tells them apart.
    const began = Date.now();
    const status = await sweep('status', id, '--json');
    assert.ok(Date.now() - began < 20_000, `status took ${Date.now() - began} ms: it waited for the query`);
    assert.equal(status.code, 0, status.stderr);
    const doc = JSON.parse(status.stdout);
    assert.equal(doc.stage, undefined);
    assert.deepEqual(doc.waitingForWorkers, [{ role: 'cpu', taskQueue: `${nowhere}-cpu`, type: 'workflow' }]);
    // cancel says the request waits for a worker too: nothing acts on it until one runs.
    const cancelled = await sweep('cancel', id);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, new RegExp(`^cancellation requested for ${id}`));
    assert.match(cancelled.stderr, new RegExp(`\n  cpu queue "${nowhere}-cpu": the sweep and its trials \\(workflows\\)[^\n]*\n[^\n]*\n\\(the sweep ends cancelled, and writes its partial leaderboard, once a CPU worker takes it up\\)\n$`));
  } finally {
    await env.client.workflow.getHandle(id).terminate('test over');
  }
});

test('status of a bayesian sweep waiting for a suggestion no worker serves: its stage, and the queue it waits on', async () => {
  const suggestQueue = uniqueId('it-nobody-suggests');
  const raw = await tinySpec({ ...env, suggestQueue }, {
    grid: undefined, search: { method: 'bayesian', budget: 2, space: { lr: { type: 'loguniform', low: 1e-3, high: 1e-1 }, n_epochs: { type: 'choice', values: [1] } } },
  });
  const handle = await startSweep(env.client, raw, uniqueId('it-cli-waiting'));
  try {
    let doc: { stage?: string; waitingForWorkers?: unknown } = {};
    for (let i = 0; i < 120 && doc.stage !== 'suggesting trials'; i++) {
      await sleep(500);
      doc = JSON.parse((await sweep('status', handle.workflowId, '--json')).stdout);
    }
    assert.equal(doc.stage, 'suggesting trials');
    assert.deepEqual(doc.waitingForWorkers, [{ role: 'suggest', taskQueue: suggestQueue, type: 'activity' }]);
    const text = await sweep('status', handle.workflowId);
    assert.match(text.stdout, new RegExp(`^sweep ${handle.workflowId}: RUNNING \\(suggesting trials\\)\n`));
    assert.match(text.stdout, new RegExp(`\n  suggest queue "${suggestQueue}": bayesian suggestions \\(a Python worker\\)\n`));
  } finally {
    await handle.terminate('test over');
  }
});

test('a sweep cancelled before any trial was ranked: results says so and exits 4', async () => {
  const id = uniqueId('it-cli-cancel-early');
  // A seed of its own (features not cached), cancelled at once from here: the cancel lands while the data is prepared.
  const raw = await tinySpec(env, { seed: 1000 + Math.floor(Math.random() * 1e6), grid: { hidden_units: [16], n_epochs: [2] } });
  const handle = await startSweep(env.client, raw, id);
  await handle.cancel();
  await assert.rejects(handle.result());
  const results = await sweep('results', id);
  assert.equal(results.code, 4, results.stderr);
  assert.match(results.stderr, new RegExp(`^sweep ${id} ended CANCELLED without results \\(cancelled before any trial was ranked\\); finished trials and checkpoints are kept`));
});

test('a bad spec exits 2 with the field named, and starts nothing', async () => {
  const spec = writeTempJson({ data: { source: 'x' }, backbone: { uri: 'm.json' }, grid: { hidden_units: [0] } });
  const result = await sweep('start', spec);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /grid\.hidden_units: 0 must be a positive integer/);
});

test('help, version and bad flags', async () => {
  const help = await sweep('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: sweep <command>[\s\S]*validate[\s\S]*exit codes:/);
  const startHelp = await sweep('start', '--help');
  assert.equal(startHelp.code, 0);
  assert.match(startHelp.stdout, /^usage: sweep start <spec.json> \[--id ID\] \[--wait\] \[--json\]/);
  const version = await sweep('--version');
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^sweep \d+\.\d+\.\d+\n$/);
  const bad = await sweep('status', 'some-id', '--jsno');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown option --jsno/);
  assert.equal(bad.stdout, '');
  const missing = await sweep('status', 'no-such-sweep-' + Date.now());
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no sweep with that id.*`sweep list` shows recent sweeps/);
});

test('validate checks the spec and the data and starts nothing (it needs no Temporal at all)', async () => {
  const offline = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
  const spec = writeTempJson(await tinySpec(env, { grid: { hidden_units: [16, 32, 64], dropout: [0.5], n_epochs: [2], replicate: [1] } }));
  const ok = await sweepWithEnv(offline, 'validate', spec);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /valid; sweep "it-sweep" would run 3 trials/);
  assert.match(ok.stdout, /^label replicate: recorded with the results and changing each trial's random seed; the head does not read it$/m);
  assert.doesNotMatch(ok.stdout, /trains with the default/, 'every head hyperparameter is in the grid');
  assert.match(ok.stdout, /^data: \d+ images in 4 classes \(daisy \d+, rose \d+, sunflower \d+, tulip \d+\); /m);
  const doc = JSON.parse((await sweepWithEnv(offline, 'validate', spec, '--json')).stdout);
  assert.equal(doc.trials, 3);
  assert.equal(Object.keys(doc.data.counts).length, 4);
  assert.deepEqual(doc.notes, []);
  // A bayesian search too small for TPE to act with the space's default start-up trials: said, not refused.
  const tiny = writeTempJson(await tinySpec(env, { grid: undefined, search: { method: 'bayesian', budget: 2, space: { lr: { type: 'loguniform', low: 1e-3, high: 1e-1 }, n_epochs: { type: 'choice', values: [1] } } } }));
  const random = await sweepWithEnv(offline, 'validate', tiny);
  assert.equal(random.code, 0, random.stderr);
  assert.match(random.stdout, /^bayesian search: the space's default 5 start-up trials leave a budget of 2 at concurrency 2 no trial for TPE to suggest .* for TPE, a budget of at least 7, or fewer search\.startupTrials$/m);

  const data = await brokenDataSet();
  const broken = await sweepWithEnv(offline, 'validate', writeTempJson(await tinySpec(env, { data: { source: data, maxBadFraction: 0 } })));
  assert.equal(broken.code, 2);
  assert.match(broken.stdout, /skipped \d+: .*unreadable image 1/);
  assert.match(broken.stderr, /1 of \d+ image files cannot be decoded, more than data.maxBadFraction = 0; remove or re-export/);
  const nowhere = await sweepWithEnv(offline, 'validate', writeTempJson(await tinySpec(env, { data: { source: '/no/such/folder' } })));
  assert.equal(nowhere.code, 2);
  assert.match(nowhere.stderr, /data.source \/no\/such\/folder does not exist/);
  const sparse = await sweepWithEnv(offline, 'validate', writeTempJson(await tinySpec(env, { data: { source: await sparseFlowerDataset('rose', 2) } })));
  assert.equal(sparse.code, 2);
  assert.match(sparse.stderr, /class "rose" has 2 distinct image\(s\); each class needs at least 3/);
  // What the balance step would refuse, after ingestion, is said here before it.
  const unlisted = await tinySpec(env, { grid: { num_classes: [3], hidden_units: [16] } }) as { data: { classes?: string[] } };
  delete unlisted.data.classes; // the parse compares num_classes with data.classes; without them, only the data can
  const threeClasses = await sweepWithEnv(offline, 'validate', writeTempJson(unlisted));
  assert.equal(threeClasses.code, 2);
  assert.match(threeClasses.stderr, /grid\.num_classes \[3\] disagrees with the data, which has 4 classes/);
  const huge = await sweepWithEnv(offline, 'validate', writeTempJson(await tinySpec(env, { balance: { perClass: 1_000_000 } })));
  assert.equal(huge.code, 2);
  assert.match(huge.stderr, /balance\.perClass: 1,000,000 images for each of 4 classes is 4,000,000 samples, more than the 3,000,000 a sweep's manifests can hold; use a perClass of at most 750,000/);
});

test('a command that needs S3 while S3 does not answer says so within SWEEP_S3_UNREACHABLE_AFTER_S, not after minutes of silence', async () => {
  // MinIO through a link that holds bytes once cut: S3 hung, as a stopped MinIO or a broken route is.
  const link = await cuttableLink(new URL(storageConfig().endpoint!).host);
  const viaLink = { S3_ENDPOINT: `http://${link.address}`, SWEEP_S3_UNREACHABLE_AFTER_S: '3' };
  const id = uniqueId('it-cli-no-such');
  try {
    const answered = await sweepWithEnv(viaLink, 'report', id);
    assert.equal(answered.code, 2, answered.stderr);
    assert.doesNotMatch(answered.stderr, /has not answered/, 'S3 answers through the link: the command\'s own error');
    link.cut();
    const began = Date.now();
    const hung = await sweepWithEnv(viaLink, 'report', id);
    const tookMs = Date.now() - began;
    assert.equal(hung.code, 1);
    assert.match(hung.stderr, new RegExp(`^S3 at http://${link.address} has not answered for 3 s \\(SWEEP_S3_UNREACHABLE_AFTER_S\\): is it running, and reachable from here\\? npm run stack:up starts the local one; otherwise check S3_ENDPOINT`));
    // Before, each request waited out the S3 client's 60 s socket timeout, three times over: 190 s.
    assert.ok(tookMs < 15_000, `it said so ${(tookMs / 1000).toFixed(1)} s after it was run`);
    // validate reads data in S3 to survey it: the same error (exit 1), not one of the spec's (exit 2).
    const remote = await sweepWithEnv(viaLink, 'validate', writeTempJson(await tinySpec(env, { data: { source: 's3://sweep-artifacts/no/such/flowers/' } })));
    assert.equal(remote.code, 1, remote.stderr);
    assert.match(remote.stderr, /has not answered for 3 s \(SWEEP_S3_UNREACHABLE_AFTER_S\)/);
  } finally {
    link.heal();
    await link.close();
  }
});

test('a failed sweep: one line with stage, step, reason and fix; exit 3 from start --wait, status and watch', async () => {
  const id = uniqueId('it-cli-failed');
  const spec = writeTempJson(await tinySpec(env, { data: { source: await brokenDataSet(), maxBadFraction: 0 } }));
  const started = await sweep('start', spec, '--id', id, '--wait');
  assert.equal(started.code, 3, started.stderr);
  const line = started.stderr.trim();
  assert.equal(line.split('\n').length, 1, `one line: ${line}`);
  assert.match(line, new RegExp(`^sweep ${id} failed while ingesting \\(step ingestDataset, DataError\\): .*cannot be decoded.* · what to do: fix the data`));
  const json = await sweep('start', spec, '--id', `${id}-json`, '--wait', '--json');
  assert.equal(json.code, 3);
  assert.deepEqual(Object.keys(JSON.parse(json.stdout).failure), ['sweepId', 'stage', 'step', 'type', 'reason', 'fix']);
  const status = await sweep('status', id, '--json');
  assert.equal(status.code, 3);
  assert.equal(JSON.parse(status.stdout).failureDetails.step, 'ingestDataset');
  const watched = await sweep('watch', id, '--plain');
  assert.equal(watched.code, 3);
  assert.match(watched.stdout, /failed while ingesting \(step ingestDataset, DataError\)/);
  // No results and no report for it: results exits as status does (it exited 2, a usage error), report 2 (it exited 1, "not about the sweep").
  const results = await sweep('results', id);
  assert.equal(results.code, 3, results.stderr);
  assert.match(results.stderr, /ended FAILED without results; `sweep status .*` says why it failed; finished trials and checkpoints are kept/);
  const report = await sweep('report', id, '--out', path.join(os.tmpdir(), `${id}.html`));
  assert.equal(report.code, 2, report.stderr);
  assert.match(report.stderr, /has no s3:\/\/.*leaderboard\.json: the report is made once the sweep has ranked its trials/);
});

/** The tiny flower set with one truncated JPEG added. */
async function brokenDataSet(): Promise<string> {
  const source = await tinyFlowerDataset();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-broken-data-'));
  fs.cpSync(source, data, { recursive: true });
  const daisy = path.join(data, 'daisy');
  const sample = fs.readFileSync(path.join(daisy, fs.readdirSync(daisy).find((f) => f.endsWith('.jpg'))!));
  fs.writeFileSync(path.join(daisy, 'truncated.jpg'), sample.subarray(0, sample.length / 3));
  return data;
}
