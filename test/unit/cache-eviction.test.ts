// lib/cache-eviction.ts: which local copies go when a node's cache disk needs room.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copiesToEvict } from '../../lib/cache-eviction';

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;
const copy = (file: string, bytes: number, minutesAgo: number) => ({ file, bytes, lastUsedMs: NOW - minutesAgo * MINUTE });
const names = (copies: ReadonlyArray<{ file: string }>) => copies.map((c) => c.file);

test('the least recently used go first, until the bytes needed are freed', () => {
  const copies = [copy('b', 10, 30), copy('a', 10, 90), copy('c', 10, 60), copy('d', 10, 20)];
  assert.deepEqual(names(copiesToEvict(copies, 15, NOW, 10 * MINUTE)), ['a', 'c']);
  assert.deepEqual(names(copiesToEvict(copies, 10, NOW, 10 * MINUTE)), ['a'], 'one copy frees enough');
  assert.deepEqual(names(copiesToEvict(copies, 0, NOW, 10 * MINUTE)), [], 'nothing needed, nothing goes');
});

test('a copy used within the keep-recent window stays, even when that leaves too little freed', () => {
  const copies = [copy('old', 5, 60), copy('recent', 100, 9), copy('now', 100, 0)];
  assert.deepEqual(names(copiesToEvict(copies, 150, NOW, 10 * MINUTE)), ['old']);
  assert.deepEqual(names(copiesToEvict(copies, 150, NOW, 0)), ['old', 'recent', 'now'], 'no window: all may go');
});

test('copies last used at the same moment go in name order, so every process of a node picks the same', () => {
  const copies = [copy('z', 1, 60), copy('m', 1, 60), copy('a', 1, 60)];
  assert.deepEqual(names(copiesToEvict(copies, 2, NOW, 0)), ['a', 'm']);
});
