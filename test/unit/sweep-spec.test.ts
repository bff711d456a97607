// lib/sweep-spec.ts: validation with defaults; every problem reported at once, each naming its field.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogueBackbone } from '../../lib/backbone-catalogue';
import { HEAD_PARAM_DEFAULTS, headParams } from '../../lib/head-params';
import { IMAGENET_MEAN, IMAGENET_STD, SpecError, parseSweepSpec } from '../../lib/sweep-spec';

const ROOT = join(__dirname, '..', '..');

/** A minimal valid spec; `patch` is merged one level deep, except `grid`, which it replaces. */
function spec(patch: Record<string, any> = {}): Record<string, any> {
  const base: Record<string, any> = {
    data: { source: './flowers', classes: ['daisy', 'rose', 'sunflower', 'tulip'] },
    backbone: { uri: 'file:///models/mobilenet/model.json' },
    grid: { hidden_units: [256, 512], dropout: [0.4, 0.5] },
  };
  for (const [k, v] of Object.entries(patch)) {
    const merge = k !== 'grid' && v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object';
    base[k] = merge ? { ...base[k], ...v } : v;
  }
  return base;
}

/** The SpecError's problems for a raw spec (fails if it parses). */
function problems(raw: unknown): string[] {
  try {
    parseSweepSpec(raw);
  } catch (error) {
    assert.ok(error instanceof SpecError, `expected SpecError, got ${(error as Error).name}: ${(error as Error).message}`);
    assert.ok(error.problems.length > 0);
    // The message lists every problem.
    for (const p of error.problems) assert.ok(error.message.includes(p));
    return error.problems;
  }
  assert.fail('spec was accepted');
}

function assertProblem(raw: unknown, field: string, extra?: RegExp): void {
  const found = problems(raw);
  const mine = found.filter((p) => p.startsWith(`${field}:`));
  assert.equal(mine.length >= 1, true, `no problem for ${field} in ${JSON.stringify(found)}`);
  if (extra) assert.ok(mine.some((p) => extra.test(p)), `${JSON.stringify(mine)} should match ${extra}`);
}

describe('parseSweepSpec: accepted specs', () => {
  test('examples/demo-sweep.json parses and keeps its values', () => {
    const raw = JSON.parse(readFileSync(join(ROOT, 'examples', 'demo-sweep.json'), 'utf8'));
    const s = parseSweepSpec(raw);
    assert.equal(s.name, raw.name);
    assert.deepEqual(s.data.classes, raw.data.classes);
    assert.equal(s.balance.perClass, raw.balance.perClass);
    assert.deepEqual(s.image, raw.image);
    assert.deepEqual(s.grid, raw.grid);
    assert.deepEqual(Object.keys(s.grid), Object.keys(raw.grid));
    // A catalogue backbone's feature layer comes from the catalogue unless the spec sets one.
    assert.equal(s.backbone.featureLayer, raw.backbone.featureLayer ?? catalogueBackbone(raw.backbone.name)?.featureLayer);
    assert.equal(s.augmentation.views, raw.augmentation.views);
  });

  test('defaults are filled', () => {
    const s = parseSweepSpec({ data: { source: 'd' }, backbone: { uri: 'm.json' }, grid: { lr: [0.01] } });
    assert.equal(s.name, 'sweep');
    assert.equal(s.data.source, 'd');
    assert.equal(s.data.classes, undefined);
    assert.equal(s.data.maxBadFraction, 0.05);
    assert.deepEqual(s.balance, { perClass: 600 });
    assert.deepEqual(s.split, { train: 0.7, val: 0.15, test: 0.15 });
    assert.deepEqual(s.image, { size: 224, resize: 256 });
    assert.deepEqual(s.augmentation, { enabled: true, hflip: true, rotationDeg: 30, minScale: 0.5, colorJitter: 0.1, views: 0 });
    assert.deepEqual(s.backbone, { uri: 'm.json', format: 'layers', featureLayer: undefined, mean: IMAGENET_MEAN, std: IMAGENET_STD });
    assert.equal(s.seed, 42);
    assert.equal(s.concurrency, 2);
    assert.equal(s.heartbeatTimeoutSeconds, 60);
    assert.equal(s.checkpointEverySeconds, 10);
    assert.deepEqual(s.taskQueues, { cpu: 'sweep-cpu', gpu: 'sweep-gpu' });
    assert.equal(s.maxTrials, 256);
    assert.equal(s.reuse, true);
  });

  test('image.resize defaults to size * 256/224, rounded', () => {
    assert.equal(parseSweepSpec(spec({ image: { size: 64 } })).image.resize, 73);
    assert.equal(parseSweepSpec(spec({ image: { size: 112 } })).image.resize, 128);
    assert.equal(parseSweepSpec(spec({ image: { size: 64, resize: 64 } })).image.resize, 64);
  });

  test('unknown grid keys are accepted, with string/boolean values, in their order', () => {
    const s = parseSweepSpec(spec({ grid: { optimizer: ['adam', 'sgd'], hidden_units: [128], use_bn: [true, false], zeta: [1] } }));
    assert.deepEqual(Object.keys(s.grid), ['optimizer', 'hidden_units', 'use_bn', 'zeta']);
    assert.deepEqual(s.grid.optimizer, ['adam', 'sgd']);
    assert.deepEqual(s.grid.use_bn, [true, false]);
  });

  test('a grid exactly at maxTrials is allowed', () => {
    assert.doesNotThrow(() => parseSweepSpec(spec({ maxTrials: 4 })));
  });

  test('num_classes agreeing with data.classes is allowed', () => {
    assert.deepEqual(parseSweepSpec(spec({ grid: { num_classes: [4] } })).grid.num_classes, [4]);
  });

  test('grid keys named like Object.prototype members are ordinary labels', () => {
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
      const s = parseSweepSpec(JSON.parse(`{"data":{"source":"d"},"backbone":{"uri":"m.json"},"grid":{"${name}":[1,2],"lr":[0.01]}}`));
      assert.deepEqual(Object.keys(s.grid), [name, 'lr'], name);
    }
  });
});

