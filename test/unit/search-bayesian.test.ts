// lib/search/bayesian.ts and tpe-batches.ts: what a bayesian batch asks the suggest worker: the finished trials in run
// order, the batch sizes, and TPE's start-up trials sized by the space.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { finishedTrials, suggestRequest } from '../../lib/search/bayesian';
import { batchSizes, defaultStartupTrials, tpeSuggestedTrials } from '../../lib/search/tpe-batches';
import { TrialSummary } from '../../lib/sweep-types';
import { SearchSpec } from '../../lib/search/search-spec';
import { SearchSpace } from '../../lib/search/space';

const SPACE: SearchSpace = {
  lr: { type: 'loguniform', low: 1e-4, high: 1e-1 },
  hidden_units: { type: 'int', low: 16, high: 256, step: 16 },
  dropout: { type: 'uniform', low: 0, high: 0.7 },
  batch_size: { type: 'choice', values: [32] },
};
const search = (extra: Partial<SearchSpec> = {}): SearchSpec => ({ method: 'bayesian', budget: 24, space: SPACE, objective: { metric: 'valAccuracy', direction: 'maximize' }, keepBestEpoch: true, ...extra });

describe('TPE start-up trials', () => {
  test('twice the hyperparameters searched, at least 5; a choice of one value is not searched', () => {
    assert.equal(defaultStartupTrials(SPACE), 6);
    assert.equal(defaultStartupTrials({ ...SPACE, n_epochs: { type: 'choice', values: [4, 8] }, label: { type: 'choice', values: ['a', 'b'] } }), 10);
    assert.equal(defaultStartupTrials({ lr: SPACE.lr }), 5);
    assert.equal(defaultStartupTrials({ batch_size: SPACE.batch_size }), 5);
  });

  test('the request carries the spec\'s startupTrials, or the default for its space', () => {
    assert.equal(suggestRequest(search(), 1, [], 2).startupTrials, 6);
    assert.equal(suggestRequest(search({ startupTrials: 2 }), 1, [], 2).startupTrials, 2);
  });
});

describe('batches', () => {
  test('concurrency trials at a time, the last what remains of the budget', () => {
    assert.deepEqual(batchSizes(5, 2), [2, 2, 1]);
    assert.deepEqual(batchSizes(24, 2), Array(12).fill(2));
    assert.deepEqual(batchSizes(3, 4), [3]);
  });

  test('TPE suggests the batches that start once the start-up trials have finished; 0 when none does, with the budget that gives it one', () => {
    // Default 6 start-up trials: at concurrency 2 batches 1-3 are random, 4 onwards TPE's.
    assert.deepEqual(tpeSuggestedTrials(search(), 2), { trials: 18, startup: 6, budgetNeeded: 7 });
    assert.deepEqual(tpeSuggestedTrials(search({ budget: 6 }), 2), { trials: 0, startup: 6, budgetNeeded: 7 });
    assert.deepEqual(tpeSuggestedTrials(search({ budget: 7 }), 2), { trials: 1, startup: 6, budgetNeeded: 7 });
    // At concurrency 4, 6 start-up trials take two batches (8 trials): a budget of 8 leaves TPE none.
    assert.deepEqual(tpeSuggestedTrials(search({ budget: 8 }), 4), { trials: 0, startup: 6, budgetNeeded: 9 });
    assert.deepEqual(tpeSuggestedTrials(search({ budget: 12, startupTrials: 2 }), 4), { trials: 8, startup: 2, budgetNeeded: 5 });
  });
});

describe('finished trials as TPE sees them', () => {
  test('in run order; a NaN objective of a trial that ended is marked diverged (at its stop, else its last epoch); a failed trial is not', () => {
    const summary = (run: number, status: TrialSummary['status'], valLoss: number, extra: Partial<TrialSummary> = {}) =>
      ({ trialId: `t${run}`, run, params: { lr: run }, status, epochsDone: 9, trainLoss: 1, trainAccuracy: 0.5, valLoss, valAccuracy: 0.5, ...extra }) as TrialSummary;
    const objective = { metric: 'valLoss', direction: 'minimize' } as const;
    const trials = [
      summary(4, 'failed', NaN, { epochsDone: 2 }),
      summary(2, 'completed', NaN),
      summary(1, 'completed', 0.3),
      summary(3, 'stopped', NaN, { epochsDone: 3, stopped: { epoch: 3, rule: 'asha', reason: 'below the top 1/3' } }),
    ];
    assert.deepEqual(finishedTrials(trials, objective), [
      { params: { lr: 1 }, value: 0.3 },
      { params: { lr: 2 }, value: null, divergedAtEpoch: 9 },
      { params: { lr: 3 }, value: null, stoppedAtEpoch: 3, divergedAtEpoch: 3 },
      { params: { lr: 4 }, value: null },
    ]);
  });
});
