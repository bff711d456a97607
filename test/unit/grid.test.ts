// lib/grid.ts: cartesian expansion of the parameter grid, in reading order (last key fastest).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { expandGrid, gridSize, Grid } from '../../lib/grid';

describe('expandGrid', () => {
  test('an empty grid is one run with no parameters', () => {
    assert.deepEqual(expandGrid({}), [{}]);
    assert.equal(gridSize({}), 1);
  });

  test('one key gives one run per value, in order', () => {
    assert.deepEqual(expandGrid({ lr: [0.1, 0.01, 0.001] }), [{ lr: 0.1 }, { lr: 0.01 }, { lr: 0.001 }]);
  });

  test('two keys: last key varies fastest, like itertools.product', () => {
    assert.deepEqual(expandGrid({ a: [1, 2], b: ['x', 'y', 'z'] }), [
      { a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 1, b: 'z' },
      { a: 2, b: 'x' }, { a: 2, b: 'y' }, { a: 2, b: 'z' },
    ]);
  });

  test('key order, not value sort order, decides the order of runs', () => {
    const runs = expandGrid({ z: [3, 1], a: [true, false] });
    assert.deepEqual(runs, [{ z: 3, a: true }, { z: 3, a: false }, { z: 1, a: true }, { z: 1, a: false }]);
    // Keys of each run keep the grid's key order too.
    for (const run of runs) assert.deepEqual(Object.keys(run), ['z', 'a']);
  });

  test('string and boolean values are kept as-is (no coercion)', () => {
    const runs = expandGrid({ optimizer: ['adam', 'sgd'], nesterov: [false, true] });
    assert.equal(runs.length, 4);
    assert.strictEqual(runs[0].optimizer, 'adam');
    assert.strictEqual(runs[0].nesterov, false);
    assert.strictEqual(runs[3].optimizer, 'sgd');
    assert.strictEqual(runs[3].nesterov, true);
  });

  test('the reference grid gives 4 runs in the reference order', () => {
    const grid: Grid = {
      hidden_units: [256, 512], dropout: [0.4, 0.5], num_classes: [4], lr: [0.001], batch_size: [25], n_epochs: [40],
    };
    const runs = expandGrid(grid);
    assert.equal(runs.length, 4);
    assert.equal(gridSize(grid), 4);
    assert.deepEqual(runs.map((r) => [r.hidden_units, r.dropout]), [[256, 0.4], [256, 0.5], [512, 0.4], [512, 0.5]]);
    for (const run of runs) {
      assert.deepEqual(Object.keys(run), ['hidden_units', 'dropout', 'num_classes', 'lr', 'batch_size', 'n_epochs']);
      assert.equal(run.num_classes, 4);
      assert.equal(run.lr, 0.001);
      assert.equal(run.batch_size, 25);
      assert.equal(run.n_epochs, 40);
    }
  });

  test('0..5 keys: size is the product, runs are distinct, first run = first values, last run = last values', () => {
    const pools: Array<[string, Array<number | string | boolean>]> = [
      ['a', [1, 2, 3]], ['b', ['p', 'q']], ['c', [true, false]], ['d', [0.5]], ['e', [10, 20, 30, 40]],
    ];
    for (let k = 0; k <= 5; k++) {
      const grid: Grid = Object.fromEntries(pools.slice(0, k));
      const runs = expandGrid(grid);
      const product = pools.slice(0, k).reduce((n, [, v]) => n * v.length, 1);
      assert.equal(runs.length, product, `k=${k}`);
      assert.equal(gridSize(grid), product, `k=${k}`);
      assert.equal(new Set(runs.map((r) => JSON.stringify(r))).size, product, `k=${k}: duplicate permutation`);
      assert.deepEqual(runs[0], Object.fromEntries(pools.slice(0, k).map(([n, v]) => [n, v[0]])));
      assert.deepEqual(runs.at(-1), Object.fromEntries(pools.slice(0, k).map(([n, v]) => [n, v.at(-1)!])));
      // Last key varies fastest: consecutive runs differ in the last key first.
      if (k > 0) {
        const [lastName, lastValues] = pools[k - 1];
        assert.deepEqual(runs.slice(0, lastValues.length).map((r) => r[lastName]), lastValues);
      }
    }
  });

  test('matches a reference itertools.product implementation on a 5-key grid', () => {
    const grid: Grid = { a: [1, 2], b: ['x', 'y', 'z'], c: [false, true], d: [7], e: [0.1, 0.2] };
    const names = Object.keys(grid);
    const expected: Record<string, unknown>[] = [];
    const rec = (i: number, acc: Record<string, unknown>) => {
      if (i === names.length) { expected.push({ ...acc }); return; }
      for (const v of grid[names[i]]) rec(i + 1, { ...acc, [names[i]]: v });
    };
    rec(0, {});
    assert.deepEqual(expandGrid(grid), expected);
  });

  test('a key with no values gives no runs and size 0', () => {
    assert.deepEqual(expandGrid({ a: [1, 2], b: [] }), []);
    assert.equal(gridSize({ a: [1, 2], b: [] }), 0);
  });

  test('expansion does not mutate the grid', () => {
    const grid: Grid = { a: [1, 2], b: [3] };
    const copy = JSON.parse(JSON.stringify(grid));
    expandGrid(grid);
    assert.deepEqual(grid, copy);
  });
});