describe('parseSweepSpec: rejected specs name the field', () => {
  test('a grid key named like a results column (or __proto__) is refused, so results never lose a metric', () => {
    for (const name of ['epoch', 'run', 'val_loss', 'trial_id', '__proto__']) {
      const raw = JSON.parse(`{"data":{"source":"d"},"backbone":{"uri":"m.json"},"grid":{"${name}":[1,2],"lr":[0.01]}}`);
      assertProblem(raw, `grid.${name}`, /reserved/);
    }
  });

  test('a spec that is not an object', () => {
    for (const raw of [null, undefined, 42, 'spec', [], [spec()]]) {
      const found = problems(raw);
      assert.equal(found.length, 1);
      assert.match(found[0], /JSON object/);
    }
  });

  test('missing data.source (and missing data)', () => {
    assertProblem(spec({ data: { source: undefined } }), 'data.source', /required/);
    assertProblem({ backbone: { uri: 'm.json' }, grid: { lr: [0.1] } }, 'data.source', /required/);
    assertProblem(spec({ data: { source: '   ' } }), 'data.source');
  });

  test('missing backbone.uri', () => {
    assertProblem(spec({ backbone: undefined }), 'backbone.uri', /required/);
  });

  test('split fractions not adding up to 1', () => {
    assertProblem(spec({ split: { train: 0.8, val: 0.15, test: 0.15 } }), 'split', /add up to 1.*1\.1/);
    assertProblem(spec({ split: { train: 0.5 } }), 'split', /0\.8/);
  });

  test('split fraction 0 or out of range names the fraction', () => {
    assertProblem(spec({ split: { train: 0.85, val: 0.15, test: 0 } }), 'split.test');
    assertProblem(spec({ split: { train: 1.2 } }), 'split.train');
  });

  test('empty grid, or a grid value list that is empty / not a list', () => {
    assertProblem(spec({ grid: {} }), 'grid');
    assertProblem(spec({ grid: { dropout: [] } }), 'grid.dropout', /non-empty list/);
    assertProblem(spec({ grid: { dropout: 0.5 } }), 'grid.dropout', /non-empty list/);
    assertProblem(spec({ grid: { dropout: [{ p: 0.5 }] } }), 'grid.dropout', /numbers, strings or booleans/);
  });

  test('dropout 1.0 (or negative, or a string) is rejected', () => {
    assertProblem(spec({ grid: { dropout: [0.5, 1.0] } }), 'grid.dropout', /^grid\.dropout: 1 must be a number in \[0, 1\)/);
    assertProblem(spec({ grid: { dropout: [-0.1] } }), 'grid.dropout', /-0\.1/);
    assertProblem(spec({ grid: { dropout: ['0.5'] } }), 'grid.dropout');
    assert.doesNotThrow(() => parseSweepSpec(spec({ grid: { dropout: [0, 0.99] } })));
  });

  test('hidden_units 0 or 2.5 is rejected, naming the value', () => {
    assertProblem(spec({ grid: { hidden_units: [0] } }), 'grid.hidden_units', /^grid\.hidden_units: 0 .*positive integer/);
    assertProblem(spec({ grid: { hidden_units: [2.5] } }), 'grid.hidden_units', /2\.5 .*positive integer/);
    const found = problems(spec({ grid: { hidden_units: [0, 64, 2.5] } }));
    assert.equal(found.filter((p) => p.startsWith('grid.hidden_units:')).length, 2);
  });

  test('other head parameters are range-checked', () => {
    assertProblem(spec({ grid: { lr: [0] } }), 'grid.lr');
    assertProblem(spec({ grid: { batch_size: [-1] } }), 'grid.batch_size');
    assertProblem(spec({ grid: { n_epochs: [1.5] } }), 'grid.n_epochs');
    assertProblem(spec({ data: { classes: undefined }, grid: { num_classes: [1] } }), 'grid.num_classes');
  });

  test('a duplicate grid value', () => {
    assertProblem(spec({ grid: { hidden_units: [256, 512, 256] } }), 'grid.hidden_units', /twice/);
    assertProblem(spec({ grid: { optimizer: ['adam', 'adam'] } }), 'grid.optimizer', /twice/);
  });

  test('num_classes disagreeing with data.classes', () => {
    assertProblem(spec({ grid: { num_classes: [5] } }), 'grid.num_classes', /\[5\].*4 classes/);
    assertProblem(spec({ grid: { num_classes: [4, 3] } }), 'grid.num_classes');
  });

  test('data.classes with fewer than 2 classes or a repeated class', () => {
    assertProblem(spec({ data: { classes: ['daisy'] } }), 'data.classes', /at least 2/);
    assertProblem(spec({ data: { classes: ['daisy', 'rose', 'daisy'] } }), 'data.classes', /twice/);
    assertProblem(spec({ data: { classes: ['a/b', 'c'] } }), 'data.classes');
  });

  test('a grid larger than maxTrials shows the count', () => {
    assertProblem(spec({ maxTrials: 3 }), 'grid', /\b4 permutations\b.*maxTrials \(3\)/);
    assertProblem(spec({ grid: { a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], b: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], c: [1, 2, 3] } }), 'grid', /300 permutations.*\(256\)/);
  });

  test('image.size out of range or not an integer', () => {
    assertProblem(spec({ image: { size: 4 } }), 'image.size', /\b4\b/);
    assertProblem(spec({ image: { size: 2048 } }), 'image.size', /2048/);
    assertProblem(spec({ image: { size: 100.5 } }), 'image.size');
    // resize smaller than size
    assertProblem(spec({ image: { size: 224, resize: 200 } }), 'image.resize');
  });

  test('backbone.mean / std of the wrong length or values', () => {
    assertProblem(spec({ backbone: { mean: [0.5, 0.5] } }), 'backbone.mean', /three/);
    assertProblem(spec({ backbone: { mean: [0.5, 0.5, 0.5, 0.5] } }), 'backbone.mean');
    assertProblem(spec({ backbone: { std: [0.2, 0, 0.2] } }), 'backbone.std', /positive/);
    assertProblem(spec({ backbone: { format: 'onnx' } }), 'backbone.format', /onnx/);
  });

  test('wrongly typed scalars and sections', () => {
    assertProblem(spec({ seed: -1 }), 'seed');
    assertProblem(spec({ concurrency: 0 }), 'concurrency');
    assertProblem(spec({ checkpointEverySeconds: -1 }), 'checkpointEverySeconds');
    assertProblem(spec({ checkpointEverySeconds: '10s' }), 'checkpointEverySeconds');
    assertProblem(spec({ reuse: 'yes' }), 'reuse');
    assertProblem(spec({ balance: { perClass: 2 } }), 'balance.perClass');
    assertProblem(spec({ augmentation: 'on' }), 'augmentation', /must be an object/);
    assertProblem(spec({ name: 'has spaces' }), 'name');
  });

  test('several problems are all reported at once', () => {
    const found = problems({
      data: {},
      backbone: { uri: 'm.json', mean: [1] },
      split: { train: 0.9 },
      image: { size: 1 },
      grid: { dropout: [1], hidden_units: [0], lr: [] },
    });
    for (const field of ['data.source', 'backbone.mean', 'split', 'image.size', 'grid.dropout', 'grid.hidden_units', 'grid.lr']) {
      assert.ok(found.some((p) => p.startsWith(`${field}:`)), `missing ${field} in ${JSON.stringify(found)}`);
    }
  });
});

describe('headParams', () => {
  test('fills defaults and takes num_classes from the argument', () => {
    assert.deepEqual(headParams({}, 4), { ...HEAD_PARAM_DEFAULTS, num_classes: 4 });
    assert.deepEqual(headParams({}, 4), { hidden_units: 256, dropout: 0.5, lr: 0.001, batch_size: 25, n_epochs: 40, num_classes: 4 });
  });

  test('uses grid values over defaults, ignores label keys and non-numbers', () => {
    const h = headParams({ hidden_units: 512, dropout: 0.4, lr: 0.01, batch_size: 32, n_epochs: 3, optimizer: 'adam', num_classes: 4 }, 4);
    assert.deepEqual(h, { hidden_units: 512, dropout: 0.4, lr: 0.01, batch_size: 32, n_epochs: 3, num_classes: 4 });
    assert.equal('optimizer' in h, false);
    assert.equal(headParams({ dropout: 'high' }, 3).dropout, 0.5);
  });

  test('does not share state between calls (defaults are not mutated)', () => {
    headParams({ hidden_units: 8 }, 2);
    assert.equal(HEAD_PARAM_DEFAULTS.hidden_units, 256);
    assert.equal(headParams({}, 2).hidden_units, 256);
  });
});
