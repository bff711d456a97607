// activities/examine-files.ts: which files are images, with the decode as a fake. A decode that failed
// beside others is tried again alone; a want of resources fails the step instead of dropping the image.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SourceFile, examineFiles } from '../../activities/examine-files';
import { ClassLayout } from '../../lib/dataset-layout';
import { TransientError } from '../../lib/errors';
import { DecodeCheck } from '../../model/image-preprocessing';

const names = ['a/1.png', 'a/2.png', 'b/3.png', 'b/4.png', 'b/5.txt'];
const layout: ClassLayout = { classes: ['a', 'b'], found: ['a', 'b'], skipped: [], files: names.map((p) => ({ path: p, label: p.split('/')[0] })) };
const files = new Map<string, SourceFile>(names.map((p) => [p, { path: p, size: p.length, read: async () => Buffer.from(p) }]));

/** A decode that gives `beside` while another decode is in flight, and `alone` otherwise; `calls` counts them by file. */
function fakeDecode(beside: (name: string) => DecodeCheck, alone: (name: string) => DecodeCheck) {
  let inFlight = 0;
  const calls = new Map<string, number>();
  const decode = async (bytes: Buffer): Promise<DecodeCheck> => {
    const name = bytes.toString();
    calls.set(name, (calls.get(name) ?? 0) + 1);
    inFlight++;
    await sleep(5);
    const others = inFlight > 1;
    inFlight--;
    return others ? beside(name) : alone(name);
  };
  return { decode, calls };
}

const ok: DecodeCheck = { ok: true, width: 8, height: 8, format: 'png' };
const notAnImage = (name: string): DecodeCheck => (name.endsWith('.txt') ? { ok: false, reason: 'Input buffer contains unsupported image format' } : ok);

test('a decode that failed beside others and decodes alone keeps its image: nothing is skipped but what is not an image', async () => {
  const { decode, calls } = fakeDecode((name) => (name.endsWith('.txt') ? notAnImage(name) : { ok: false, reason: 'Unknown error' }), notAnImage);
  const progress: number[] = [];
  const examined = await examineFiles(layout, files, { concurrency: 4, decode, progress: (done) => progress.push(done) });
  assert.deepEqual(examined.candidates.map((c) => c.source).sort(), names.slice(0, 4));
  assert.deepEqual(examined.skipped, [{ source: 'b/5.txt', reason: 'not an image: Input buffer contains unsupported image format' }]);
  assert.ok([...calls.values()].some((n) => n === 2), 'some decodes were tried again');
  assert.deepEqual(progress, [1, 2, 3, 4, 5], 'every file counted once');
  assert.deepEqual([...examined.read.keys()].sort(), names);
});

test('a decode that fails alone for want of memory fails the step, to be retried, rather than drop the image', async () => {
  const outOfMemory: DecodeCheck = { ok: false, reason: 'vips_malloc: out of memory --- size == 96MB' };
  const { decode } = fakeDecode(() => outOfMemory, (name) => (name === 'b/3.png' ? outOfMemory : notAnImage(name)));
  await assert.rejects(examineFiles(layout, files, { concurrency: 4, decode }), (error: unknown) => {
    assert.ok(error instanceof TransientError, String(error));
    assert.match(error.message, /^decoding b\/3\.png failed for want of resources on this worker \(vips_malloc: out of memory/);
    return true;
  });
});

test('a file that fails alone as well is skipped, once; an image stored before needs no decode; a file too large is not read', async () => {
  const { decode, calls } = fakeDecode(notAnImage, notAnImage);
  const large = new Map(files);
  large.set('b/4.png', { path: 'b/4.png', size: 300 * 1024 * 1024, read: async () => assert.fail('read') });
  const stored = new Map([[(await examineFiles(layout, files, { concurrency: 1, decode })).candidates.find((c) => c.source === 'a/1.png')!.sha256, { pack: 'p', offset: 0, length: 7 }]]);
  calls.clear();
  const kept: string[] = [];
  const examined = await examineFiles(layout, large, { concurrency: 2, decode, stored, keep: async (sha256) => { kept.push(sha256); } });
  assert.deepEqual(examined.skipped.map((s) => s.reason.split(':')[0]).sort(), ['not an image', 'too large']);
  assert.equal(calls.get('b/5.txt'), 2, 'decoded again alone, then skipped');
  assert.equal(calls.get('a/1.png'), undefined, 'stored: not decoded');
  assert.deepEqual(examined.candidates.find((c) => c.source === 'a/1.png')?.at, { pack: 'p', offset: 0, length: 7 });
  assert.equal(kept.length, 2, 'the two new images, not the stored one');
  assert.match(examined.read.get('b/4.png')!, /not read$/);
});
