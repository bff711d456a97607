// A node's local copies (platform/local-copy.ts) when another process of the node, or a person, touches
// them while this one reads: the reader finds a whole copy, S3's bytes, and never a missing file. When
// the cache's disk needs room, the least recently used copies go, never one used in the last minutes;
// a disk that stays full fails the download with a line that says so (on a real small disk, as root).
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readLocalCopy } from '../../platform/local-copy';
import { MemoryObjectStore } from '../../platform/memory-store';
import { ObjectStore, ObjectVersion } from '../../platform/object-store';
import { putObject, setObjectStore } from '../../platform/storage';

/** An object store whose reads wait at a gate, once it is closed: what a node sees during a download. */
class GatedStore extends MemoryObjectStore {
  private gate?: Promise<void>;
  private open?: () => void;
  waiting = 0;

  close(): void {
    this.gate = new Promise((resolve) => { this.open = resolve; });
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  override async get(bucket: string, key: string, range?: string): Promise<ObjectVersion | undefined> {
    if (this.gate) {
      this.waiting++;
      await this.gate;
    }
    return super.get(bucket, key, range);
  }
}

const store = new GatedStore();
let previous: ObjectStore;
let tmp: string;
before(() => {
  previous = setObjectStore(store);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'local-copy-'));
  process.env.SWEEP_CACHE_DIR = tmp;
});
after(() => {
  setObjectStore(previous);
  fs.rmSync(tmp, { recursive: true, force: true });
  delete process.env.SWEEP_CACHE_DIR;
});

const bytes = Buffer.from('the bytes S3 holds, whole');
const readWhole = async (file: string) => ({ value: fs.readFileSync(file) });

test('a damaged copy is replaced by its new download, never removed first: a reader of the node that found its path meanwhile opens a file', async () => {
  const key = 'features/replaced/shard-0.bin';
  const file = path.join(tmp, key);
  await putObject(key, bytes);
  assert.deepEqual(await readLocalCopy(key, readWhole), bytes, 'downloaded by a first read');
  fs.writeFileSync(file, Buffer.from('the bytes S3 holds, wholX'));
  store.close();
  const reading = readLocalCopy(key, readWhole);
  try {
    while (!store.waiting) await new Promise((resolve) => setImmediate(resolve));
    // The download of the damaged copy's replacement is under way: another process of the node opens the path now.
    assert.ok(fs.existsSync(file), 'the damaged copy is still there while its replacement downloads');
  } finally {
    store.release();
  }
  assert.deepEqual(await reading, bytes);
  assert.deepEqual(fs.readFileSync(file), bytes, 'the copy is whole again');
});

test('a copy removed while it is read (a cache folder emptied by hand) is downloaded again, not a failed step', async () => {
  const key = 'packs/removed/pack-0.bin';
  const file = path.join(tmp, key);
  await putObject(key, bytes);
  await readLocalCopy(key, readWhole);
  let reads = 0;
  const value = await readLocalCopy(key, async (at) => {
    // The first read finds the copy gone between the check and its open.
    if (reads++ === 0) fs.rmSync(at);
    return readWhole(at);
  });
  assert.deepEqual(value, bytes);
  assert.equal(reads, 2);
  assert.deepEqual(fs.readFileSync(file), bytes);
});

test('a copy damaged again after its new download fails the read, naming the object and why', async () => {
  const key = 'features/hopeless/shard-0.bin';
  await putObject(key, bytes);
  await assert.rejects(
    readLocalCopy(key, async () => ({ damaged: 'other bytes where the manifest places an image' })),
    /features\/hopeless\/shard-0\.bin: the copy downloaded again .*other bytes where the manifest places an image/,
  );
});

/** Ages a copy's last use (its digest's times) by `minutes`. */
const lastUsed = (file: string, minutesAgo: number) => {
  const then = new Date(Date.now() - minutesAgo * 60_000);
  fs.utimesSync(`${file}.sha256`, then, then);
};

