// lib/search/objective.ts: parsing with defaults, strict comparison in either direction, best epoch with earliest-tie rule.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EpochMetrics } from '../../lib/epoch-rows';
import { DEFAULT_OBJECTIVE, Objective, bestEpoch, better, objectiveValue, parseObjective } from '../../lib/search/objective';

const LOSS: Objective = { metric: 'valLoss', direction: 'minimize' };

function epoch(n: number, valAccuracy: number, valLoss: number): EpochMetrics {
  return { epoch: n, trainLoss: 0, trainAccuracy: 0, valLoss, valAccuracy, epochDuration: 1, runDuration: n };
}

describe('parseObjective', () => {
  test('absent: validation accuracy, maximised (what the grid sweep ranks by)', () => {
    assert.deepEqual(parseObjective(undefined), { objective: { metric: 'valAccuracy', direction: 'maximize' }, problems: [] });
    assert.deepEqual(DEFAULT_OBJECTIVE, { metric: 'valAccuracy', direction: 'maximize' });
  });

  test('a missing direction follows the metric: losses minimised, others maximised', () => {
    assert.deepEqual(parseObjective({ metric: 'valLoss' }).objective, LOSS);
    assert.deepEqual(parseObjective({ metric: 'trainAccuracy' }).objective, { metric: 'trainAccuracy', direction: 'maximize' });
    assert.deepEqual(parseObjective({ metric: 'valLoss', direction: 'maximize' }).objective, { metric: 'valLoss', direction: 'maximize' });
  });

  test('bad fields are named with the fix', () => {
    assert.match(parseObjective({ metric: 'val loss' }).problems.join(), /^objective\.metric: must name a per-epoch metric, e\.g\./);
    assert.match(parseObjective('valLoss').problems.join(), /^objective\.metric:/);
    assert.match(parseObjective({ metric: 'valLoss', direction: 'down' }).problems.join(), /^objective\.direction: "down" is not valid: expected "maximize" or "minimize"$/);
  });
});

describe('better', () => {
  test('strict, in the objective\'s direction', () => {
    assert.equal(better(0.9, 0.8, DEFAULT_OBJECTIVE), true);
    assert.equal(better(0.8, 0.9, DEFAULT_OBJECTIVE), false);
    assert.equal(better(0.8, 0.8, DEFAULT_OBJECTIVE), false);
    assert.equal(better(0.2, 0.3, LOSS), true);
    assert.equal(better(0.3, 0.2, LOSS), false);
  });

  test('NaN (a diverged run, a missing metric) loses to any number either way', () => {
    for (const o of [DEFAULT_OBJECTIVE, LOSS]) {
      assert.equal(better(NaN, 0.5, o), false);
      assert.equal(better(0.5, NaN, o), true);
      assert.equal(better(NaN, NaN, o), false);
    }
  });
});

describe('bestEpoch', () => {
  const history = [epoch(1, 0.6, 1.0), epoch(2, 0.8, 0.5), epoch(3, 0.8, 0.4), epoch(4, 0.7, 0.45)];

  test('the best value; ties go to the earliest epoch', () => {
    assert.equal(bestEpoch(history)?.epoch, 2);
    assert.equal(bestEpoch(history, LOSS)?.epoch, 3);
  });

  test('input order does not matter (epochs are sorted first)', () => {
    assert.equal(bestEpoch(history.slice().reverse())?.epoch, 2);
  });

  test('last: the reference behaviour, the final epoch whatever it scored', () => {
    assert.equal(bestEpoch(history, DEFAULT_OBJECTIVE, { last: true })?.epoch, 4);
    assert.equal(bestEpoch(history.slice().reverse(), LOSS, { last: true })?.epoch, 4);
  });

  test('a NaN epoch never wins; no epochs, no best', () => {
    assert.equal(bestEpoch([epoch(1, NaN, NaN), epoch(2, 0.1, 9)])?.epoch, 2);
    assert.equal(bestEpoch([]), undefined);
  });

  test('a metric the epochs do not carry reads as NaN', () => {
    assert.ok(Number.isNaN(objectiveValue(history[0], { metric: 'f1', direction: 'maximize' })));
  });
});
