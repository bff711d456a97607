// activities/ingest.ts surveyDataSource (what `sweep validate` shows) on a local folder: every file or
// folder passed over is counted with its reason, a symbolic link to a class folder included. And
// what it shares with ingestion, opening a source: a damaged archive fails for good, naming its
// damage; an error of the operating system while reading it does not (a retry may not meet it).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fsCallbacks from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, mock, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import sharp from 'sharp';
import * as tar from 'tar';
import { surveyDataSource } from '../../activities/ingest';
import { assertFailsForGood } from '../failures';
import { toFailure } from '../../activities/failures';
import { TransientError } from '../../lib/errors';
import { MemoryObjectStore } from '../../platform/memory-store';
import { setObjectStore } from '../../platform/storage';
import { tarArchive, zipArchive } from '../archives';

test('a symbolic link to a folder is skipped and said so, not silently missing', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'survey-links-'));
  const image = (seed: number) => sharp({ create: { width: 8, height: 8, channels: 3, background: { r: seed, g: 9, b: 90 } } }).png().toBuffer();
  for (const [folder, seed] of [['birds', 1], ['cats', 2], ['real-dogs', 3]] as const) {
    await fs.mkdir(path.join(root, 'data', folder), { recursive: true });
    await fs.writeFile(path.join(root, 'data', folder, `${folder}.png`), await image(seed));
  }
  await fs.symlink(path.join(root, 'data', 'real-dogs'), path.join(root, 'data', 'dogs'));
  await fs.symlink(path.join(root, 'data', 'birds', 'birds.png'), path.join(root, 'data', 'cats', 'linked-bird.png'));
  // Links to nothing, and to themselves: skipped too (they were left out without a word).
  await fs.symlink(path.join(root, 'gone.png'), path.join(root, 'data', 'cats', 'gone.png'));
  await fs.symlink(path.join(root, 'data', 'birds', 'loop.png'), path.join(root, 'data', 'birds', 'loop.png'));
  const survey = await surveyDataSource({ source: path.join(root, 'data'), classes: ['birds', 'cats'] });
  assert.ok(!('remote' in survey));
  // A linked file is followed (here the same bytes in two classes: dropped as conflicting).
  assert.deepEqual(survey.skippedByReason, { 'linked folder': 1, 'broken link': 2, 'conflicting labels': 2 });
  assert.equal(survey.skipped, 5);
});

/** A folder of two classes, birds and cats, one small PNG each. */
async function twoClassFolder(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'survey-folder-'));
  for (const folder of ['birds', 'cats']) {
    await fs.mkdir(path.join(root, folder));
    await fs.writeFile(path.join(root, folder, `${folder}.png`), await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: folder.length, g: 9, b: 90 } } }).png().toBuffer());
  }
  return root;
}

/** Makes fs.promises' `call` fail with `error` for the path ending in `name` (cats/cats.png), for the rest of the test. */
function failOnCats(t: TestContext, call: 'stat' | 'readFile' | 'open' | 'readdir', error: NodeJS.ErrnoException, name = 'cats.png'): void {
  const original = fs[call] as (...args: unknown[]) => Promise<unknown>;
  const failing = mock.method(fs, call, function failOnCat(this: unknown, ...args: unknown[]) {
    if (String(args[0]).endsWith(name)) return Promise.reject(error);
    return Reflect.apply(original, this, args);
  } as never);
  t.after(() => failing.mock.restore());
}

test('a file of a folder source that cannot be looked at fails the survey, to be retried, instead of leaving the data set without a word', async (t) => {
  const root = await twoClassFolder();
  // As a network drive can answer (and a worker out of file handles: EMFILE).
  failOnCats(t, 'stat', systemError('EIO', 'stat'));
  await assert.rejects(surveyDataSource({ source: root }), (error: unknown) => {
    assert.ok(!(error instanceof ApplicationFailure), `a system error became ${error}`);
    assert.equal((error as NodeJS.ErrnoException).code, 'EIO');
    return true;
  });
});

