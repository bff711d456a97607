// lib/classification-metrics.ts: confusion matrix [true][predicted] and per-class precision/recall/F1.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { confusionMatrix, perClassScores, topConfusions } from '../../lib/classification-metrics';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

describe('confusionMatrix', () => {
  test('rows are true labels, columns are predictions', () => {
    // Two samples of class 0 predicted as 2, one of class 2 predicted as 0.
    const m = confusionMatrix([0, 0, 2, 1], [2, 2, 0, 1], 3);
    assert.deepEqual(m, [[0, 0, 2], [0, 1, 0], [1, 0, 0]]);
  });

  test('typed arrays work and counts add up to the number of samples', () => {
    const labels = Int32Array.from([0, 1, 2, 2, 1, 0, 0]);
    const predictions = Int32Array.from([0, 2, 2, 1, 1, 0, 1]);
    const m = confusionMatrix(labels, predictions, 4);
    assert.equal(m.length, 4);
    assert.ok(m.every((row) => row.length === 4));
    assert.equal(m.flat().reduce((a, b) => a + b, 0), labels.length);
    assert.deepEqual(m, [[2, 1, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]);
  });

  test('rows do not share storage', () => {
    const m = confusionMatrix([0], [0], 2);
    assert.deepEqual(m, [[1, 0], [0, 0]]);
  });
});

describe('perClassScores', () => {
  test('precision, recall and F1 by hand', () => {
    // true:      a a a a b b c c c c
    // predicted: a a b c b a c c c a
    const labels = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
    const predictions = [0, 0, 1, 2, 1, 0, 2, 2, 2, 0];
    const m = confusionMatrix(labels, predictions, 3);
    assert.deepEqual(m, [[2, 1, 1], [1, 1, 0], [1, 0, 3]]);
    const [a, b, c] = perClassScores(m, ['a', 'b', 'c']);
    // a: TP 2, predicted a 4, support 4 -> P .5, R .5, F1 .5
    assert.equal(a.className, 'a');
    close(a.precision, 2 / 4, 'a precision');
    close(a.recall, 2 / 4, 'a recall');
    close(a.f1, 0.5, 'a f1');
    assert.equal(a.support, 4);
    // b: TP 1, predicted b 2, support 2 -> P .5, R .5
    close(b.precision, 1 / 2, 'b precision');
    close(b.recall, 1 / 2, 'b recall');
    assert.equal(b.support, 2);
    // c: TP 3, predicted c 4, support 4 -> P .75, R .75, F1 .75
    close(c.precision, 3 / 4, 'c precision');
    close(c.recall, 3 / 4, 'c recall');
    close(c.f1, 0.75, 'c f1');
    assert.equal(c.support, 4);
  });

  test('precision and recall differ: F1 is their harmonic mean', () => {
    // class 0: TP 3, predicted 0: 3+2=5, support 3+1=4 -> P 3/5, R 3/4
    const m = [[3, 1], [2, 4]];
    const [zero, one] = perClassScores(m, ['x', 'y']);
    close(zero.precision, 3 / 5, 'precision');
    close(zero.recall, 3 / 4, 'recall');
    close(zero.f1, (2 * (3 / 5) * (3 / 4)) / (3 / 5 + 3 / 4), 'f1');
    // class 1: TP 4, predicted 1: 5, support 6
    close(one.precision, 4 / 5, 'precision 1');
    close(one.recall, 4 / 6, 'recall 1');
    assert.equal(one.support, 6);
  });

  test('a class with no support and no predictions scores 0, not NaN', () => {
    const m = confusionMatrix([0, 1, 0], [0, 1, 1], 3);
    const [, , empty] = perClassScores(m, ['a', 'b', 'c']);
    assert.deepEqual(empty, { className: 'c', precision: 0, recall: 0, f1: 0, support: 0 });
  });

  test('a class predicted but never right, or never predicted, scores 0', () => {
    // class 1 is predicted once (wrongly) and has no support; class 2 has support but is never predicted.
    const m = confusionMatrix([0, 0, 2], [0, 1, 0], 3);
    const scores = perClassScores(m, ['a', 'b', 'c']);
    assert.deepEqual(scores[1], { className: 'b', precision: 0, recall: 0, f1: 0, support: 0 });
    assert.deepEqual(scores[2], { className: 'c', precision: 0, recall: 0, f1: 0, support: 1 });
    for (const s of scores) for (const v of [s.precision, s.recall, s.f1]) assert.ok(Number.isFinite(v));
  });

  test('topConfusions: the largest off-diagonal cells, most images first, ties by true then predicted class; never the diagonal or an empty cell', () => {
    const m = [
      [9, 2, 0],
      [3, 9, 2],
      [0, 1, 9],
    ];
    assert.deepEqual(topConfusions(m, 3), [
      { trueClass: 1, predictedClass: 0, count: 3 },
      { trueClass: 0, predictedClass: 1, count: 2 },
      { trueClass: 1, predictedClass: 2, count: 2 },
    ]);
    assert.equal(topConfusions(m, 10).length, 4, 'only the non-empty off-diagonal cells');
    assert.deepEqual(topConfusions([[5, 0], [0, 5]], 10), []);
  });
});
