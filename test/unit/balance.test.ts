// lib/balance.ts: N samples per class; subsample above N, keep all + oversample below N; seeded.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { balanceClasses } from '../../lib/balance';
import { ImageRef, Sample } from '../../lib/manifest';

function images(label: string, n: number): ImageRef[] {
  return Array.from({ length: n }, (_, i) => ({ sha256: `${label}-${String(i).padStart(4, '0')}`, label, source: `${label}/${i}.jpg` }));
}

function countBy<T>(items: readonly T[], key: (t: T) => string | number): Map<string | number, number> {
  const out = new Map<string | number, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
}

const CLASSES = ['daisy', 'rose', 'sunflower', 'tulip'];
// Above, equal to, and below the target of 50.
const ALL = [...images('daisy', 120), ...images('rose', 50), ...images('sunflower', 17), ...images('tulip', 1)];

describe('balanceClasses', () => {
  test('every class gets exactly perClass samples', () => {
    const out = balanceClasses(ALL, CLASSES, 50, 42);
    assert.equal(out.length, 200);
    assert.deepEqual([...countBy(out, (s) => s.label).entries()].sort(), [[0, 50], [1, 50], [2, 50], [3, 50]]);
  });

  test('labels are indices into classes, in the classes order (not alphabetical, not input order)', () => {
    const classes = ['tulip', 'daisy', 'sunflower'];
    const shuffledInput = [...images('sunflower', 5), ...images('daisy', 5), ...images('tulip', 5)];
    const out = balanceClasses(shuffledInput, classes, 5, 1);
    for (const s of out) assert.ok(s.sha256.startsWith(classes[s.label] + '-'), `${s.sha256} labelled ${s.label}`);
    // Samples are grouped by class in the classes order.
    assert.deepEqual(out.map((s) => s.label), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  });

  test('images of classes not listed are ignored', () => {
    const out = balanceClasses([...images('daisy', 10), ...images('dandelion', 10)], ['daisy'], 5, 1);
    assert.equal(out.length, 5);
    assert.ok(out.every((s) => s.sha256.startsWith('daisy-') && s.label === 0));
  });

  test('above N: subsample without replacement (no duplicates, all copy 0, drawn from the class)', () => {
    const out = balanceClasses(ALL, CLASSES, 50, 42).filter((s) => s.label === 0);
    assert.equal(new Set(out.map((s) => s.sha256)).size, 50);
    assert.ok(out.every((s) => s.copy === 0));
    const daisies = new Set(images('daisy', 120).map((i) => i.sha256));
    assert.ok(out.every((s) => daisies.has(s.sha256)));
    // A random subsample, not simply the first 50 in sorted order.
    const firstFifty = new Set(images('daisy', 120).slice(0, 50).map((i) => i.sha256));
    assert.ok(out.some((s) => !firstFifty.has(s.sha256)));
  });

  test('exactly N: every image once, no copies', () => {
    const out = balanceClasses(ALL, CLASSES, 50, 42).filter((s) => s.label === 1);
    assert.deepEqual(out.map((s) => s.sha256).sort(), images('rose', 50).map((i) => i.sha256));
    assert.ok(out.every((s) => s.copy === 0));
  });

  test('below N: every original present, extra copies numbered 1,2,... per image, (sha, copy) unique', () => {
    for (const [label, n] of [[2, 17], [3, 1]] as const) {
      const out = balanceClasses(ALL, CLASSES, 50, 42).filter((s) => s.label === label);
      const originals = images(CLASSES[label], n).map((i) => i.sha256);
      assert.equal(out.length, 50);
      // Every original exactly once as copy 0.
      assert.deepEqual(out.filter((s) => s.copy === 0).map((s) => s.sha256).sort(), originals);
      // (sha, copy) pairs unique.
      assert.equal(new Set(out.map((s) => `${s.sha256}#${s.copy}`)).size, 50);
      // For each image, its copy indices are exactly 0..k-1 (no gaps, no repeats).
      const bySha = new Map<string, number[]>();
      for (const s of out) bySha.set(s.sha256, [...(bySha.get(s.sha256) ?? []), s.copy]);
      for (const [sha, copies] of bySha) {
        assert.ok(originals.includes(sha), `${sha} is not an image of the class`);
        assert.deepEqual(copies.slice().sort((a, b) => a - b), copies.map((_, i) => i), `${sha}: ${copies}`);
      }
    }
    // A single image oversampled to 50: copies 0..49.
    const single = balanceClasses(ALL, CLASSES, 50, 42).filter((s) => s.label === 3);
    assert.deepEqual(single.map((s) => s.copy), Array.from({ length: 50 }, (_, i) => i));
  });

  test('deterministic for a seed, and independent of input order', () => {
    const a = balanceClasses(ALL, CLASSES, 50, 42);
    const b = balanceClasses(ALL.slice().reverse(), CLASSES, 50, 42);
    assert.deepEqual(a, b);
  });

  test('another seed draws differently (subsample and oversample)', () => {
    const a = balanceClasses(ALL, CLASSES, 50, 42);
    const b = balanceClasses(ALL, CLASSES, 50, 43);
    const pick = (s: Sample[], label: number) => s.filter((x) => x.label === label).map((x) => `${x.sha256}#${x.copy}`).sort();
    assert.notDeepEqual(pick(a, 0), pick(b, 0), 'subsample should depend on the seed');
    assert.notDeepEqual(countBy(a.filter((s) => s.label === 2), (s) => s.sha256), countBy(b.filter((s) => s.label === 2), (s) => s.sha256),
      'oversampling draws should depend on the seed');
  });

  test('a class with no images throws an error naming the class', () => {
    assert.throws(() => balanceClasses(ALL, [...CLASSES, 'dandelion'], 50, 42), /dandelion/);
    assert.throws(() => balanceClasses(images('rose', 3), ['daisy', 'rose'], 3, 1), (e: Error) => e.message.includes('"daisy"') && !e.message.includes('"rose"'));
  });
});