test('a tar.gz archive is surveyed as its folder is (validate runs outside an activity: the extraction\'s heartbeat failed it)', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'survey-tar-'));
  const image = (seed: number) => sharp({ create: { width: 8, height: 8, channels: 3, background: { r: seed, g: 9, b: 90 } } }).png().toBuffer();
  for (const [folder, seed] of [['birds', 1], ['cats', 2]] as const) {
    await fs.mkdir(path.join(root, 'data', folder), { recursive: true });
    await fs.writeFile(path.join(root, 'data', folder, `${folder}.png`), await image(seed));
  }
  const archive = path.join(root, 'data.tar.gz');
  await tar.c({ gzip: true, file: archive, cwd: root }, ['data']);
  const fromFolder = await surveyDataSource({ source: path.join(root, 'data'), classes: ['birds', 'cats'] });
  assert.deepEqual(await surveyDataSource({ source: archive, classes: ['birds', 'cats'] }), fromFolder);
  assert.ok(!('remote' in fromFolder) && fromFolder.counts.birds === 1 && fromFolder.counts.cats === 1);
});

async function zipOfTwoClasses(damaged: boolean): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'survey-zip-'));
  const image = (seed: number) => sharp({ create: { width: 8, height: 8, channels: 3, background: { r: seed, g: 9, b: 90 } } }).png().toBuffer();
  const file = path.join(root, 'data.zip');
  await fs.writeFile(file, zipArchive([
    { name: 'data/birds/1.png', data: await image(1) },
    { name: 'data/cats/2.png', data: await image(2), damaged },
  ]));
  return file;
}

/** A system error as Node's fs gives it (code, errno, syscall, and the path where it names one). */
function systemError(code: 'EMFILE' | 'EIO' | 'EACCES', syscall: string, at?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, errno: { EIO: -5, EACCES: -13, EMFILE: -24 }[code], syscall, ...at ? { path: at } : {} });
}

test('a file of a folder source the worker may not read fails for good, naming it (it was retried for ever; as root, permissions are simulated)', async (t) => {
  const root = await twoClassFolder();
  failOnCats(t, 'readFile', systemError('EACCES', 'open'));
  await assertSourceError(root, /^data\.source: \S+\/cats\/cats\.png cannot be read on worker \S+ \(EACCES: simulated, open\); give the worker read permission/);
});

test('a local archive the worker may not read fails for good, naming it (it was retried for ever; as root, permissions are simulated)', async (t) => {
  const root = await twoClassFolder();
  const archive = path.join(root, 'data.tar.gz');
  await tar.c({ gzip: true, file: archive, cwd: root }, ['birds', 'cats']);
  failOnCats(t, 'open', systemError('EACCES', 'open'), 'data.tar.gz');
  await assertSourceError(archive, /^data\.source: \S+\/data\.tar\.gz cannot be read on worker \S+ \(EACCES: simulated, open\); give the worker read permission$/);
});

test('a class folder the worker may not read fails for good, naming the folder (it was retried for ever); one that cannot be read for now is retried', async (t) => {
  const root = await twoClassFolder();
  // Recursive readdir fails as a whole, naming the folder it could not read.
  failOnCats(t, 'readdir', systemError('EACCES', 'scandir', path.join(root, 'cats')), root);
  await assertSourceError(root, /^data\.source: \S+\/cats cannot be read on worker \S+ \(EACCES: simulated, scandir\); give the worker read permission, or move it out of the data set$/);
  failOnCats(t, 'readdir', systemError('EIO', 'scandir', path.join(root, 'cats')), root);
  await assert.rejects(surveyDataSource({ source: root }), (error: unknown) => !(error instanceof ApplicationFailure) && (error as NodeJS.ErrnoException).code === 'EIO');
  // Gone while the folder was walked (a sync meanwhile): the walk is retried, not blamed on permissions.
  failOnCats(t, 'readdir', Object.assign(new Error('ENOENT: simulated, scandir'), { code: 'ENOENT', errno: -2, syscall: 'scandir', path: path.join(root, 'cats') }), root);
  await assert.rejects(surveyDataSource({ source: root }), (error: unknown) => error instanceof TransientError && /\/cats changed while it was listed \(ENOENT: simulated, scandir\); a retry lists it again$/.test(error.message));
});

