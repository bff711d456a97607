// lib/search/early-stopping.ts: ASHA and median-rule decisions on hand-made histories, including the
// partial information a sweep has with several trials running, and tie-breaks by trial id.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_OBJECTIVE, Objective } from '../../lib/search/objective';
import { AshaConfig, MedianConfig, TrialHistory, ashaDecision, ashaRungs, decisionEpochs, medianDecision, parseEarlyStopping, shownApart, stopDecision } from '../../lib/search/early-stopping';

const LOSS: Objective = { metric: 'valLoss', direction: 'minimize' };
const ASHA: AshaConfig = { gracePeriod: 1, reductionFactor: 3, maxEpochs: 27 };
const MEDIAN: MedianConfig = { minEpochs: 2, minTrials: 3 };

/** Histories from a compact table: id -> values per epoch. */
function h(table: Record<string, number[]>): TrialHistory[] {
  return Object.entries(table).map(([trialId, values]) => ({ trialId, values }));
}

describe('ashaRungs', () => {
  test('gracePeriod * eta^k below maxEpochs', () => {
    assert.deepEqual(ashaRungs(ASHA), [1, 3, 9]);
    assert.deepEqual(ashaRungs({ gracePeriod: 2, reductionFactor: 2, maxEpochs: 17 }), [2, 4, 8, 16]);
    assert.deepEqual(ashaRungs({ gracePeriod: 5, reductionFactor: 4, maxEpochs: 6 }), [5]);
  });
});

