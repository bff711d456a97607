// The image store on the in-memory object store: packs written as images come (bounded memory),
// images read back by sha256 from a node-local copy of their pack, data sets from before packs read
// from their own objects, and the listing of stored images an ingest skips.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { artifactKeys } from '../../lib/artifact-keys';
import { DatasetManifest } from '../../lib/manifest';
import { ImagePackIndex } from '../../formats/image-pack';
import { ImagePackWriter, imageReader, storedImages } from '../../platform/image-store';
import { MemoryObjectStore } from '../../platform/memory-store';
import { ObjectStore } from '../../platform/object-store';
import { getJson, listKeys, putJson, putObject, setObjectStore } from '../../platform/storage';

let store: MemoryObjectStore;
let previous: ObjectStore;
let tmp: string;
const savedCacheDir = process.env.SWEEP_CACHE_DIR;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'image-store-'));
  process.env.SWEEP_CACHE_DIR = tmp;
});
after(() => {
  if (savedCacheDir === undefined) delete process.env.SWEEP_CACHE_DIR; else process.env.SWEEP_CACHE_DIR = savedCacheDir;
  fs.rmSync(tmp, { recursive: true, force: true });
});
const fresh = () => {
  store = new MemoryObjectStore();
  previous = setObjectStore(store);
};
const restore = () => setObjectStore(previous);

const image = (i: number) => Buffer.from(`image-${i}-`.repeat(i + 1));
// Reads check an image's bytes against its hash, so the test's images have their real ones.
const sha = (i: number) => createHash('sha256').update(image(i)).digest('hex');

async function packKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of listKeys(artifactKeys.imagePackPrefix)) keys.push(key);
  return keys;
}

describe('the image store', () => {
  test('packs fill to their limit, each image once, and every image is read back by sha256 through its data set', async () => {
    fresh();
    try {
      const writer = new ImagePackWriter({ bytes: 1e9, images: 3 });
      for (const i of [0, 1, 2, 3, 1, 4, 5, 6]) await writer.add(sha(i), image(i));
      const placed = await writer.close();
      assert.deepEqual([...placed.keys()].sort(), [0, 1, 2, 3, 4, 5, 6].map(sha).sort());
      const packs = new Set([...placed.values()].map((at) => at.pack));
      assert.equal(packs.size, 3, 'seven distinct images, three to a pack');
      assert.equal((await packKeys()).length, 6, 'each pack with its index');
      for (const pack of packs) {
        const index = await getJson<ImagePackIndex>(artifactKeys.imagePackIndex(pack));
        assert.deepEqual(index.images.map((entry) => placed.get(entry.sha256)), index.images.map((entry) => ({ pack, offset: entry.offset, length: entry.length })));
      }
      const manifest: DatasetManifest = {
        datasetId: 'ds1', source: 'test', classes: ['a'], skipped: [],
        images: [0, 1, 2, 3, 4, 5, 6].map((i) => ({ sha256: sha(i), label: 'a', source: `${i}.png`, at: placed.get(sha(i)) })),
      };
      await putJson(artifactKeys.dataset('ds1'), manifest);
      const read = await imageReader('ds1');
      for (const i of [6, 0, 3, 1]) assert.deepEqual(await read(sha(i)), image(i));
      assert.ok(fs.existsSync(path.join(tmp, artifactKeys.imagePack(placed.get(sha(0))!.pack))), 'packs are read from a copy under SWEEP_CACHE_DIR');
    } finally {
      restore();
    }
  });

  test('a pack cut short or changed on this node\'s disk is downloaded again; every image read matches its hash', async () => {
    fresh();
    try {
      const writer = new ImagePackWriter({ bytes: 1e9, images: 10 });
      for (const i of [0, 1, 2]) await writer.add(sha(i), image(i));
      const placed = await writer.close();
      await putJson(artifactKeys.dataset('damaged'), { datasetId: 'damaged', source: 'test', classes: ['a'], skipped: [], images: [0, 1, 2].map((i) => ({ sha256: sha(i), label: 'a', source: `${i}.png`, at: placed.get(sha(i)) })) });
      const file = path.join(tmp, artifactKeys.imagePack(placed.get(sha(0))!.pack));
      await (await imageReader('damaged'))(sha(0));
      const whole = fs.readFileSync(file);
      const last = placed.get(sha(2))!;
      for (const damaged of [whole.subarray(0, last.offset + 1), Buffer.from(whole).fill(0, last.offset, last.offset + 2)]) {
        fs.writeFileSync(file, damaged);
        const read = await imageReader('damaged');
        for (const i of [2, 0, 1]) assert.deepEqual(await read(sha(i)), image(i));
        assert.ok(fs.readFileSync(file).equals(whole), 'the copy is whole again');
      }
    } finally {
      restore();
    }
  });

  test('a pack fills while the one before it is stored, never while two are', async () => {
    fresh();
    const put = store.put.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    store.put = async (...args) => { await gate; return put(...args); };
    try {
      const writer = new ImagePackWriter({ bytes: 1e9, images: 2 });
      await writer.add(sha(0), image(0));
      // The first pack is full: it is queued to be stored, and the add returns (no pack was being stored).
      await writer.add(sha(1), image(1));
      await writer.add(sha(2), image(2));
      // The second is full while the first cannot be stored: this add waits for it.
      let added = false;
      const waiting = writer.add(sha(3), image(3)).then(() => { added = true; });
      await sleep(20);
      assert.equal(added, false, 'the add waits while the pack before it is stored');
      release();
      await waiting;
      assert.equal((await writer.close()).size, 4);
    } finally {
      restore();
    }
  });

  test('a data set ingested before packs is read from one object per image', async () => {
    fresh();
    try {
      await putObject(artifactKeys.blob(sha(7)), image(7));
      await putJson(artifactKeys.dataset('old'), { datasetId: 'old', source: 'test', classes: ['a'], skipped: [], images: [{ sha256: sha(7), label: 'a', source: '7.png' }] });
      assert.deepEqual(await (await imageReader('old'))(sha(7)), image(7));
    } finally {
      restore();
    }
  });

  test('stored images are listed from the packs\' indexes, unless those are far larger than the data set at hand', async () => {
    fresh();
    try {
      const writer = new ImagePackWriter({ bytes: 1e9, images: 2 });
      for (let i = 0; i < 5; i++) await writer.add(sha(i), image(i));
      const placed = await writer.close();
      assert.deepEqual(Object.fromEntries((await storedImages(5))!), Object.fromEntries(placed));
      // Every entry of the indexes counts: 1,000 more make them too large for an ingest of 5 files.
      await putJson(artifactKeys.imagePackIndex('other'), { pack: 'other', images: Array.from({ length: 1000 }, (_, i) => ({ sha256: `x${i}`.padEnd(64, '0'), offset: i, length: 1 })) });
      assert.equal(await storedImages(5), undefined);
      assert.ok((await storedImages(500))!.has('x'.padEnd(64, '0')));
    } finally {
      restore();
    }
  });
});