test('an object of an s3:// prefix deleted after the listing is retried, not a lost artifact of the sweep (that failed it for good, saying to start again)', async (t) => {
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 1, g: 9, b: 90 } } }).png().toBuffer();
  const store = new MemoryObjectStore();
  for (const key of ['flowers/birds/1.png', 'flowers/cats/2.png']) await store.put('data', key, png);
  // Listed, then gone when read: a sync with --delete running meanwhile.
  const read = mock.method(store, 'get', async (bucket: string, key: string) => (key.endsWith('2.png') ? undefined : MemoryObjectStore.prototype.get.call(store, bucket, key)));
  const previous = setObjectStore(store);
  t.after(() => { read.mock.restore(); setObjectStore(previous); });
  await assert.rejects(surveyDataSource({ source: 's3://data/flowers' }), (error: unknown) => {
    assert.ok(error instanceof TransientError, `got ${error}`);
    assert.match(error.message, /^data\.source: s3:\/\/data\/flowers\/cats\/2\.png was deleted after the prefix was listed \(it changed meanwhile\); a retry lists it again$/);
    assert.equal(toFailure(error), error, 'retried: not made a non-retryable MissingArtifact');
    return true;
  });
});

test('a tar.gz cut off inside an entry fails for good and leaves none of its files open (the entry being written stayed open for the life of the worker)', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'survey-cut-'));
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 1, g: 9, b: 90 } } }).png().toBuffer();
  // Incompressible, so the cut falls inside its entry.
  const archive = tarArchive([{ name: 'data/birds/1.png', data: png }, { name: 'data/cats/2.png', data: randomBytes(4 << 20) }]);
  const file = path.join(root, 'cut.tar.gz');
  await fs.writeFile(file, archive.subarray(0, archive.length >> 1));
  await assertSourceError(file, /is not a readable tar archive/);
  const openFiles = await Promise.all((await fs.readdir('/proc/self/fd')).map((fd) => fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  assert.deepEqual(openFiles.filter((target) => target.includes(`${path.sep}survey-`)), []);
});

/** Delays fs.promises.mkdir of each folder ending in a key of `delays` by its milliseconds, for the rest of the test. */
function delayMkdir(t: TestContext, delays: Record<string, number>): void {
  const original = fs.mkdir as (...args: unknown[]) => Promise<unknown>;
  const delayed = mock.method(fs, 'mkdir', async function delayFolder(this: unknown, ...args: unknown[]) {
    const ms = Object.entries(delays).find(([end]) => String(args[0]).endsWith(end))?.[1];
    if (ms) await new Promise((resolve) => setTimeout(resolve, ms));
    return Reflect.apply(original, this, args);
  } as never);
  t.after(() => delayed.mock.restore());
}

/** A tar.gz whose first two entries make a file and a folder of one name, then a big entry the parser must wait to hand over while they clash. */
async function clashingTar(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'survey-clash-'));
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 1, g: 9, b: 90 } } }).png().toBuffer();
  const file = path.join(root, 'clash.tar.gz');
  await fs.writeFile(file, tarArchive([{ name: 'data/birds', data: png }, { name: 'data/birds/1.png', data: png }, { name: 'data/cats/2.png', data: randomBytes(4 << 20) }]));
  return file;
}