describe('ashaDecision', () => {
  test('between rungs every trial continues, however bad', () => {
    const d = ashaDecision('c', 2, h({ a: [0.9, 0.9], b: [0.9, 0.9], c: [0.1, 0.1] }), ASHA, DEFAULT_OBJECTIVE);
    assert.equal(d.stop, false);
    assert.equal(d.rung, undefined);
    assert.match(d.reason, /epoch 2 is not an ASHA rung \(rungs at epochs 1, 3, 9\)/);
  });

  test('the first trial at a rung continues: nothing to compare with', () => {
    const d = ashaDecision('a', 3, h({ a: [0.1, 0.1, 0.1], b: [0.9, 0.9] }), ASHA, DEFAULT_OBJECTIVE);
    assert.deepEqual({ stop: d.stop, rung: d.rung, cutoff: d.cutoff }, { stop: false, rung: 1, cutoff: 0.1 });
  });

  test('top floor(n / eta) of the trials at the rung continue; the reason records value, cutoff and rank', () => {
    const histories = h({ a: [0.2, 0.3, 0.9], b: [0.2, 0.3, 0.8], c: [0.2, 0.3, 0.7], d: [0.2, 0.3, 0.6], e: [0.2, 0.3, 0.5], f: [0.2, 0.3, 0.4] });
    const decisions = Object.fromEntries(['a', 'b', 'c', 'f'].map((id) => [id, ashaDecision(id, 3, histories, ASHA, DEFAULT_OBJECTIVE)]));
    assert.deepEqual(Object.values(decisions).map((d) => d.stop), [false, false, true, true]);
    assert.equal(decisions.c.reason, 'stopped at epoch 3 by ASHA rung 1 (value 0.7, cutoff 0.8): rank 3 of 6 reported at this rung, the top 2 continue');
    assert.equal(decisions.b.reason, 'continues past ASHA rung 1 at epoch 3 (value 0.8, cutoff 0.8): rank 2 of 6 reported at this rung, the top 2 continue');
  });

  test('minimising: the lowest values continue', () => {
    const histories = h({ a: [0.5], b: [0.3], c: [0.9] });
    assert.equal(ashaDecision('b', 1, histories, ASHA, LOSS).stop, false);
    assert.equal(ashaDecision('a', 1, histories, ASHA, LOSS).stop, true);
    // The same values maximised: c continues, b stops.
    assert.equal(ashaDecision('c', 1, histories, ASHA, DEFAULT_OBJECTIVE).stop, false);
    assert.equal(ashaDecision('b', 1, histories, ASHA, DEFAULT_OBJECTIVE).stop, true);
  });

  describe('partial information (several trials running)', () => {
    test('only trials that have reported the rung count; a later arrival is judged against more trials', () => {
      // c reaches epoch 3 while d and e are still at epochs 1-2: judged among a, b, c only (keep 1).
      const early = h({ a: [0.5, 0.5, 0.4], b: [0.5, 0.5, 0.3], c: [0.5, 0.5, 0.6], d: [0.5], e: [0.9, 0.9] });
      assert.equal(ashaDecision('c', 3, early, ASHA, DEFAULT_OBJECTIVE).stop, false);
      // b, judged at its own arrival when only a had reported, also continued; judged now it would stop.
      assert.equal(ashaDecision('b', 3, h({ a: [0.5, 0.5, 0.4], b: [0.5, 0.5, 0.3] }), ASHA, DEFAULT_OBJECTIVE).stop, true);
      assert.equal(ashaDecision('b', 3, h({ b: [0.5, 0.5, 0.3], a: [0.5, 0.5] }), ASHA, DEFAULT_OBJECTIVE).stop, false);
    });

    test('a trial past the rung counts with its value at the rung, not its latest one', () => {
      const histories = h({ a: [0.5, 0.5, 0.2, 0.99, 0.99], b: [0.5, 0.5, 0.3] });
      const d = ashaDecision('b', 3, histories, ASHA, DEFAULT_OBJECTIVE);
      assert.equal(d.stop, false);
      assert.equal(d.cutoff, 0.3);
    });

    test('a trial stopped at an earlier rung does not count at later rungs', () => {
      // 9 trials at rung 0 (epoch 1); only g, h, i went on; at rung 1 (epoch 3) just 3 count, keep 1.
      const table: Record<string, number[]> = { a: [0.1], b: [0.1], c: [0.1], d: [0.1], e: [0.1], f: [0.1] };
      Object.assign(table, { g: [0.8, 0.8, 0.8], h: [0.8, 0.8, 0.7], i: [0.8, 0.8, 0.9] });
      const d = ashaDecision('g', 3, h(table), ASHA, DEFAULT_OBJECTIVE);
      assert.equal(d.stop, true);
      assert.match(d.reason, /rank 2 of 3 .* the top 1 continue/);
    });
  });

  test('ties go to the smaller trial id, whatever order the histories come in', () => {
    const table = { t2: [0.5], t1: [0.5], t3: [0.5], t0: [0.4], t4: [0.6], t5: [0.5] };
    const shuffles = [h(table), h(table).reverse(), h(table).sort((a, b) => (a.trialId < b.trialId ? 1 : -1))];
    for (const histories of shuffles) {
      // 6 trials, keep 2: t4 (0.6), then t1 wins the tie among t1, t2, t3, t5 at 0.5.
      assert.deepEqual(['t4', 't1', 't2', 't3', 't5', 't0'].map((id) => ashaDecision(id, 1, histories, ASHA, DEFAULT_OBJECTIVE).stop),
        [false, false, true, true, true, true]);
    }
    // A trial level with the cutoff says why it stopped anyway; one below it needs no word on ties.
    assert.equal(ashaDecision('t2', 1, h(table), ASHA, DEFAULT_OBJECTIVE).reason,
      'stopped at epoch 1 by ASHA rung 0 (value 0.5, cutoff 0.5): rank 3 of 6 reported at this rung, the top 2 continue; level with the cutoff, it ranks after the trials of smaller ids (ties go by trial id)');
    assert.doesNotMatch(ashaDecision('t0', 1, h(table), ASHA, DEFAULT_OBJECTIVE).reason, /level with/);
  });

  test('the reason shows values to 4 significant digits, more where 4 would show two different values as one', () => {
    const accuracies = h({ a: [179 / 180], b: [179 / 180], c: [178 / 180] });
    assert.match(ashaDecision('b', 1, accuracies, ASHA, DEFAULT_OBJECTIVE).reason, /\(value 0\.9944, cutoff 0\.9944\)/);
    assert.match(ashaDecision('c', 1, accuracies, ASHA, DEFAULT_OBJECTIVE).reason, /\(value 0\.9889, cutoff 0\.9944\)/);
    const close = ashaDecision('b', 1, h({ a: [0.123456], b: [0.123452] }), ASHA, DEFAULT_OBJECTIVE);
    assert.match(close.reason, /\(value 0\.12345, cutoff 0\.12346\)/);
    assert.deepEqual([close.value, close.cutoff], [0.123452, 0.123456], 'the decision keeps the exact values');
    assert.deepEqual(shownApart(NaN, 0.25), ['NaN', '0.25']);
  });

  test('a NaN value (diverged) ranks last', () => {
    assert.equal(ashaDecision('a', 1, h({ a: [NaN], b: [0.1], c: [0.2] }), ASHA, DEFAULT_OBJECTIVE).stop, true);
    assert.equal(ashaDecision('b', 1, h({ a: [NaN], b: [0.1], c: [0.2] }), { ...ASHA, reductionFactor: 2 }, DEFAULT_OBJECTIVE).stop, true);
  });

  test('asking about an epoch the trial has not reported is a caller error', () => {
    assert.throws(() => ashaDecision('a', 3, h({ a: [0.5] }), ASHA, DEFAULT_OBJECTIVE), /no value for trial a at epoch 3/);
    assert.throws(() => ashaDecision('zz', 1, h({ a: [0.5] }), ASHA, DEFAULT_OBJECTIVE), /no value for trial zz/);
  });
});

