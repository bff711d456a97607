// lib/bounded.ts: bounded concurrency in input order; parallel writes that settle before a failure is thrown.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { allSettledOrThrow, mapBounded } from '../../lib/bounded';

const later = <T>(value: T, ticks: number): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ticks));

describe('mapBounded', () => {
  test('keeps at most `limit` in flight and returns results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded([30, 10, 20, 5, 1], 2, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await later(null, ms);
      inFlight -= 1;
      return i;
    });
    assert.deepEqual(results, [0, 1, 2, 3, 4]);
    assert.equal(most, 2);
  });
});

describe('allSettledOrThrow', () => {
  test('throws the first failure only after every other write has ended', async () => {
    const ended: string[] = [];
    const write = (name: string, ms: number, fail = false) => later(name, ms).then(() => {
      ended.push(name);
      if (fail) throw new Error(`${name} failed`);
    });
    await assert.rejects(allSettledOrThrow([write('fast-failure', 1, true), write('slow-write', 30)]), /fast-failure failed/);
    // Promise.all would have rejected at 1 ms with the slow write still running.
    assert.deepEqual(ended, ['fast-failure', 'slow-write']);
  });

  test('resolves when every write succeeds; values that are not promises count as done', async () => {
    await allSettledOrThrow([later(1, 5), false, undefined]);
  });
});
