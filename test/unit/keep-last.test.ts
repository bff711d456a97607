// lib/keep-last.ts: one value kept for the last key; a rejected promise is not kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepLast } from '../../lib/keep-last';

test('the last key\'s value is kept; another key replaces it', () => {
  const made: string[] = [];
  const get = keepLast((key: string, suffix: string) => { made.push(key); return `${key}${suffix}`; });
  assert.equal(get('a', '!'), 'a!');
  assert.equal(get('a', '?'), 'a!', 'kept: made once for the key');
  assert.equal(get('b', '!'), 'b!');
  assert.equal(get('a', '!'), 'a!');
  assert.deepEqual(made, ['a', 'b', 'a']);
});

test('a promise that rejects is not kept: the next call makes it again', async () => {
  let calls = 0;
  const get = keepLast(async (key: string) => {
    calls++;
    if (calls === 1) throw new Error('S3 was down');
    return key.length;
  });
  await assert.rejects(get('abc'), /S3 was down/);
  assert.equal(await get('abc'), 3);
  assert.equal(await get('abc'), 3);
  assert.equal(calls, 2);
});
