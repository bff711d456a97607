// Starting a sweep with the `temporal` binary and a JSON input file, as the README shows.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Leaderboard } from '../../lib/sweep-types';
import { stackDir } from '../../platform/config';
import { TestWorkers, startTestWorkers, tinySpec, uniqueId, writeTempJson } from './harness';

const TEMPORAL = path.join(stackDir(), 'bin', 'temporal');
let env: TestWorkers;
before(async () => { env = await startTestWorkers('cli'); });
after(async () => { await env.stop(); });

test('temporal workflow start --input-file runs a sweep', async () => {
  const specFile = writeTempJson(await tinySpec(env, { grid: { hidden_units: [16], dropout: [0.5], n_epochs: [2] } }));
  const workflowId = uniqueId('it-cli');
  const output = execFileSync(TEMPORAL, [
    'workflow', 'start', '--type', 'sweepWorkflow', '--task-queue', env.cpuQueue, '--workflow-id', workflowId,
    '--input-file', specFile, '--address', process.env.TEMPORAL_ADDRESS!,
  ], { encoding: 'utf8' });
  assert.match(output, new RegExp(workflowId));
  const board = (await env.client.workflow.getHandle(workflowId).result()) as Leaderboard;
  assert.equal(board.status, 'completed');
  assert.equal(board.ranked.length, 1);
  assert.equal(board.ranked[0].epochsDone, 2);
});