async function assertClashFailsForGood(code: 'EISDIR' | 'EEXIST'): Promise<void> {
  await assertSourceError(await clashingTar(), new RegExp(`clash\\.tar\\.gz cannot be extracted \\(${code}[^)]*\\); re-create it from the data-set folder`));
  const openFiles = await Promise.all((await fs.readdir('/proc/self/fd')).map((fd) => fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  assert.deepEqual(openFiles.filter((target) => target.includes(`${path.sep}survey-`)), []);
}

// Which of the two clashing entries is written first is a race; ingest-survey's first test met each way
// (one run in six, the error escaped bare: thrown by the waiting entry, or EEXIST taken for a passing error).
test('a tar whose folder is made before the file of its name fails for good, naming the clash, while another entry waits for its folder', async (t) => {
  // The file's open fails (EISDIR) while the big entry waits for its folder, made last.
  delayMkdir(t, { [`${path.sep}data`]: 100, [`${path.sep}cats`]: 1000 });
  await assertClashFailsForGood('EISDIR');
});

test('a tar whose file is written before the folder of its name fails for good, naming the clash, while its entry waits for that folder', async (t) => {
  // The parser waits behind data/birds/1.png, whose folder is made last and fails (EEXIST); data/cats is never reached.
  delayMkdir(t, { [`${path.sep}birds`]: 100 });
  await assertClashFailsForGood('EEXIST');
});

test('a zip entry whose bytes do not decode fails for good, naming the entry (it was retried for ever)', async () => {
  const file = await zipOfTwoClasses(true);
  await assertSourceError(file, /entry "data\/cats\/2\.png" is damaged \(invalid block type\); re-create the archive/);
  const intact = await surveyDataSource({ source: await zipOfTwoClasses(false) });
  assert.ok(!('remote' in intact));
  assert.deepEqual(intact.counts, { birds: 1, cats: 1 });
});

// yauzl reads through the callback API of node:fs; these fail one kind of call there, as the OS would.
const { open, read } = fsCallbacks;
type Callback = (error: Error) => void;
for (const [when, fail] of [
  ['opening the zip', (file: string) => mock.method(fsCallbacks, 'open', function failingOpen(this: unknown, ...args: unknown[]) {
    if (args[0] === file) return (args.at(-1) as Callback)(systemError('EMFILE', 'open'));
    return Reflect.apply(open, this, args);
  })],
  // A 30-byte read is an entry's local header (yauzl reads the directory in larger pieces).
  ['reading an entry', () => mock.method(fsCallbacks, 'read', function failingRead(this: unknown, ...args: unknown[]) {
    if (args[3] === 30) return (args.at(-1) as Callback)(systemError('EIO', 'read'));
    return Reflect.apply(read, this, args);
  })],
] as const) {
  test(`an error of the operating system ${when} is passed on as it is, to be retried, not blamed on the archive`, async (t) => {
    const file = await zipOfTwoClasses(false);
    const failing = fail(file);
    t.after(() => failing.mock.restore());
    await assert.rejects(surveyDataSource({ source: file }), (error: unknown) => {
      assert.ok(!(error instanceof ApplicationFailure), `a system error became ${error}`);
      assert.match((error as NodeJS.ErrnoException).code ?? '', /^(EMFILE|EIO)$/);
      return true;
    });
    assert.ok(failing.mock.callCount() > 0);
  });
}

/** Asserts that surveying `source` fails for good as a SourceError whose message matches `message`. */
function assertSourceError(source: string, message: RegExp): Promise<void> {
  return assertFailsForGood(surveyDataSource({ source }), 'SourceError', message);
}

test('sources no retry can read fail for good, saying what is wrong (each was retried for ever)', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'survey-bad-'));
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 1, g: 9, b: 90 } } }).png().toBuffer();
  // A file:// URL with a host: "data" is not a folder here.
  await assertSourceError('file://data/flowers', /^data\.source file:\/\/data\/flowers is not a file URL of this machine \(.*\); write an absolute path after three slashes/);
  // An s3:// URL without a bucket.
  await assertSourceError('s3://', /^data\.source s3:\/\/: not an s3:\/\/ URL: s3:\/\/; write s3:\/\/<bucket>\/<prefix or archive>/);
  // A zip whose central directory breaks off after its first entry.
  const zip = zipArchive([{ name: 'data/birds/1.png', data: png }, { name: 'data/cats/2.png', data: png }]);
  const second = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 4);
  zip.writeUInt32LE(0xdeadbeef, second);
  await fs.writeFile(path.join(root, 'broken-directory.zip'), zip);
  await assertSourceError(path.join(root, 'broken-directory.zip'), /is not a readable zip archive \(invalid central directory file header signature: 0xdeadbeef\); re-create it/);
  // A tar whose entries make a file and a folder of one name.
  await fs.writeFile(path.join(root, 'clash.tar.gz'), tarArchive([{ name: 'data/birds', data: png }, { name: 'data/birds/1.png', data: png }]));
  await assertSourceError(path.join(root, 'clash.tar.gz'), /clash\.tar\.gz cannot be extracted \((ENOTDIR|EEXIST|EISDIR)[^)]*\); re-create it from the data-set folder/);
});
