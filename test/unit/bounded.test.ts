// lib/bounded.ts: bounded concurrency in input order; parallel writes that settle before a failure is thrown.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { allSettledOrThrow, forEachBounded, mapBounded } from '../../lib/bounded';

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

describe('forEachBounded', () => {
  test('starts no item after a failure, and throws it once the items in flight have ended', async () => {
    const started: number[] = [];
    const ended: number[] = [];
    const work = forEachBounded([1, 30, 5, 5, 5, 5], 2, async (ms, i) => {
      started.push(i);
      await later(null, ms);
      ended.push(i);
      if (i === 0) throw new Error('item 0 failed');
    });
    await assert.rejects(work, /item 0 failed/);
    // mapBounded's other lane would have gone on through items 2 to 5.
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(ended, [0, 1], 'item 1, in flight, ended before the failure was thrown');
  });

  test('runs every item, at most `limit` at once', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await forEachBounded([3, 1, 2, 1], 3, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await later(null, ms);
      inFlight -= 1;
      done.push(i);
    });
    assert.deepEqual(done.sort(), [0, 1, 2, 3]);
    assert.equal(most, 3);
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