describe('medianDecision', () => {
  const others = { b: [0.6, 0.7, 0.8], c: [0.5, 0.6, 0.7], d: [0.4, 0.5] };

  test('before minEpochs, and with fewer than minTrials others at the epoch, trials continue', () => {
    assert.match(medianDecision('a', 1, h({ a: [0.0], ...others }), MEDIAN, DEFAULT_OBJECTIVE).reason, /epoch 1 is before minEpochs 2/);
    const d = medianDecision('a', 3, h({ a: [0, 0, 0], ...others }), MEDIAN, DEFAULT_OBJECTIVE);
    assert.equal(d.stop, false);
    assert.match(d.reason, /only 2 other trials have reported epoch 3; the median rule needs 3/);
  });

  test('best so far strictly worse than the others\' median at the epoch stops; equal continues', () => {
    // Others at epoch 2: 0.7, 0.6, 0.5 -> median 0.6.
    const stop = medianDecision('a', 2, h({ a: [0.55, 0.3], ...others }), MEDIAN, DEFAULT_OBJECTIVE);
    assert.equal(stop.stop, true);
    assert.equal(stop.reason, 'stopped at epoch 2 by the median rule (best so far 0.55, median of 3 other trials at this epoch 0.6)');
    assert.equal(medianDecision('a', 2, h({ a: [0.6, 0.3], ...others }), MEDIAN, DEFAULT_OBJECTIVE).stop, false);
  });

  test('it is the best so far, not the latest value, that is compared (Optuna\'s MedianPruner)', () => {
    const d = medianDecision('a', 2, h({ a: [0.65, 0.1], ...others }), MEDIAN, DEFAULT_OBJECTIVE);
    assert.deepEqual({ stop: d.stop, value: d.value, cutoff: d.cutoff }, { stop: false, value: 0.65, cutoff: 0.6 });
  });

  test('an even number of others: the mean of the middle two; minimising flips the comparison', () => {
    const histories = h({ a: [0.5, 0.5], b: [1, 1], c: [2, 0.4], d: [3, 0.6], e: [4, 0.8] });
    assert.equal(medianDecision('a', 2, histories, MEDIAN, DEFAULT_OBJECTIVE).cutoff, 0.7);
    assert.equal(medianDecision('a', 2, histories, MEDIAN, DEFAULT_OBJECTIVE).stop, true);
    assert.equal(medianDecision('a', 2, histories, MEDIAN, LOSS).stop, false);
    assert.equal(medianDecision('e', 2, histories, MEDIAN, LOSS).stop, true);
  });

  test('partial information: other trials count once they report the epoch, and the trial never counts itself', () => {
    const partial = h({ a: [0.1, 0.1], b: [0.9, 0.9], c: [0.9, 0.9], d: [0.9] });
    assert.equal(medianDecision('a', 2, partial, MEDIAN, DEFAULT_OBJECTIVE).stop, false);
    const later = h({ a: [0.1, 0.1], b: [0.9, 0.9], c: [0.9, 0.9], d: [0.9, 0.9] });
    assert.equal(medianDecision('a', 2, later, MEDIAN, DEFAULT_OBJECTIVE).stop, true);
    // The decision does not depend on the order histories come in.
    assert.deepEqual(medianDecision('a', 2, later.slice().reverse(), MEDIAN, DEFAULT_OBJECTIVE), medianDecision('a', 2, later, MEDIAN, DEFAULT_OBJECTIVE));
  });
});

