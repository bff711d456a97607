// lib/search/space.ts: validation that names field and fix, deterministic random sampling within bounds, the grid method.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SearchSpace, gridOf, parseSearchSpace, sampleConfig } from '../../lib/search/space';
import { expandGrid } from '../../lib/grid';
import { SpecError, parseSweepSpec } from '../../lib/sweep-spec';

/** The single problem of a one-key space; fails when there is not exactly one. */
function problemOf(raw: unknown): string {
  const { problems } = parseSearchSpace(raw);
  assert.equal(problems.length, 1, `expected one problem, got ${JSON.stringify(problems)}`);
  return problems[0];
}

describe('parseSearchSpace', () => {
  test('accepts every domain type, fills int step 1, keeps labels and key order', () => {
    const { space, problems } = parseSearchSpace({
      lr: { type: 'loguniform', low: 1e-4, high: 1e-2 },
      dropout: { type: 'uniform', low: 0, high: 1 },
      hidden_units: { type: 'int', low: 64, high: 512, step: 64 },
      n_epochs: { type: 'int', low: 5, high: 10 },
      optimizer_note: { type: 'choice', values: ['a', true, 3] },
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(Object.keys(space), ['lr', 'dropout', 'hidden_units', 'n_epochs', 'optimizer_note']);
    assert.deepEqual(space.n_epochs, { type: 'int', low: 5, high: 10, step: 1 });
  });

  test('a non-object or empty space gives one problem with an example', () => {
    for (const raw of [undefined, [], {}, 'lr']) assert.match(problemOf(raw), /^space: must be an object .*e\.g\. \{"lr"/);
  });

  test('each bad domain names its field and the fix', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ lr: [0.1, 0.01] }, /^space\.lr: must be a domain object with a "type"/],
      [{ lr: { type: 'normal', low: 0, high: 1 } }, /^space\.lr\.type: "normal" is not a domain type; use "choice"/],
      [{ x: { type: 'choice', values: [] } }, /^space\.x\.values: must be a non-empty list/],
      [{ x: { type: 'choice', values: [1, 1] } }, /^space\.x\.values: lists a value twice/],
      [{ x: { type: 'choice', values: [null] } }, /^space\.x\.values: .*numbers, strings or booleans/],
      [{ x: { type: 'uniform', low: 1, high: 1 } }, /^space\.x: low and high .*low < high.*"choice", "values": \[v\]/],
      [{ x: { type: 'uniform', low: 0, high: '1' } }, /^space\.x: low and high must be finite numbers/],
      [{ x: { type: 'int', low: 0.5, high: 4 } }, /^space\.x: low and high must be integers/],
      [{ lr: { type: 'loguniform', low: 0, high: 0.1 } }, /^space\.lr\.low: a loguniform range must be positive .*1e-5/],
      [{ x: { type: 'uniform', low: 0, high: 1, step: 0.1 } }, /^space\.x\.step: only "int" ranges take a step/],
      [{ x: { type: 'int', low: 1, high: 8, step: 0 } }, /^space\.x\.step: 0 is not valid: expected a positive integer/],
      [{ x: { type: 'int', low: 1, high: 10, step: 4 } }, /^space\.x: high - low \(9\) must be a multiple of step 4.*"high": 9/],
      [{ trial_id: { type: 'choice', values: [1] } }, /^space\.trial_id: "trial_id" is reserved/],
      [{ num_classes: { type: 'choice', values: [10] } }, /^space\.num_classes: .*comes from the data/],
    ];
    for (const [raw, expected] of cases) assert.match(problemOf(raw), expected, JSON.stringify(raw));
  });

  test('head hyperparameters are held to what the head accepts', () => {
    assert.match(problemOf({ hidden_units: { type: 'uniform', low: 16, high: 512 } }), /^space\.hidden_units: .*is an integer; use \{"type": "int"/);
    assert.match(problemOf({ batch_size: { type: 'int', low: 0, high: 64, step: 16 } }), /^space\.batch_size: low 0 out of range; .*positive integer/);
    assert.match(problemOf({ dropout: { type: 'choice', values: [0.2, 1, 1.5] } }), /^space\.dropout: 1, 1\.5 out of range; dropout must be a number in \[0, 1\)/);
    assert.match(problemOf({ lr: { type: 'loguniform', low: 1e-3, high: 20 } }), /^space\.lr: high 20 out of range/);
    assert.match(problemOf({ n_epochs: { type: 'choice', values: [10, 'many'] } }), /^space\.n_epochs: "many" out of range/);
    // uniform never draws high, so dropout may range up to 1; loguniform/int/choice do reach high.
    assert.deepEqual(parseSearchSpace({ dropout: { type: 'uniform', low: 0, high: 1 } }).problems, []);
  });

  test('every problem is reported, and only valid fields are kept', () => {
    const { space, problems } = parseSearchSpace({
      lr: { type: 'loguniform', low: -1, high: 1 },
      dropout: { type: 'uniform', low: 0.1, high: 0.5 },
      batch_size: { type: 'choice', values: [0] },
    });
    assert.equal(problems.length, 2);
    assert.deepEqual(Object.keys(space), ['dropout']);
  });
});

