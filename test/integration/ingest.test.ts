// ingestDataset against the local stack's MinIO (bash infra/stack-up.sh), through MockActivityEnvironment
// so the activity has its Context (heartbeats, cancellation) without a Temporal server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import sharp from 'sharp';
import * as tar from 'tar';
import { IngestInput, IngestSummary, ingestDataset } from '../../activities/ingest';
import { assertFailsForGood } from '../failures';
import { artifactBucket, deleteObject, getJson, listKeys, objectExists, objectStore, putObject, setObjectStore } from '../../platform/storage';
import { artifactKeys } from '../../lib/artifact-keys';
import { imageReader } from '../../platform/image-store';
import { DatasetManifest } from '../../lib/manifest';
import { randomStream } from '../../lib/random';
import { tarArchive, zipArchive } from '../archives';

const CLASSES = ['tulip', 'daisy', 'rose'];
const run = randomUUID().slice(0, 8);
const testPrefix = `test/ingest-${run}/`;
let tmp: string;
let messy: string;

// Failures are what several tests expect; the SDK would log each as a warning.
const quiet = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

async function ingest(input: IngestInput, beats: unknown[] = []): Promise<IngestSummary> {
  const env = quiet();
  env.on('heartbeat', (details) => beats.push(details));
  return env.run(ingestDataset, input);
}

/** Asserts the ingest fails non-retryably with this failure type and a message matching `message`. */
function assertRejects(input: IngestInput, type: string, message: RegExp): Promise<void> {
  return assertFailsForGood(ingest(input), type, message);
}

function noise(width: number, height: number, seed: string, channels: 3 | 4 = 3) {
  const random = randomStream(seed);
  const data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
  return sharp(data, { raw: { width, height, channels } });
}

async function write(file: string, bytes: Buffer | string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, bytes);
}

/** The messy data set: every kind of file a real download contains. Returns the folder holding flowers/. */
async function buildMessyFolder(root: string): Promise<void> {
  const f = (p: string) => path.join(root, 'flowers', p);
  const a = await noise(320, 240, 'a').jpeg().toBuffer();
  const truncated = await noise(300, 200, 'truncated').jpeg().toBuffer();
  const same = await noise(64, 64, 'same').jpeg().toBuffer();
  await write(f('daisy/a.jpg'), a);
  await write(f('daisy/z-copy.jpg'), a);
  await write(f('daisy/b.png'), await noise(200, 300, 'b').png().toBuffer());
  await write(f('daisy/c-exif.jpg'), await noise(160, 120, 'c').withMetadata({ orientation: 6 }).jpeg().toBuffer());
  await write(f('daisy/d-grey.png'), await noise(90, 90, 'd').toColourspace('b-w').png().toBuffer());
  await write(f('daisy/.DS_Store'), Buffer.from([0, 0, 0, 1, 66, 117, 100, 49]));
  // Unique to this run: on a bucket with many packs, an earlier run's record of the same folder would
  // answer for it (activities/ingest.ts, recordedIngest), and the first test checks a full ingest.
  await write(f('daisy/notes.txt'), `picked in May (test run ${run})\n`);
  await write(f('daisy/truncated.jpg'), truncated.subarray(0, truncated.length / 2));
  await write(f('daisy/empty.jpg'), Buffer.alloc(0));
  await write(f('rose/e.jpg'), await noise(400, 300, 'e').jpeg().toBuffer());
  await write(f('rose/f-alpha.png'), await noise(100, 80, 'f', 4).png().toBuffer());
  await write(f('rose/g-cmyk.jpg'), await noise(120, 100, 'g').toColourspace('cmyk').jpeg().toBuffer());
  await write(f('rose/Thumbs.db'), Buffer.alloc(64, 7));
  await write(f('rose/same.jpg'), same);
  await write(f('tulip/h.jpg'), await noise(250, 250, 'h').jpeg().toBuffer());
  await write(f('tulip/i.webp'), await noise(150, 200, 'i').webp().toBuffer());
  await write(f('tulip/k.gif'), await noise(50, 40, 'k').gif().toBuffer());
  await write(f('tulip/same.jpg'), same);
  await write(f('dandelion/j.jpg'), await noise(100, 100, 'j').jpeg().toBuffer());
  await write(f('dandelion/broken.jpg'), truncated.subarray(0, 100));
  await write(f('README.txt'), 'Flowers, 4 classes\n');
  await write(path.join(root, '__MACOSX/flowers/daisy/._a.jpg'), Buffer.alloc(82, 1));
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/')).sort();
}


