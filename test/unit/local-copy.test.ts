// A node's local copies (platform/local-copy.ts) when another process of the node, or a person, touches
// them while this one reads: the reader finds a whole copy, S3's bytes, and never a missing file.
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