const SPACE: SearchSpace = {
  lr: { type: 'loguniform', low: 1e-5, high: 1e-1 },
  dropout: { type: 'uniform', low: 0.1, high: 0.6 },
  hidden_units: { type: 'int', low: 32, high: 512, step: 32 },
  batch_size: { type: 'choice', values: [16, 32, 64] },
};

describe('sampleConfig', () => {
  const samples = Array.from({ length: 2000 }, (_, i) => sampleConfig(SPACE, 7, i));

  test('a pure function of (seed, index): same pair, same configuration; other pairs differ', () => {
    assert.deepEqual(sampleConfig(SPACE, 7, 3), samples[3]);
    assert.notDeepEqual(sampleConfig(SPACE, 8, 3), samples[3]);
    assert.notDeepEqual(samples[4], samples[3]);
  });

  test('a hyperparameter draws the same values when other keys are added or reordered', () => {
    const { lr, ...rest } = SPACE;
    for (let i = 0; i < 20; i++) {
      assert.equal(sampleConfig({ ...rest, extra: { type: 'choice', values: ['x', 'y'] }, lr }, 7, i).lr, samples[i].lr);
    }
  });

  test('bounds, steps and choices hold; every step value and choice is reached', () => {
    const units = new Set<number>();
    const sizes = new Set<number>();
    for (const s of samples) {
      assert.ok((s.lr as number) >= 1e-5 && (s.lr as number) <= 1e-1);
      assert.ok((s.dropout as number) >= 0.1 && (s.dropout as number) < 0.6);
      assert.ok(Number.isInteger(s.hidden_units) && (s.hidden_units as number) % 32 === 0);
      units.add(s.hidden_units as number);
      sizes.add(s.batch_size as number);
    }
    assert.deepEqual([...units].sort((a, b) => a - b), Array.from({ length: 16 }, (_, i) => 32 * (i + 1)));
    assert.deepEqual([...sizes].sort((a, b) => a - b), [16, 32, 64]);
  });

  test('loguniform spreads draws evenly over decades (uniform would put ~90% in the top decade)', () => {
    const decades = [0, 0, 0, 0];
    for (const s of samples) decades[Math.min(3, Math.floor(Math.log10(s.lr as number) + 5))]++;
    for (const n of decades) assert.ok(n > 400 && n < 600, `decade counts ${decades}`);
  });

  test('uniform is uniform: each fifth of the range gets about a fifth of the draws', () => {
    const fifths = [0, 0, 0, 0, 0];
    for (const s of samples) fifths[Math.floor(((s.dropout as number) - 0.1) / 0.1)]++;
    for (const n of fifths) assert.ok(n > 320 && n < 480, `fifth counts ${fifths}`);
  });
});

describe('gridOf', () => {
  test('a choice-only space is the grid, in key order', () => {
    const grid = gridOf({ hidden_units: { type: 'choice', values: [256, 512] }, dropout: { type: 'choice', values: [0.4, 0.5] } });
    assert.deepEqual(grid, { hidden_units: [256, 512], dropout: [0.4, 0.5] });
    assert.equal(expandGrid(grid).length, 4);
  });

  test('ranges are refused by name', () => {
    assert.throws(() => gridOf(SPACE), /lr, dropout, hidden_units are ranges: list values, or use the random or bayesian method/);
  });
});

describe('head limits: one table for the grid and the search space', () => {
  // A value each side of every limit; num_classes is left out of spaces (it comes from the data).
  const cases: Array<[string, Array<number | string>, Array<number | string>]> = [
    ['hidden_units', [1, 16], [0, 1.5, -4, 'wide']],
    ['batch_size', [1, 32], [0, 2.5]],
    ['n_epochs', [1, 9], [0, 3.5]],
    ['dropout', [0, 0.99], [1, -0.1, 'half']],
    ['lr', [1e-9, 10], [0, 10.5, -1]],
  ];
  for (const [name, accepted, refused] of cases) {
    test(`${name}: the grid and a choice domain accept and refuse the same values`, () => {
      for (const v of [...accepted, ...refused]) {
        const inGrid = !parseSweepSpecProblems({ [name]: [v] }).some((p) => p.startsWith(`grid.${name}:`));
        const inSpace = parseSearchSpace({ [name]: { type: 'choice', values: [v] } }).problems.length === 0;
        assert.equal(inGrid, accepted.includes(v), `grid ${name}=${v}`);
        assert.equal(inSpace, inGrid, `space ${name}=${v}`);
      }
    });
  }
});

function parseSweepSpecProblems(grid: Record<string, unknown>): string[] {
  try {
    parseSweepSpec({ data: { source: 'd' }, backbone: { uri: 'm.json' }, grid });
    return [];
  } catch (error) {
    return (error as SpecError).problems;
  }
}