before(async () => {
  try {
    await objectExists(`${testPrefix}probe`);
  } catch (error) {
    throw new Error(`MinIO is not reachable (${(error as Error).message}); start the local stack with: bash infra/stack-up.sh`);
  }
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ingest-test-'));
  messy = path.join(tmp, 'messy');
  await buildMessyFolder(messy);
});

after(async () => {
  for await (const { key } of listKeys(testPrefix)) await deleteObject(key);
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe('ingestDataset', () => {
  let folderSummary: IngestSummary;

  test('a messy folder: keeps every decodable image once, skips the rest with a reason', async () => {
    const beats: unknown[] = [];
    folderSummary = await ingest({ source: messy, classes: CLASSES, maxBadFraction: 0.2 }, beats);
    assert.deepEqual(folderSummary.classes, CLASSES);
    assert.deepEqual(folderSummary.counts, { tulip: 3, daisy: 4, rose: 3 });
    assert.deepEqual(folderSummary.skippedByReason, {
      'hidden file': 3, 'not an image': 1, 'unreadable image': 2, duplicate: 1, 'conflicting labels': 2, 'not in a class folder': 1,
    });
    assert.equal(folderSummary.skipped, 10);
    assert.equal(folderSummary.manifestKey, artifactKeys.dataset(folderSummary.datasetId));

    const manifest = await getJson<DatasetManifest>(folderSummary.manifestKey);
    assert.equal(manifest.datasetId, folderSummary.datasetId);
    assert.deepEqual(manifest.classes, CLASSES);
    assert.deepEqual(manifest.images.map((i) => `${i.label} ${i.source}`), [
      'tulip flowers/tulip/h.jpg', 'tulip flowers/tulip/i.webp', 'tulip flowers/tulip/k.gif',
      'daisy flowers/daisy/a.jpg', 'daisy flowers/daisy/b.png', 'daisy flowers/daisy/c-exif.jpg', 'daisy flowers/daisy/d-grey.png',
      'rose flowers/rose/e.jpg', 'rose flowers/rose/f-alpha.png', 'rose flowers/rose/g-cmyk.jpg',
    ]);
    assert.deepEqual(manifest.skipped.map((s) => `${s.source} | ${s.reason.split(': ')[0]}`), [
      '__MACOSX/flowers/daisy/._a.jpg | hidden file',
      'flowers/README.txt | not in a class folder',
      'flowers/daisy/.DS_Store | hidden file',
      'flowers/daisy/empty.jpg | unreadable image',
      'flowers/daisy/notes.txt | not an image',
      'flowers/daisy/truncated.jpg | unreadable image',
      'flowers/daisy/z-copy.jpg | duplicate',
      'flowers/rose/Thumbs.db | hidden file',
      'flowers/rose/same.jpg | conflicting labels',
      'flowers/tulip/same.jpg | conflicting labels',
    ]);
    const reasons = Object.fromEntries(manifest.skipped.map((s) => [s.source, s.reason]));
    assert.match(reasons['flowers/daisy/truncated.jpg'], /premature end/i);
    assert.match(reasons['flowers/daisy/empty.jpg'], /empty/i);
    assert.match(reasons['flowers/daisy/z-copy.jpg'], /same bytes as flowers\/daisy\/a\.jpg/);
    assert.match(reasons['flowers/rose/same.jpg'], /flowers\/tulip\/same\.jpg/);

    const readImage = await imageReader(manifest.datasetId);
    for (const image of manifest.images) {
      assert.equal(image.sha256.length, 64);
      assert.ok(image.at, `${image.source} has no place in a pack`);
      assert.equal(createHash('sha256').update(await readImage(image.sha256)).digest('hex'), image.sha256, `${image.source} read back from its pack`);
    }
    // 16 files under the used class folders are read; the last heartbeat says all of them were.
    assert.deepEqual(beats.at(-1), { processed: 16, total: 16 });
  });

  test('ingesting the same folder again is a no-op with the same summary: it writes nothing', async () => {
    const s3 = objectStore();
    const writes: string[] = [];
    setObjectStore({
      get: (...args) => s3.get(...args), exists: (...args) => s3.exists(...args), list: (...args) => s3.list(...args), delete: (...args) => s3.delete(...args),
      put: (bucket, key, ...rest) => { writes.push(key); return s3.put(bucket, key, ...rest); },
    });
    try {
      assert.deepEqual(await ingest({ source: messy, classes: CLASSES, maxBadFraction: 0.2 }), folderSummary);
    } finally {
      setObjectStore(s3);
    }
    assert.deepEqual(writes, [], 'the images are in packs already, and the manifest is stored');
  });

  test('zip, tar.gz, file://, relative path, https, s3 archive and s3 prefix give the same data set', async () => {
    const zipFile = path.join(tmp, 'messy.zip');
    const tgzFile = path.join(tmp, 'messy.tar.gz');
    const files = await filesUnder(messy);
    await fs.writeFile(zipFile, zipArchive(await Promise.all(files.map(async (name) => ({ name, data: await fs.readFile(path.join(messy, name)) })))));
    await tar.c({ gzip: true, file: tgzFile, cwd: messy }, ['flowers', '__MACOSX']);

    await putObject(`${testPrefix}messy.zip`, await fs.readFile(zipFile));
    for (const name of files) await putObject(`${testPrefix}prefix/${name}`, await fs.readFile(path.join(messy, name)));
    const tgz = await fs.readFile(tgzFile);
    const server = http.createServer((req, res) => {
      if (req.url === '/download?id=flowers') res.end(tgz);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const sources = {
        zip: zipFile,
        tgz: tgzFile,
        fileUrl: pathToFileURL(zipFile).href,
        relative: path.relative(process.cwd(), messy),
        http: `${url}/download?id=flowers`,
        s3Archive: `s3://${artifactBucket()}/${testPrefix}messy.zip`,
        s3Prefix: `s3://${artifactBucket()}/${testPrefix}prefix`,
      };
      for (const [form, source] of Object.entries(sources)) {
        const summary = await ingest({ source, classes: CLASSES, maxBadFraction: 0.2 });
        assert.deepEqual({ ...summary, form }, { ...folderSummary, form });
      }
      await assertRejects({ source: `${url}/missing.zip`, classes: CLASSES, maxBadFraction: 0.2 }, 'SourceError', /HTTP 404/);
    } finally {
      server.close();
    }
  });

  test('without data.classes every class folder is used, sorted', async () => {
    const summary = await ingest({ source: messy, maxBadFraction: 0.5 });
    assert.deepEqual(summary.classes, ['daisy', 'dandelion', 'rose', 'tulip']);
    assert.deepEqual(summary.counts, { daisy: 4, dandelion: 1, rose: 3, tulip: 3 });
    assert.equal(summary.skippedByReason['unreadable image'], 3);
    assert.notEqual(summary.datasetId, folderSummary.datasetId);
  });

  test('the class order is part of the data set id', async () => {
    const summary = await ingest({ source: messy, classes: ['daisy', 'rose', 'tulip'], maxBadFraction: 0.2 });
    assert.deepEqual(summary.counts, folderSummary.counts);
    assert.notEqual(summary.datasetId, folderSummary.datasetId);
  });

  test('too many unreadable images fails with the counts and the fix', async () => {
    await assertRejects({ source: messy, classes: CLASSES, maxBadFraction: 0.1 }, 'DataError',
      /2 of 15 image files \(13\.3%\) cannot be decoded, more than data\.maxBadFraction = 0\.1 .*flowers\/daisy\/empty\.jpg.*raise data\.maxBadFraction/);
  });

  test('a listed class that is missing, or has no usable images, fails naming it', async () => {
    await assertRejects({ source: messy, classes: ['daisy', 'lily'], maxBadFraction: 0.2 }, 'DataError',
      /"lily".*no such class folder.*it has: daisy, dandelion, rose, tulip/);
    const sparse = path.join(tmp, 'sparse');
    await write(path.join(sparse, 'cat/1.png'), await noise(20, 20, 'cat').png().toBuffer());
    await write(path.join(sparse, 'dog/notes.txt'), 'todo: photos');
    await assertRejects({ source: sparse, maxBadFraction: 0 }, 'DataError', /no usable images in class "dog" \(1 file, skipped: 1 not an image\)/);
    await assertRejects({ source: path.join(tmp, 'nowhere'), maxBadFraction: 0 }, 'SourceError', /does not exist.*working directory/);
  });

  const jpeg = () => noise(16, 16, 'evil').jpeg().toBuffer();
  const good = async () => [
    { name: 'flowers/daisy/1.jpg', data: await jpeg() }, { name: 'flowers/rose/2.jpg', data: await noise(16, 16, 'rose').jpeg().toBuffer() },
  ];

  for (const [what, entry, problem] of [
    ['a ../ path', { name: '../evil.jpg' }, /entry "\.\.\/evil\.jpg" climbs out/],
    ['a nested ../ path', { name: 'flowers/daisy/../../../evil.jpg' }, /climbs out/],
    ['a ..\\ path', { name: 'flowers\\..\\..\\evil.jpg' }, /climbs out/],
    ['an absolute path', { name: '/tmp/evil.jpg' }, /entry "\/tmp\/evil\.jpg" is an absolute path/],
    ['a symlink', { name: 'flowers/daisy/link.jpg', mode: 0o120777, data: Buffer.from('/etc/passwd') }, /entry "flowers\/daisy\/link\.jpg" is a symbolic link/],
  ] as const) {
    test(`a zip with ${what} is rejected before anything is extracted`, async () => {
      const file = path.join(tmp, `evil-${randomUUID()}.zip`);
      await fs.writeFile(file, zipArchive([...(await good()), { data: await jpeg(), ...entry }]));
      await assertRejects({ source: file, maxBadFraction: 0 }, 'UnsafeArchive', problem);
    });
  }

  test('an s3:// source in a bucket that does not exist, or an https:// URL that is not one, fails for good (each was retried for ever)', async () => {
    const bucket = `no-such-bucket-${run}`;
    await assertRejects({ source: `s3://${bucket}/flowers`, maxBadFraction: 0 }, 'SourceError', new RegExp(`^data\\.source s3://${bucket}/flowers/: the bucket does not exist at the workers' S3 endpoint`));
    await assertRejects({ source: `s3://${bucket}/flowers.zip`, maxBadFraction: 0 }, 'SourceError', /flowers\.zip: the bucket does not exist/);
    await assertRejects({ source: 'https://exa mple.com/flowers.zip', maxBadFraction: 0 }, 'SourceError', /^data\.source https:\/\/exa mple\.com\/flowers\.zip is not a valid URL/);
  });

  test('a zip with a damaged entry fails naming it, for good: a retry would read the same bytes', async () => {
    const file = path.join(tmp, `damaged-${randomUUID()}.zip`);
    await fs.writeFile(file, zipArchive([...(await good()), { name: 'flowers/rose/3.jpg', data: await jpeg(), damaged: true }]));
    await assertRejects({ source: file, maxBadFraction: 0 }, 'SourceError', /entry "flowers\/rose\/3\.jpg" is damaged \(invalid block type\)/);
  });

  for (const [what, entry, problem] of [
    ['an absolute path', { name: '/tmp/evil.jpg' }, /entry "\/tmp\/evil\.jpg" is an absolute path/],
    ['a ../ path', { name: 'flowers/../../evil.jpg' }, /climbs out/],
    ['a symlink', { name: 'flowers/daisy/link.jpg', type: '2', linkname: '/etc/passwd' }, /entry "flowers\/daisy\/link\.jpg" is a symbolic link \(to "\/etc\/passwd"\)/],
    ['a relative symlink', { name: 'flowers/daisy/link.jpg', type: '2', linkname: '1.jpg' }, /is a symbolic link/],
    ['a hard link', { name: 'flowers/daisy/hard.jpg', type: '1', linkname: '/etc/passwd' }, /entry "flowers\/daisy\/hard\.jpg" is a hard link/],
  ] as const) {
    test(`a tar.gz with ${what} is rejected and writes nothing outside`, async () => {
      const file = path.join(tmp, `evil-${randomUUID()}.tar.gz`);
      await fs.writeFile(file, tarArchive([...(await good()), { data: await jpeg(), ...entry }, { name: 'flowers/rose/3.jpg', data: await jpeg() }]));
      await assertRejects({ source: file, maxBadFraction: 0 }, 'UnsafeArchive', problem);
      await assert.rejects(fs.stat(path.join(os.tmpdir(), 'evil.jpg')));
    });
  }

  test('a tar.gz with one path twice keeps the last copy, as tar does, not a mix of the two (its writes overlapped)', async () => {
    // A first copy large enough to be still writing when the second arrives.
    const first = await noise(1024, 1024, 'first').png().toBuffer();
    const last = await noise(16, 16, 'last').png().toBuffer();
    const file = path.join(tmp, `twice-${randomUUID()}.tar.gz`);
    await fs.writeFile(file, tarArchive([...(await good()), { name: './flowers/rose/3.png', data: first }, { name: 'flowers/rose/3.png', data: last }]));
    const summary = await ingest({ source: file, maxBadFraction: 0 });
    const manifest = await getJson<DatasetManifest>(summary.manifestKey);
    assert.equal(manifest.images.find((i) => i.source === 'flowers/rose/3.png')?.sha256, createHash('sha256').update(last).digest('hex'));
  });

  test('cancellation stops the ingest', async () => {
    const env = quiet();
    const result = env.run(ingestDataset, { source: messy, classes: CLASSES, maxBadFraction: 0.2 });
    env.cancel();
    await assert.rejects(result, (error: Error) => error.name === 'CancelledFailure');
  });
  test('a data set far larger than the memory ingest uses: streamed file by file, peak memory independent of its size', async () => {
    // 400 incompressible 512 x 512 PNGs (0.75 MiB each, 300 MiB), new content each run so every one is uploaded.
    const big = path.join(tmp, 'big');
    let dataBytes = 0;
    for (let i = 0; i < 400; i++) {
      const random = randomStream('big', run, i);
      const raw = Buffer.alloc(512 * 512 * 3);
      for (let j = 0; j < raw.length; j++) raw[j] = random() * 256;
      const png = await sharp(raw, { raw: { width: 512, height: 512, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
      await fs.mkdir(path.join(big, i % 2 ? 'a' : 'b'), { recursive: true });
      await fs.writeFile(path.join(big, i % 2 ? 'a' : 'b', `${i}.png`), png);
      dataBytes += png.length;
    }
    // The child's warm-up: a tenth of it.
    const warm = path.join(tmp, 'big-warm');
    for (let i = 0; i < 40; i++) {
      await fs.mkdir(path.join(warm, i % 2 ? 'a' : 'b'), { recursive: true });
      await fs.copyFile(path.join(big, i % 2 ? 'a' : 'b', `${i}.png`), path.join(warm, i % 2 ? 'a' : 'b', `${i}.png`));
    }
    const { stdout } = await promisify(execFile)('node', ['--import', 'tsx', path.join(__dirname, 'ingest-memory-child.ts'), warm, big], { maxBuffer: 16 << 20 });
    const { summary, warmManifestKey, rssBefore, maxRss } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { summary: IngestSummary; warmManifestKey: string; rssBefore: number; maxRss: number };
    try {
      assert.deepEqual(summary.counts, { a: 200, b: 200 });
      const grew = maxRss - rssBefore;
      console.log(`[figure] ingest of ${(dataBytes / 2 ** 20).toFixed(0)} MiB (400 images): peak RSS grew by ${(grew / 2 ** 20).toFixed(0)} MiB`);
      assert.ok(grew < dataBytes / 3, `ingesting ${dataBytes} bytes grew the peak RSS by ${grew} bytes: the data set is not streamed`);
    } finally {
      const manifests = [await getJson<DatasetManifest>(summary.manifestKey), await getJson<DatasetManifest>(warmManifestKey)];
      for (const pack of new Set(manifests.flatMap((m) => m.images.map((image) => image.at!.pack)))) {
        await deleteObject(artifactKeys.imagePack(pack));
        await deleteObject(artifactKeys.imagePackIndex(pack));
      }
      await deleteObject(summary.manifestKey);
      await deleteObject(warmManifestKey);
    }
  });
});
