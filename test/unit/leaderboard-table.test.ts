// views/leaderboard-table.ts: hyperparameter values in the terminal and report tables, and the
// `k=v` lists of views/workflow-metadata.ts (trial summaries, `sweep watch` lines, the report's best).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrialSummary } from '../../lib/sweep-types';
import { liveLeaderboard } from '../../lib/live-leaderboard';
import { formatTrialTable, paramText, trialTableCells } from '../../views/leaderboard-table';
import { formatParams, sweepCurrentDetails } from '../../views/workflow-metadata';

test('searched values show 4 significant digits; integers, grid values and strings as they are', () => {
  assert.equal(paramText(0.012869554480855637), '0.01287');
  assert.equal(paramText(0.00035826673191385156), '0.0003583');
  assert.equal(paramText(0.06520221009850502), '0.0652');
  assert.equal(paramText(1.187939265496034e-7), '1.188e-7');
  assert.equal(paramText(0.001), '0.001');
  assert.equal(paramText(0.5), '0.5');
  assert.equal(paramText(384), '384');
  assert.equal(paramText('daisy,rose'), 'daisy,rose');
  assert.equal(paramText(undefined), '');
});

test('the trial table rounds the values it shows and leaves the summaries whole', () => {
  const params = { lr: 0.012869554480855637, hidden_units: 384 };
  const trial: TrialSummary = { trialId: 't1', run: 1, params, status: 'completed', epochsDone: 9, valAccuracy: 1, valLoss: 0.01, trainLoss: 0.02, trainAccuracy: 0.99 };
  const { header, rows } = trialTableCells([trial]);
  assert.deepEqual(header.slice(2, 4), ['lr', 'hidden_units']);
  assert.deepEqual(rows[0].slice(2, 4), ['0.01287', '384']);
  assert.equal(trial.params.lr, 0.012869554480855637);
});

test('the note says how a trial ended and how the sweep came by it: a reused stopped trial says both', () => {
  const base: TrialSummary = { trialId: 't', run: 1, params: { lr: 0.01 }, status: 'completed', epochsDone: 9, valAccuracy: 0.9, valLoss: 0.3, trainLoss: 0.2, trainAccuracy: 0.95 };
  const stopped = { status: 'stopped', epochsDone: 3, stopped: { epoch: 3, rule: 'asha', reason: 'stopped at epoch 3 by ASHA rung 1' } } as const;
  const notes = trialTableCells([
    base, { ...base, reused: true }, { ...base, ...stopped }, { ...base, ...stopped, reused: true },
    { ...base, ...stopped, sameAs: 2 }, { ...base, resumedFromEpoch: 4 }, { ...base, status: 'failed', reused: true },
  ]).rows.map((row) => row[row.length - 1]);
  assert.deepEqual(notes, ['', 'reused', 'stopped@3 (asha)', 'stopped@3 (asha), reused', 'stopped@3 (asha), same as run 2', 'resumed@4', 'failed']);
});

test('k=v lists show the same rounded values', () => {
  assert.equal(formatParams({ lr: 0.012869554480855637, hidden_units: 384, dropout: 0.5 }), 'lr=0.01287 hidden_units=384 dropout=0.5');
});

test('a grid key with control characters is escaped in the table headers and the k=v lists, so it cannot clear a terminal', () => {
  const key = 'x\u001b[2J';
  const trials: TrialSummary[] = [1, 2].map((run) => ({ trialId: `t${run}`, run, params: { [key]: run }, status: 'completed', epochsDone: 3, valAccuracy: 0.5, valLoss: 1, trainLoss: 1, trainAccuracy: 0.5 }));
  const [header, row] = formatTrialTable(trials).split('\n');
  assert.match(header, /^rank {2}run {2}x\\u001b\[2J {2}epochs/);
  assert.equal(header.indexOf('epochs'), row.indexOf('3') - 'epochs'.length + 1, 'the columns line up on the escaped key');
  assert.equal(formatParams({ [key]: 1, lr: 0.01 }), 'x\\u001b[2J=1 lr=0.01');
  const board = liveLeaderboard({ sweepId: 's', name: 'n', stage: 'training', trialsTotal: 2 }, trials, [], []);
  assert.ok(!sweepCurrentDetails(board, { [key]: [1, 2] }).includes('\u001b'), 'the Web UI\'s leaderboard header too');
});

test('a diverged trial (NaN loss, null once through JSON) shows "-" in the tables and the workflow details, never a crash or 0%', () => {
  const diverged = JSON.parse(JSON.stringify({
    trialId: 't2', run: 2, params: { lr: 5 }, status: 'completed', epochsDone: 3, valAccuracy: 0.25, valLoss: NaN, trainLoss: NaN, trainAccuracy: NaN,
    test: { accuracy: NaN, loss: NaN },
  })) as TrialSummary;
  assert.equal(diverged.valLoss, null);
  const fine: TrialSummary = { trialId: 't1', run: 1, params: { lr: 0.001 }, status: 'completed', epochsDone: 3, valAccuracy: 0.9, valLoss: 0.3, trainLoss: 0.2, trainAccuracy: 0.95 };
  const table = formatTrialTable([fine, diverged]);
  const row = table.split('\n').find((line) => /^\s*2\b/.test(line) || line.includes('t2'))!;
  assert.ok(row, table);
  assert.doesNotMatch(row, /0\.0%|null|NaN/);
  assert.match(row, / - /);
  // sweepCurrentDetails runs inside the sweep workflow: a throw there would fail its workflow task, stalling the sweep.
  const board = liveLeaderboard({ sweepId: 's', name: 'n', stage: 'training', trialsTotal: 2 }, [diverged, fine], [], []);
  assert.doesNotThrow(() => sweepCurrentDetails(board, { lr: [0.001, 5] }));
});
