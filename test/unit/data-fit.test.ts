// lib/data-fit.ts: the settings checked against the data's classes by the balance step and `sweep validate`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_BALANCED_SAMPLES, dataFitProblem } from '../../lib/data-fit';

const classes = ['daisy', 'rose', 'sunflower', 'tulip'];

test('a grid num_classes other than the data\'s classes is named, with the fix', () => {
  assert.equal(dataFitProblem(classes, 600, [4]), undefined);
  assert.equal(dataFitProblem(classes, 600, []), undefined);
  assert.equal(dataFitProblem(classes, 600, [4, 3, 5]),
    'grid.num_classes [3,5] disagrees with the data, which has 4 classes (daisy, rose, sunflower, tulip); set num_classes to [4] or choose classes with data.classes');
});

test('a balanced set past MAX_BALANCED_SAMPLES is refused, naming the largest perClass this data allows; at the bound it is taken', () => {
  assert.equal(dataFitProblem(classes, MAX_BALANCED_SAMPLES / 4, []), undefined);
  assert.equal(dataFitProblem(classes, MAX_BALANCED_SAMPLES / 4 + 1, []),
    'balance.perClass: 750,001 images for each of 4 classes is 3,000,004 samples, more than the 3,000,000 a sweep\'s manifests can hold; use a perClass of at most 750,000');
  const thousand = Array.from({ length: 1000 }, (_, i) => `c${i}`);
  assert.match(dataFitProblem(thousand, 3001, [])!, /use a perClass of at most 3,000$/);
});
