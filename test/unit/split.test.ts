// lib/split.ts: stratified split; copies of an image never straddle splits; fractions per class.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { classesMissingFromSplits, stratifiedSplit, Fractions } from '../../lib/split';
import { balanceClasses } from '../../lib/balance';
import { ImageRef, Sample, SplitName } from '../../lib/manifest';

const SPLITS: SplitName[] = ['train', 'val', 'test'];
const F: Fractions = { train: 0.7, val: 0.15, test: 0.15 };

function images(label: string, n: number): ImageRef[] {
  return Array.from({ length: n }, (_, i) => ({ sha256: `${label}-${String(i).padStart(5, '0')}`, label, source: `${label}/${i}.jpg` }));
}

const key = (s: Sample) => `${s.sha256}#${s.copy}#${s.label}`;

function checkInvariants(samples: readonly Sample[], out: Record<SplitName, Sample[]>): void {
  // Every sample kept exactly once.
  const all = SPLITS.flatMap((name) => out[name]);
  assert.equal(all.length, samples.length);
  assert.deepEqual(all.map(key).sort(), samples.map(key).sort());
  // No sha256 in two splits.
  const home = new Map<string, SplitName>();
  for (const name of SPLITS) {
    for (const s of out[name]) {
      const seen = home.get(s.sha256);
      assert.ok(seen === undefined || seen === name, `${s.sha256} is in both ${seen} and ${name}`);
      home.set(s.sha256, name);
    }
  }
}

function perClass(out: Record<SplitName, Sample[]>, label: number): Record<SplitName, number> {
  return { train: out.train.filter((s) => s.label === label).length, val: out.val.filter((s) => s.label === label).length, test: out.test.filter((s) => s.label === label).length };
}

describe('stratifiedSplit', () => {
  test('600 distinct images per class, 0.7/0.15/0.15 -> exactly 420/90/90 per class', () => {
    const classes = ['a', 'b', 'c', 'd'];
    const samples = balanceClasses(classes.flatMap((c) => images(c, 600)), classes, 600, 7);
    const out = stratifiedSplit(samples, F, 7);
    checkInvariants(samples, out);
    for (let label = 0; label < 4; label++) assert.deepEqual(perClass(out, label), { train: 420, val: 90, test: 90 });
  });

  test('uneven class sizes: each class rounded on its own', () => {
    const samples: Sample[] = [
      ...Array.from({ length: 100 }, (_, i) => ({ sha256: `x${i}`, label: 0, copy: 0 })),
      ...Array.from({ length: 30 }, (_, i) => ({ sha256: `y${i}`, label: 1, copy: 0 })),
    ];
    const out = stratifiedSplit(samples, { train: 0.6, val: 0.2, test: 0.2 }, 1);
    checkInvariants(samples, out);
    assert.deepEqual(perClass(out, 0), { train: 60, val: 20, test: 20 });
    assert.deepEqual(perClass(out, 1), { train: 18, val: 6, test: 6 });
  });

  test('oversampled copies stay together and fractions are within one group of target', () => {
    const classes = ['a', 'b', 'c'];
    // 600 per class from 250, 80 and 7 images: many copies per image.
    const samples = balanceClasses([...images('a', 250), ...images('b', 80), ...images('c', 7)], classes, 600, 3);
    const out = stratifiedSplit(samples, F, 3);
    checkInvariants(samples, out);
    for (let label = 0; label < 3; label++) {
      const groupSizes = new Map<string, number>();
      for (const s of samples) if (s.label === label) groupSizes.set(s.sha256, (groupSizes.get(s.sha256) ?? 0) + 1);
      const maxGroup = Math.max(...groupSizes.values());
      const counts = perClass(out, label);
      assert.ok(Math.abs(counts.val - 90) < maxGroup, `class ${label}: val ${counts.val} vs 90 (group ${maxGroup})`);
      assert.ok(Math.abs(counts.test - 90) < maxGroup, `class ${label}: test ${counts.test} vs 90 (group ${maxGroup})`);
      assert.equal(counts.train + counts.val + counts.test, 600);
      assert.ok(counts.val > 0 && counts.test > 0 && counts.train > 0, `class ${label}: ${JSON.stringify(counts)}`);
    }
  });

  test('stress: 20 seeds x heavily oversampled classes keep every invariant', () => {
    const classes = ['a', 'b', 'c', 'd', 'e'];
    const pool = [...images('a', 3), ...images('b', 11), ...images('c', 40), ...images('d', 97), ...images('e', 300)];
    for (let seed = 0; seed < 20; seed++) {
      const samples = balanceClasses(pool, classes, 200, seed);
      const out = stratifiedSplit(samples, F, seed);
      checkInvariants(samples, out);
      for (let label = 0; label < classes.length; label++) {
        const sizes = new Map<string, number>();
        for (const s of samples) if (s.label === label) sizes.set(s.sha256, (sizes.get(s.sha256) ?? 0) + 1);
        const maxGroup = Math.max(...sizes.values());
        const counts = perClass(out, label);
        assert.ok(Math.abs(counts.val - 30) < maxGroup, `seed ${seed} class ${label}: val ${counts.val}, group ${maxGroup}`);
        assert.ok(Math.abs(counts.test - 30) < maxGroup, `seed ${seed} class ${label}: test ${counts.test}, group ${maxGroup}`);
      }
    }
  });

  test('deterministic for a seed and independent of input order', () => {
    const classes = ['a', 'b'];
    const samples = balanceClasses([...images('a', 40), ...images('b', 15)], classes, 60, 9);
    const a = stratifiedSplit(samples, F, 9);
    const b = stratifiedSplit(samples.slice().reverse(), F, 9);
    for (const name of SPLITS) assert.deepEqual(a[name].map(key).sort(), b[name].map(key).sort());
    assert.deepEqual(stratifiedSplit(samples, F, 9), a);
  });

  test('another seed assigns images differently', () => {
    const classes = ['a', 'b'];
    const samples = balanceClasses([...images('a', 200), ...images('b', 200)], classes, 200, 1);
    const a = stratifiedSplit(samples, F, 1);
    const b = stratifiedSplit(samples, F, 2);
    assert.notDeepEqual(a.val.map(key).sort(), b.val.map(key).sort());
    assert.notDeepEqual(a.test.map(key).sort(), b.test.map(key).sort());
    // ... but with the same sizes.
    for (const name of SPLITS) assert.equal(a[name].length, b[name].length);
  });

  test('empty input gives three empty splits', () => {
    assert.deepEqual(stratifiedSplit([], F, 1), { train: [], val: [], test: [] });
  });
});

describe('classesMissingFromSplits', () => {
  test('a class of 1 or 2 distinct images, oversampled, leaves a split without it (with 2: train); 3 fill every split', () => {
    const classes = ['few', 'two', 'three', 'many'];
    const pool = [...images('few', 1), ...images('two', 2), ...images('three', 3), ...images('many', 60)];
    const samples = balanceClasses(pool, classes, 40, 5);
    const out = stratifiedSplit(samples, F, 5);
    const missing = classesMissingFromSplits(out, samples);
    assert.deepEqual(missing.filter((m) => m.label === 1), [{ label: 1, split: 'train', distinct: 2 }]);
    assert.deepEqual(missing.filter((m) => m.label === 0).map((m) => [m.split, m.distinct]), [['train', 1], ['test', 1]]);
    assert.ok(missing.every((m) => m.label < 2), 'three distinct images and more reach every split');
    for (const split of SPLITS) assert.ok(out[split].some((s) => s.label === 2), `"three" in ${split}`);
  });
});