describe('parseEarlyStopping and stopDecision', () => {
  test('absent means none; defaults are filled', () => {
    assert.deepEqual(parseEarlyStopping(undefined), { problems: [] });
    assert.deepEqual(parseEarlyStopping({ rule: 'asha', maxEpochs: 27 }), { earlyStopping: { rule: 'asha', gracePeriod: 1, reductionFactor: 3, maxEpochs: 27 }, problems: [] });
    assert.deepEqual(parseEarlyStopping({ rule: 'median' }).earlyStopping, { rule: 'median', minEpochs: 1, minTrials: 5 });
    // Set only when given: a running sweep's spec parses to the same input for its trials as before the field existed.
    assert.deepEqual(parseEarlyStopping({ rule: 'median', intervalEpochs: 3 }).earlyStopping, { rule: 'median', minEpochs: 1, minTrials: 5, intervalEpochs: 3 });
  });

  test('decisionEpochs: ASHA\'s rungs; the median rule every intervalEpochs epochs from minEpochs (every epoch by default); never the last epoch', () => {
    assert.deepEqual(decisionEpochs({ rule: 'asha', gracePeriod: 1, reductionFactor: 3, maxEpochs: 27 }, 27), [1, 3, 9]);
    assert.deepEqual(decisionEpochs({ rule: 'median', minEpochs: 2, minTrials: 5 }, 6), [2, 3, 4, 5]);
    assert.deepEqual(decisionEpochs({ rule: 'median', minEpochs: 2, minTrials: 5, intervalEpochs: 3 }, 11), [2, 5, 8]);
    assert.deepEqual(decisionEpochs({ rule: 'median', minEpochs: 2, minTrials: 5, intervalEpochs: 3 }, 8), [2, 5]);
  });

  test('bad fields are named with the fix', () => {
    assert.match(parseEarlyStopping({ rule: 'hyperband' }).problems.join(), /^earlyStopping\.rule: must be "asha" or "median", e\.g\./);
    assert.deepEqual(parseEarlyStopping({ rule: 'asha', reductionFactor: 1.5, gracePeriod: 0 }).problems, [
      'earlyStopping.gracePeriod: 0 is not valid: expected an integer >= 1 (default 1)',
      'earlyStopping.reductionFactor: 1.5 is not valid: expected an integer >= 2 (default 3)',
    ]);
    assert.match(parseEarlyStopping({ rule: 'asha', gracePeriod: 4, maxEpochs: 4 }).problems.join(), /^earlyStopping\.maxEpochs: 4 leaves no rung; .*above gracePeriod \(4\), e\.g\. 108/);
    assert.match(parseEarlyStopping({ rule: 'median', minTrials: 'five' }).problems.join(), /^earlyStopping\.minTrials: "five" is not valid/);
  });

  test('stopDecision dispatches on the rule', () => {
    const histories = h({ a: [0.1, 0.1], b: [0.9, 0.9], c: [0.9, 0.9], d: [0.9, 0.9] });
    assert.equal(stopDecision('a', 1, histories, { rule: 'asha', ...ASHA }, DEFAULT_OBJECTIVE).rule, 'asha');
    const median = stopDecision('a', 2, histories, { rule: 'median', ...MEDIAN }, DEFAULT_OBJECTIVE);
    assert.deepEqual({ rule: median.rule, stop: median.stop }, { rule: 'median', stop: true });
  });
});
