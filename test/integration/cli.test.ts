// The `sweep` CLI as a user runs it: start --wait --json, status --json, results --csv, cancel, and
// the exit code and message for a bad spec.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../../platform/config';
import { TestWorkers, startTestWorkers, tinySpec, uniqueId, writeTempJson } from './harness';
import { progressQuery } from '../../workflows';

const BIN = path.join(REPO_ROOT, 'bin', 'sweep.js');
let env: TestWorkers;
before(async () => { env = await startTestWorkers('cli-bin'); });
after(async () => { await env.stop(); });

/** Runs the CLI in a child process, asynchronously: this process's workers must keep running meanwhile. */
function sweep(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // The CLI starts sweeps on SWEEP_CPU_QUEUE, which must be the queue this test's workers poll.
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, SWEEP_CPU_QUEUE: env.cpuQueue }, timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

test('start --wait --json, status --json and results --csv describe the same sweep', async () => {
  const id = uniqueId('it-cli-bin');
  const spec = writeTempJson(await tinySpec(env, { grid: { hidden_units: [16, 32], dropout: [0.5], n_epochs: [2] } }));
  const started = await sweep('start', spec, '--id', id, '--wait', '--json');
  assert.equal(started.code, 0, started.stderr);
  const board = JSON.parse(started.stdout);
  assert.equal(board.sweepId, id);
  assert.equal(board.ranked.length, 2);

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
});

test('cancel stops a running sweep, which ends cancelled', async () => {
  const id = uniqueId('it-cli-cancel');
  const spec = writeTempJson(await tinySpec(env, { grid: { hidden_units: [16, 32, 64, 128], n_epochs: [50] }, concurrency: 1 }));
  assert.equal((await sweep('start', spec, '--id', id)).code, 0);
  const handle = env.client.workflow.getHandle(id);
  // Wait until training has begun, so the cancellation has a running trial to stop.
  for (let i = 0; i < 120; i++) {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress?.stage === 'training') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const cancelled = await sweep('cancel', id);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  await assert.rejects(handle.result());
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
});

test('a bad spec exits 2 with the field named, and starts nothing', async () => {
  const spec = writeTempJson({ data: { source: 'x' }, backbone: { uri: 'm.json' }, grid: { hidden_units: [0] } });
  const result = await sweep('start', spec);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /grid\.hidden_units: 0 must be a positive integer/);
});