test('room for a download: copies not used in the last 10 minutes go, the least recently used first; a copy read again counts as used', async () => {
  const keys = ['evict/old.bin', 'evict/older.bin', 'evict/reread.bin', 'evict/recent.bin'];
  for (const key of keys) {
    await putObject(key, bytes);
    await readLocalCopy(key, readWhole);
  }
  const file = (key: string) => path.join(tmp, key);
  lastUsed(file('evict/old.bin'), 60);
  lastUsed(file('evict/older.bin'), 120);
  lastUsed(file('evict/reread.bin'), 180);
  // Read again: used now, whatever its times said.
  assert.deepEqual(await readLocalCopy('evict/reread.bin', readWhole), bytes);
  // More free space asked than the disk has: every copy that may go, goes.
  process.env.SWEEP_CACHE_MIN_FREE_MB = String(2 ** 40);
  try {
    await putObject('evict/new.bin', bytes);
    assert.deepEqual(await readLocalCopy('evict/new.bin', readWhole), bytes, 'the new copy is written once room is made');
  } finally {
    delete process.env.SWEEP_CACHE_MIN_FREE_MB;
  }
  const kept = (key: string) => fs.existsSync(file(key)) && fs.existsSync(`${file(key)}.sha256`);
  assert.deepEqual(keys.concat('evict/new.bin').map((key) => [key, kept(key)]), [
    ['evict/old.bin', false], ['evict/older.bin', false], ['evict/reread.bin', true], ['evict/recent.bin', true], ['evict/new.bin', true],
  ]);
  assert.equal(fs.existsSync(`${file('evict/old.bin')}.sha256`), false, 'no digest left without its copy');
  // An evicted copy is downloaded again when it is needed.
  assert.deepEqual(await readLocalCopy('evict/old.bin', readWhole), bytes);
});

test('room for a download when there is room: nothing goes', async () => {
  await putObject('roomy/a.bin', bytes);
  await readLocalCopy('roomy/a.bin', readWhole);
  lastUsed(path.join(tmp, 'roomy/a.bin'), 600);
  process.env.SWEEP_CACHE_MIN_FREE_MB = '0';
  try {
    await putObject('roomy/b.bin', bytes);
    await readLocalCopy('roomy/b.bin', readWhole);
  } finally {
    delete process.env.SWEEP_CACHE_MIN_FREE_MB;
  }
  assert.ok(fs.existsSync(path.join(tmp, 'roomy/a.bin')), 'an old copy stays while the disk has room');
});

const notRoot = process.getuid?.() !== 0 && 'needs root, to mount a small tmpfs as the cache disk';

test('a full cache disk (a 2 MiB tmpfs): the oldest copies make room for a download; with none old enough, the download fails and says why', { skip: notRoot }, async () => {
  const disk = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk]);
  const cacheDir = path.join(disk, 'cache');
  process.env.SWEEP_CACHE_DIR = cacheDir;
  process.env.SWEEP_CACHE_MIN_FREE_MB = '0';
  try {
    const big = Buffer.alloc(600 * 1024, 7);
    for (const key of ['full/a.bin', 'full/b.bin']) {
      await putObject(key, big);
      await readLocalCopy(key, readWhole);
    }
    // Another program takes the rest of the disk.
    fs.writeFileSync(path.join(disk, 'ballast'), Buffer.alloc(Math.floor(fs.statfsSync(disk).bavail * fs.statfsSync(disk).bsize) - 64 * 1024));
    lastUsed(path.join(cacheDir, 'full/a.bin'), 60);
    await putObject('full/c.bin', big);
    assert.deepEqual(await readLocalCopy('full/c.bin', readWhole), big, 'written once the oldest copy made room');
    assert.deepEqual(['a', 'b', 'c'].map((n) => fs.existsSync(path.join(cacheDir, `full/${n}.bin`))), [false, true, true]);
    // b and c were used just now: nothing may go.
    await putObject('full/d.bin', big);
    await assert.rejects(readLocalCopy('full/d.bin', readWhole),
      /^Error: no space left on the disk of SWEEP_CACHE_DIR \(.*\/cache\) for a copy of full\/d\.bin \(0\.6 MB\), after removing the least recently used copies \(none used in the last 10 minutes goes\): free space on that disk, or point SWEEP_CACHE_DIR at a larger one/);
    assert.deepEqual(fs.readdirSync(path.join(cacheDir, 'full')).filter((n) => n.includes('partial') || n.startsWith('d.')), [], 'no partial file or lone digest left behind');
  } finally {
    process.env.SWEEP_CACHE_DIR = tmp;
    delete process.env.SWEEP_CACHE_MIN_FREE_MB;
    execFileSync('umount', [disk]);
    fs.rmSync(disk, { recursive: true, force: true });
  }
});
