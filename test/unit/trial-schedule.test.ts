// lib/trial-schedule.ts: trials that train are bounded by the sweep's concurrency; trials found
// finished when planned run beside them, up to REUSED_IN_FLIGHT; results in plan order either way.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { REUSED_IN_FLIGHT, runPlannedTrials } from '../../lib/trial-schedule';
import { TrialPlan } from '../../lib/sweep-types';

const plan = (run: number, resultFound = false): TrialPlan => ({
  trialId: `t${run}`, run, params: {}, head: { hidden_units: 8, dropout: 0, lr: 0.001, batch_size: 4, n_epochs: 1, num_classes: 2 },
  ...(resultFound ? { resultFound: true as const } : {}),
});

/** Runs the plans, each taking `ms(plan)`, and records the most in flight of each kind and the start order. */
async function observe(plans: TrialPlan[], concurrency: number, ms: (p: TrialPlan) => number) {
  const inFlight = { train: 0, found: 0 };
  const most = { train: 0, found: 0 };
  const started: number[] = [];
  const results = await runPlannedTrials(plans, concurrency, async (p) => {
    const kind = p.resultFound ? 'found' : 'train';
    started.push(p.run);
    most[kind] = Math.max(most[kind], ++inFlight[kind]);
    await sleep(ms(p));
    inFlight[kind] -= 1;
    return `result of ${p.run}`;
  });
  return { results, most, started };
}

describe('runPlannedTrials', () => {
  test('without found results: the concurrency bounds every trial, in plan order (as before it existed)', async () => {
    const plans = [1, 2, 3, 4, 5].map((run) => plan(run));
    const { results, most, started } = await observe(plans, 2, (p) => 6 - p.run);
    assert.equal(most.train, 2);
    assert.deepEqual(started, [1, 2, 3, 4, 5]);
    assert.deepEqual(results, plans.map((p) => `result of ${p.run}`));
  });

  test('trials found finished do not wait for a training slot; those to train stay bounded and start first', async () => {
    const plans = [plan(1), plan(2, true), plan(3), plan(4, true), plan(5, true), plan(6)];
    const { results, most, started } = await observe(plans, 1, (p) => (p.resultFound ? 2 : 10));
    assert.equal(most.train, 1, 'one trial trains at a time');
    assert.equal(most.found, 3, 'every found trial ran at once, beside the training one');
    assert.deepEqual(started.slice(0, 4), [1, 2, 4, 5], 'the first trial to train, then every found one');
    assert.deepEqual(results, plans.map((p) => `result of ${p.run}`), 'results in plan order');
  });

  test(`at most ${REUSED_IN_FLIGHT} found trials at once`, async () => {
    const plans = Array.from({ length: REUSED_IN_FLIGHT + 5 }, (_, i) => plan(i + 1, true));
    const { results, most } = await observe(plans, 2, () => 1);
    assert.equal(most.found, REUSED_IN_FLIGHT);
    assert.equal(results.length, plans.length);
  });
});
