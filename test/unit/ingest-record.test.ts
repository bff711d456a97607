// Ingestion on the in-memory object store: the images go into packs, and a bucket whose packs are
// too many to list for one ingest still re-ingests the same files without decoding or storing them
// again: the earlier ingest's record, keyed by what it read, answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import sharp from 'sharp';
import { INGEST_RULES, IngestSummary, ingestDataset } from '../../activities/ingest';
import { contentId } from '../../lib/content-id';
import { createHash } from 'node:crypto';
import { artifactKeys } from '../../lib/artifact-keys';
import { DatasetManifest } from '../../lib/manifest';
import { MemoryObjectStore } from '../../platform/memory-store';
import { ObjectStore } from '../../platform/object-store';
import { deleteObject, getJson, objectExists, putJson, setObjectStore } from '../../platform/storage';

const store = new MemoryObjectStore();
const writes: string[] = [];
let previous: ObjectStore;
let folder: string;

async function png(shade: number): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: { r: shade, g: 255 - shade, b: 7 } } }).png().toBuffer();
}

before(async () => {
  const put = store.put.bind(store);
  store.put = (bucket, key, ...rest) => { writes.push(key); return put(bucket, key, ...rest); };
  previous = setObjectStore(store);
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-record-'));
  for (const [c, name] of ['a', 'b'].entries()) {
    fs.mkdirSync(path.join(folder, name));
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(folder, name, `${i}.png`), await png(40 * c + 10 * i));
  }
});
after(() => {
  setObjectStore(previous);
  fs.rmSync(folder, { recursive: true, force: true });
});

const ingest = (): Promise<IngestSummary> => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(ingestDataset, { source: folder, maxBadFraction: 0 });
const written = async (run: () => Promise<IngestSummary>) => {
  writes.length = 0;
  return { summary: await run(), writes: writes.slice() };
};

describe('ingest records', () => {
  test('a re-ingest in a bucket with too many packs to list finds the record, decodes and stores nothing; changed files ingest again', async () => {
    const first = await written(ingest);
    assert.deepEqual(first.summary.counts, { a: 3, b: 3 });
    const manifest = await getJson<DatasetManifest>(first.summary.manifestKey);
    assert.ok(manifest.images.every((image) => image.at), 'every image placed in a pack');
    assert.equal(first.writes.filter((key) => key.startsWith(artifactKeys.imagePackPrefix)).length, 2, 'one pack and its index');
    assert.equal(first.writes.filter((key) => key.startsWith('ingests/')).length, 1, 'the ingest is recorded');

    // Indexes of 1,000 other images: more than an ingest of 6 files reads.
    await putJson(artifactKeys.imagePackIndex('other'), { pack: 'other', images: Array.from({ length: 1000 }, (_, i) => ({ sha256: `${i}`.padEnd(64, 'f'), offset: i, length: 1 })) });
    const again = await written(ingest);
    assert.deepEqual(again.summary, first.summary);
    assert.deepEqual(again.writes, []);

    // A record written under other ingest rules is not this one: the files are ingested again. (One
    // planted under the rules' key before they were versioned stands for an ingest by older code.)
    const files = fs.readdirSync(folder, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).map((f) => path.relative(folder, path.join(f.parentPath, f.name)));
    const read = new Map(files.map((file) => [file, createHash('sha256').update(fs.readFileSync(path.join(folder, file))).digest('hex')]));
    const unversioned = contentId({ classes: null, maxBadFraction: 0, files: files.sort().map((p) => [p, read.get(p)!]) });
    const versioned = contentId({ rules: INGEST_RULES, classes: null, maxBadFraction: 0, files: files.sort().map((p) => [p, read.get(p)!]) });
    assert.ok(await objectExists(artifactKeys.ingestRecord(versioned)), 'the record is where the rules put it');
    await deleteObject(artifactKeys.ingestRecord(versioned));
    await putJson(artifactKeys.ingestRecord(unversioned), { ...first.summary, counts: { a: 99, b: 99 } });
    const underOldRules = await written(ingest);
    assert.deepEqual(underOldRules.summary, first.summary);
    assert.ok(underOldRules.writes.includes(artifactKeys.ingestRecord(versioned)), 'ingested again and recorded under the rules');

    fs.writeFileSync(path.join(folder, 'b', '2.png'), await png(250));
    const changed = await written(ingest);
    assert.notEqual(changed.summary.datasetId, first.summary.datasetId);
    assert.equal(changed.writes.filter((key) => key.startsWith(artifactKeys.imagePackPrefix)).length, 2, 'the images are packed again: the bucket\'s packs are not listed');
  });
});
