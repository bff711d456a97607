// lib/sweep-continuation.ts: which runs a workflow run plans, what it carries to the next (bounded,
// whatever the budget), and the workflow result's cut lists.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CARRIED_ROWS, RESULT_ROWS, nextCarry, resultLeaderboard, runChunk, validTrialsPerRun } from '../../lib/sweep-continuation';
import { trialCounts } from '../../lib/live-leaderboard';
import { SpecError } from '../../lib/sweep-spec';
import { progressFields } from '../../cli/status';
import { Leaderboard, TrialSummary } from '../../lib/sweep-types';

const trial = (run: number, status: TrialSummary['status'] = 'completed'): TrialSummary => ({
  trialId: `t${run}`, run, params: { lr: run }, status, epochsDone: 1,
  ...(status === 'completed' || status === 'stopped' ? { valAccuracy: (run * 37 % 101) / 101, valLoss: 1 } : { error: 'boom' }),
});
const prepared = { split: { splitId: 's', splitKey: 'k', classes: ['a'], counts: { train: 1, val: 1, test: 1 } }, features: { train: [], val: { id: 'v', shards: 1, rows: 1, dim: 1 }, test: { id: 't', shards: 1, rows: 1, dim: 1 } } };

describe('sweep continuation', () => {
  test('runChunk: trialsPerRun runs from `first`, whole batches, the last chunk what remains', () => {
    assert.deepEqual(runChunk(1, 250, 100), { first: 1, count: 100 });
    assert.deepEqual(runChunk(201, 250, 100), { first: 201, count: 50 });
    // Bayesian batches of 3: a run takes whole batches, so each batch is suggested from every earlier one as in one run.
    assert.deepEqual(runChunk(1, 20, 10, 3), { first: 1, count: 12 });
    assert.deepEqual(runChunk(13, 20, 10, 3), { first: 13, count: 8 });
  });

  test('validTrialsPerRun: absent is the default; anything but a positive integer is a clear error', () => {
    assert.equal(validTrialsPerRun(undefined), 100);
    assert.equal(validTrialsPerRun(7), 7);
    for (const bad of [0, -1, 2.5, '10', null]) assert.throws(() => validTrialsPerRun(bad), (e: unknown) => e instanceof SpecError && /trialsPerRun .*positive integer/.test(e.message));
  });

  test('the carry keeps the best and the latest not completed, counts the rest, and stays bounded over many runs', () => {
    let carry: ReturnType<typeof nextCarry> | undefined;
    const all: TrialSummary[] = [];
    for (let run = 0; run < 10; run++) {
      const these = Array.from({ length: 30 }, (_, i) => trial(run * 30 + i + 1, i % 10 === 0 ? 'failed' : i % 3 === 0 ? 'stopped' : 'completed'));
      all.push(...these);
      carry = nextCarry(carry, { prepared, nextRun: run * 30 + 31, listed: [...carry?.listed ?? [], ...these] });
    }
    assert.equal(carry!.parts, 10);
    assert.equal(carry!.listed.length, 2 * CARRIED_ROWS);
    assert.deepEqual(trialCounts(carry!.listed, carry!.unlisted), trialCounts(all));
    assert.equal(trialCounts(carry!.listed, carry!.unlisted).stopped, all.filter((t) => t.status === 'stopped').length);
    const best = all.filter((t) => t.status !== 'failed').sort((a, b) => b.valAccuracy! - a.valAccuracy! || (a.trialId < b.trialId ? -1 : 1)).slice(0, CARRIED_ROWS);
    assert.deepEqual(carry!.listed.slice(0, CARRIED_ROWS).map((t) => t.run), best.map((t) => t.run));
    assert.deepEqual(carry!.listed.slice(CARRIED_ROWS).map((t) => t.run), all.filter((t) => t.status === 'failed').slice(-CARRIED_ROWS).map((t) => t.run));
    assert.ok(JSON.stringify(carry).length < 20_000, `${JSON.stringify(carry).length} bytes`);
  });

  test('`sweep status` counts the trials earlier runs stopped listing', () => {
    const all = Array.from({ length: 100 }, (_, i) => trial(i + 1, i % 4 === 0 ? 'stopped' : i % 25 === 1 ? 'failed' : 'completed'));
    const carry = nextCarry(undefined, { prepared, nextRun: 101, listed: all });
    assert.ok(carry.listed.length < all.length);
    const fields = progressFields({ stage: 'training', trialsTotal: 300, trials: carry.listed, unlisted: carry.unlisted, running: [101] });
    assert.deepEqual([fields.trialsCompleted, fields.trialsStopped, fields.trialsFailed], [97, 25, 3]);
    assert.equal(fields.trials!.length, carry.listed.length, 'the document lists only the carried rows');
  });

  test('the workflow result lists at most RESULT_ROWS of each list and says how many there are', () => {
    const board = (ranked: number, failed: number): Leaderboard => ({
      sweepId: 's', status: 'completed', reusedTrials: 0, artifacts: { prefix: '', resultsCsv: '', resultsJson: '', leaderboardJson: '' },
      ranked: Array.from({ length: ranked }, (_, i) => trial(i + 1)), failed: Array.from({ length: failed }, (_, i) => trial(ranked + i + 1, 'failed')),
    });
    const small = board(RESULT_ROWS, 3);
    assert.equal(resultLeaderboard(small), small);
    const cut = resultLeaderboard(board(1000, 120));
    assert.equal(cut.ranked.length, RESULT_ROWS);
    assert.equal(cut.failed.length, RESULT_ROWS);
    assert.deepEqual(cut.truncated, { ranked: 1000, failed: 120 });
    assert.equal(cut.ranked[0].run, 1);
  });
});
