// Ingestion: a data set in any supported form -> its distinct images stored in packs of many
// (platform/image-store.ts) and a dataset manifest placing each one. Streams throughout: archives go
// to a temp file, zips are read entry by entry, tars are extracted to a temp folder, and images are
// in memory only until their pack is stored (a few packs' worth at most).
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { Context, asyncLocalStorage } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Parser, ReadEntry } from 'tar';
import yauzl from 'yauzl';
import { FailureType, TransientError, URL_FIX, isPassingSystemError, isSystemError, isUnfetchableUrl, rootMessage } from '../lib/errors';
import { artifactKeys } from '../lib/artifact-keys';
import { contentId, sha256Of } from '../lib/content-id';
import { DataSummary } from '../lib/data-summary';
import { allSettledOrThrow, forEachBounded } from '../lib/bounded';
import {
  ClassLayout, LayoutError, SKIP, datasetIdOf, dropDuplicates, imagesPerClass, layOutClasses, safeEntryPath, skipReasonOf, skipped,
} from '../lib/dataset-layout';
import { DatasetManifest, SkippedFile } from '../lib/manifest';
import { MAX_FILE_BYTES, SourceFile, examineFiles, tooLarge } from './examine-files';
import { ImagePackWriter, storedImages } from '../platform/image-store';
import { getJsonIfExists, getObject, listKeys, objectExists, parseS3Url, putJson } from '../platform/storage';
import { isMissingBucket, s3 } from '../platform/s3-store';
import { MissingObjectError } from '../platform/object-store';
import { removeScratchFolder, scratchFolder } from '../platform/scratch-folders';

export interface IngestInput {
  /** A folder of class folders, a .zip/.tar.gz/.tgz/.tar (local path, file://, http(s)://, s3://), or an s3:// prefix. */
  source: string;
  /** Class folders to use, in label order; default every class folder, sorted. */
  classes?: string[];
  /** Fail when more than this fraction of the image files cannot be decoded. */
  maxBadFraction: number;
}

/** Small on purpose: it travels through Temporal's history. The per-file detail is in the manifest. */
export interface IngestSummary extends DataSummary {
  datasetId: string;
  manifestKey: string;
  classes: string[];
}

// Decoding is CPU-bound in libvips' own threads; a few more in flight than cores hides S3 latency.
const CONCURRENCY = Math.min(16, os.availableParallelism() + 2);
const ARCHIVE_NAME = /\.(zip|tar|tar\.gz|tgz)$/i;

export async function ingestDataset(input: IngestInput): Promise<IngestSummary> {
  const ctx = Context.current();
  const work = await scratchFolder('ingest');
  let opened: Source | undefined;
  try {
    opened = await openSource(input.source, work);
    const layout = layOut(input, opened.files.map((f) => f.path));
    const files = new Map(opened.files.map((f) => [f.path, f]));

    const skippedFiles: SkippedFile[] = [...opened.skipped ?? [], ...layout.skipped];
    const packs = new ImagePackWriter();
    const paths = opened.files.map((f) => f.path);
    const stored = await storedImages(layout.files.length);
    // Too many packs to list for this ingest: an earlier ingest of exactly these files answers for
    // them, found by hashing them (without it, every ingest would decode and pack them again).
    if (!stored) {
      const recorded = await recordedIngest(input, paths, layout, files);
      if (recorded) return recorded;
    }
    const { candidates, skipped: notImages, read } = await examineFiles(layout, files, {
      concurrency: CONCURRENCY,
      stored,
      keep: (sha256, bytes) => packs.add(sha256, bytes),
      progress: (processed, total) => {
        ctx.cancellationSignal.throwIfAborted();
        ctx.heartbeat({ processed, total });
      },
    });
    skippedFiles.push(...notImages);
    const packed = await packs.close();
    for (const image of candidates) image.at ??= packed.get(image.sha256);

    skippedFiles.sort(bySource);
    const unreadable = skippedFiles.filter((s) => skipReasonOf(s) === SKIP.unreadable);
    const imageFiles = unreadable.length + candidates.length;
    if (imageFiles > 0 && unreadable.length / imageFiles > input.maxBadFraction) {
      const examples = unreadable.slice(0, 5).map((s) => `${s.source} (${s.reason})`);
      throw ApplicationFailure.nonRetryable(
        `${input.source}: ${unreadable.length} of ${imageFiles} image files (${percent(unreadable.length / imageFiles)}) cannot be decoded, ` +
        `more than data.maxBadFraction = ${input.maxBadFraction} (${percent(input.maxBadFraction)}); e.g. ${examples.join(', ')}. ` +
        'Remove or re-export the broken files, or raise data.maxBadFraction to train without them',
        FailureType.data,
      );
    }

    const { images, skipped: dropped } = dropDuplicates(candidates, layout.classes);
    skippedFiles.push(...dropped);
    const counts = imagesPerClass(images, layout.classes);
    const empty = layout.classes.filter((c) => counts[c] === 0);
    if (empty.length) {
      const labelOf = new Map(layout.files.map((f) => [f.path, f.label]));
      const why = (c: string) => {
        const reasons = skippedFiles.filter((s) => labelOf.get(s.source) === c).map(skipReasonOf);
        const tally = [...new Set(reasons)].map((r) => `${reasons.filter((x) => x === r).length} ${r}`);
        return `"${c}" (${reasons.length ? `${reasons.length} file${reasons.length > 1 ? 's' : ''}, skipped: ${tally.join(', ')}` : 'no files'})`;
      };
      throw ApplicationFailure.nonRetryable(
        `${input.source}: no usable images in class ${empty.map(why).join(', ')}. Add images to the class folder or leave the class out of data.classes`,
        FailureType.data,
      );
    }

    skippedFiles.sort(bySource);
    const datasetId = datasetIdOf(layout.classes, images);
    const manifestKey = artifactKeys.dataset(datasetId);
    // Same id, same classes and images: an existing manifest is already this one.
    if (!(await objectExists(manifestKey))) {
      const manifest: DatasetManifest = { datasetId, source: input.source, classes: layout.classes, images, skipped: skippedFiles };
      await putJson(manifestKey, manifest);
    }
    const skippedByReason: Record<string, number> = {};
    for (const s of skippedFiles) skippedByReason[skipReasonOf(s)] = (skippedByReason[skipReasonOf(s)] ?? 0) + 1;
    const summary: IngestSummary = { datasetId, manifestKey, classes: layout.classes, counts, skipped: skippedFiles.length, skippedByReason };
    // Same fingerprint, same files: a stored record is already this one.
    const recordKey = artifactKeys.ingestRecord(sourceFingerprint(input, paths, read));
    if (!(await objectExists(recordKey))) await putJson(recordKey, summary);
    return summary;
  } finally {
    await opened?.close();
    await removeScratchFolder(work);
  }
}

/**
 * The version of the rules that turn files into a data set (class layout and names, decoding, what is
 * skipped and why). Raise it with any change to them that makes other manifests from the same files:
 * records written under the rules before are then not found, and those files are ingested again. 2: class
 * names in composed Unicode (records before it could give a decomposed-name data set its old id).
 */
export const INGEST_RULES = 2;

/** What an ingest's summary depends on: the rules, every path in the source, the bytes of the files it reads, the classes asked for, the bad-file limit. */
function sourceFingerprint(input: IngestInput, paths: readonly string[], read: ReadonlyMap<string, string>): string {
  return contentId({ rules: INGEST_RULES, classes: input.classes ?? null, maxBadFraction: input.maxBadFraction, files: [...paths].sort().map((p) => [p, read.get(p) ?? null]) });
}

/** The summary of an earlier ingest of exactly these files whose manifest is still stored, found by hashing them all. */
async function recordedIngest(input: IngestInput, paths: readonly string[], layout: ClassLayout, files: ReadonlyMap<string, SourceFile>): Promise<IngestSummary | undefined> {
  const ctx = Context.current();
  const read = new Map<string, string>();
  await forEachBounded(layout.files, CONCURRENCY, async ({ path: source }) => {
    ctx.cancellationSignal.throwIfAborted();
    const file = files.get(source)!;
    read.set(source, file.size > MAX_FILE_BYTES ? tooLarge(file.size) : sha256Of(await file.read()));
    ctx.heartbeat({ hashed: read.size, total: layout.files.length });
  });
  const recorded = await getJsonIfExists<IngestSummary>(artifactKeys.ingestRecord(sourceFingerprint(input, paths, read)));
  return recorded && (await objectExists(recorded.manifestKey)) ? recorded : undefined;
}

/**
 * What ingestion would find, without storing anything: every image decoded and checked as ingest
 * does, counted per class, and skipped files counted per reason (`sweep validate`). Local folders and
 * archives and s3:// prefixes are surveyed; a remote archive is only fetched by ingestion itself.
 */
export async function surveyDataSource(input: Pick<IngestInput, 'source' | 'classes'>): Promise<DataSummary | { remote: string }> {
  if (/^https?:\/\//i.test(input.source) || (/^s3:\/\//i.test(input.source) && ARCHIVE_NAME.test(input.source))) {
    return { remote: `${input.source} is a remote archive: ingestion downloads and checks it when the sweep starts` };
  }
  const work = await scratchFolder('survey');
  let opened: Source | undefined;
  try {
    opened = await openSource(input.source, work);
    const layout = layOut({ maxBadFraction: 1, ...input }, opened.files.map((f) => f.path));
    const files = new Map(opened.files.map((f) => [f.path, f]));
    const { candidates, skipped: notImages } = await examineFiles(layout, files, { concurrency: CONCURRENCY });
    const skippedFiles: SkippedFile[] = [...opened.skipped ?? [], ...layout.skipped, ...notImages];
    const { images, skipped: dropped } = dropDuplicates(candidates, layout.classes);
    skippedFiles.push(...dropped);
    const counts = imagesPerClass(images, layout.classes);
    const skippedByReason: Record<string, number> = {};
    for (const s of skippedFiles) skippedByReason[skipReasonOf(s)] = (skippedByReason[skipReasonOf(s)] ?? 0) + 1;
    return { counts, skipped: skippedFiles.length, skippedByReason };
  } finally {
    await opened?.close();
    await removeScratchFolder(work);
  }
}

function layOut(input: IngestInput, paths: string[]): ClassLayout {
  try {
    return layOutClasses(paths, input.classes);
  } catch (error) {
    if (error instanceof LayoutError) throw ApplicationFailure.nonRetryable(`${input.source}: ${error.message}`, FailureType.data);
    throw error;
  }
}

function bySource(a: SkippedFile, b: SkippedFile): number {
  return a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
}

// ---- Sources: every form becomes a list of files with '/'-separated paths relative to the source.

interface Source {
  files: SourceFile[];
  /** What the listing itself passed over (a folder's symbolic links to folders or to nothing). */
  skipped?: SkippedFile[];
  close(): Promise<void>;
}

async function openSource(source: string, work: string): Promise<Source> {
  if (/^s3:\/\//i.test(source)) {
    const { bucket, key } = s3SourceOf(source);
    if (ARCHIVE_NAME.test(key)) return openArchive(await downloadS3(bucket, key, work), source, work);
    return listS3Prefix(bucket, key);
  }
  if (/^https?:\/\//i.test(source)) {
    if (!URL.canParse(source)) throw ApplicationFailure.nonRetryable(`data.source ${source} is not a valid URL; fix it (spaces and other special characters must be percent-encoded)`, FailureType.source);
    return openArchive(await downloadHttp(source, work), source, work);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !source.startsWith('file://')) {
    throw ApplicationFailure.nonRetryable(`data.source ${source}: unsupported URL scheme; use a local path, file://, http(s):// or s3://`, FailureType.source);
  }
  const local = source.startsWith('file://') ? localPathOf(source) : path.resolve(source);
  // Only a path that names nothing "does not exist": no permission is said as such, and a passing error retried.
  const stat = await fs.stat(local).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw lastingAsSourceError(error, local, false);
  });
  if (!stat) {
    throw ApplicationFailure.nonRetryable(
      `data.source ${local} does not exist on worker ${os.hostname()} (relative paths resolve against the worker's working directory, ${process.cwd()}); ` +
      'give a path the worker can read, or upload the data set and use an s3:// or https:// source',
      FailureType.source,
    );
  }
  return stat.isDirectory() ? listFolder(local) : openArchive(local, source, work);
}

function s3SourceOf(source: string): { bucket: string; key: string } {
  try {
    return parseS3Url(source);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`data.source ${source}: ${(error as Error).message}; write s3://<bucket>/<prefix or archive>`, FailureType.source);
  }
}

function localPathOf(fileUrl: string): string {
  try {
    return fileURLToPath(fileUrl);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(
      `data.source ${fileUrl} is not a file URL of this machine (${(error as Error).message}); write an absolute path after three slashes (file:///data/flowers), or give the path itself`,
      FailureType.source,
    );
  }
}

async function listFolder(root: string): Promise<Source> {
  const files: SourceFile[] = [];
  const skippedFiles: SkippedFile[] = [];
  // Symlinked files are followed (the folder is the user's own); recursive readdir does not enter
  // symlinked folders, so no cycles: each is skipped, and said so, rather than silently missing.
  // A folder the worker may not read (its own or a class folder's) is the source's to fix, as a file is;
  // one gone while it was walked (a sync meanwhile) is not: a retry walks the folder again.
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new TransientError(`data.source: ${error.path ?? root} changed while it was listed (${error.message}); a retry lists it again`, { cause: error });
    throw lastingAsSourceError(error, error.path ?? root, error.path !== undefined && error.path !== root);
  });
  for (const entry of entries) {
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const relative = path.relative(root, full).split(path.sep).join('/');
    // A link to nothing is skipped, and said so. Any other error is thrown, not taken for "no file": a
    // file that could not be looked at (EIO on a network drive, too many open files) would otherwise leave
    // the data set without a word, and a retry would make another data set of the same folder.
    const stat = await fs.stat(full).catch((error: NodeJS.ErrnoException) => {
      if (entry.isSymbolicLink() && (error.code === 'ENOENT' || error.code === 'ELOOP')) return undefined;
      throw lastingAsSourceError(error, full);
    });
    if (!stat) {
      skippedFiles.push(skipped(relative, SKIP.brokenLink, 'a symbolic link to nothing (or to itself)'));
      continue;
    }
    if (stat.isDirectory()) {
      skippedFiles.push(skipped(relative, SKIP.linkedFolder, 'a symbolic link to a folder is not followed (links can loop); copy the folder in, or make data.source the folder it links to'));
    }
    if (!stat.isFile()) continue;
    files.push({ path: relative, size: stat.size, read: () => fs.readFile(full).catch((error: unknown) => { throw lastingAsSourceError(error, full); }) });
  }
  return { files, skipped: skippedFiles, close: async () => undefined };
}

async function listS3Prefix(bucket: string, prefix: string): Promise<Source> {
  const base = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
  const files: SourceFile[] = [];
  try {
    for await (const { key, size } of listKeys(base, bucket)) {
      // Keys ending in '/' are folder markers some tools create.
      if (!key.endsWith('/')) files.push({ path: key.slice(base.length), size, read: () => readListed(bucket, key) });
    }
  } catch (error) {
    throw noSuchBucket(error, `s3://${bucket}/${base}`) ?? error;
  }
  if (!files.length) {
    throw ApplicationFailure.nonRetryable(`data.source s3://${bucket}/${base} holds no objects; upload the class folders there (<prefix>/<class>/<image>) or fix the prefix`, FailureType.source);
  }
  return { files, close: async () => undefined };
}

/**
 * An object of a listed prefix. One gone since the listing (the prefix changed while it was read: a sync
 * with --delete) is no lost artifact of the sweep's, which would fail it for good: a retry lists again.
 */
async function readListed(bucket: string, key: string): Promise<Buffer> {
  try {
    return await getObject(key, bucket);
  } catch (error) {
    if (error instanceof MissingObjectError) throw new TransientError(`data.source: s3://${bucket}/${key} was deleted after the prefix was listed (it changed meanwhile); a retry lists it again`);
    throw error;
  }
}

async function downloadS3(bucket: string, key: string, work: string): Promise<string> {
  try {
    const response = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: Context.current().cancellationSignal });
    return await saveStream(response.Body as Readable, work);
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') {
      throw ApplicationFailure.nonRetryable(`data.source s3://${bucket}/${key} does not exist; upload the archive there or fix the URL`, FailureType.source);
    }
    throw noSuchBucket(error, `s3://${bucket}/${key}`) ?? error;
  }
}

/** A source in a bucket the store does not have: a typo no retry fixes (other S3 errors are retried, as everywhere). */
function noSuchBucket(error: unknown, source: string): ApplicationFailure | undefined {
  if (!isMissingBucket(error)) return undefined;
  return ApplicationFailure.nonRetryable(`data.source ${source}: the bucket does not exist at the workers' S3 endpoint; fix the URL, or create the bucket and upload the data set there`, FailureType.source);
}

async function downloadHttp(url: string, work: string): Promise<string> {
  const response = await fetch(url, { signal: Context.current().cancellationSignal }).catch((error: unknown) => {
    if (!isUnfetchableUrl(error)) throw error;
    throw ApplicationFailure.nonRetryable(`downloading data.source ${url} cannot start: ${rootMessage(error)}; ${URL_FIX}`, FailureType.source);
  });
  if (!response.ok || !response.body) {
    const message = `downloading data.source ${url} failed: HTTP ${response.status} ${response.statusText}`;
    // Client errors will not go away on a retry; server errors and throttling may.
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      throw ApplicationFailure.nonRetryable(`${message}; check the URL and that it needs no login`, FailureType.source);
    }
    throw new Error(message);
  }
  return saveStream(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), work);
}

/** Streams a download to a temp file, heartbeating the bytes so far. */
async function saveStream(body: Readable, work: string): Promise<string> {
  const file = path.join(work, 'download');
  let downloadedBytes = 0;
  await pipeline(
    body,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        downloadedBytes += chunk.length;
        Context.current().heartbeat({ downloadedBytes });
        yield chunk;
      }
    },
    createWriteStream(file),
  );
  return file;
}

async function openArchive(file: string, source: string, work: string): Promise<Source> {
  const head = Buffer.alloc(512);
  const handle = await fs.open(file).catch((error: unknown) => { throw lastingAsSourceError(error, file, false); });
  const { bytesRead } = await handle.read(head, 0, head.length, 0).finally(() => handle.close());
  // Recognised by content, not name: download URLs often have no extension.
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04')) || head.subarray(0, 4).equals(Buffer.from('PK\x05\x06'))) return openZip(file, source);
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const tar = bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  if (gzip || tar) {
    const folder = path.join(work, 'extracted');
    await extractTar(file, source, folder);
    return listFolder(folder);
  }
  throw ApplicationFailure.nonRetryable(`data.source ${source} is neither a folder nor a .zip, .tar.gz or .tar archive; give one of those`, FailureType.source);
}

function unsafeEntry(source: string, entry: string, problem: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `archive ${source} is unsafe to extract: entry "${entry}" ${problem}. ` +
    'Re-create the archive from the data-set folder (e.g. zip -r data.zip flowers/ or tar czf data.tar.gz flowers/) without links or absolute paths',
    'UnsafeArchive',
  );
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MADE_BY_UNIX = 3;

const ZIP_UTF8_FLAG = 0x800;
const ZIP_UNICODE_PATH_FIELD = 0x7075;

/**
 * A zip entry's name. The format says: UTF-8 when flagged (or given in Info-ZIP's Unicode path
 * field), else code page 437. But macOS, Linux zip and most tools write UTF-8 without the flag, which
 * read as CP437 turns "éclair" into "e╠üclair": another class name, label order and data set id than
 * the same folder's. So unflagged bytes that are valid UTF-8 are read as UTF-8 (as Go's archive/zip
 * does); others are CP437, as the format says.
 */
export function zipEntryName(entry: Pick<yauzl.Entry, 'generalPurposeBitFlag' | 'fileNameRaw' | 'extraFields'>): string {
  const asTheFormatSays = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
  if (entry.generalPurposeBitFlag & ZIP_UTF8_FLAG || entry.extraFields.some((field) => field.id === ZIP_UNICODE_PATH_FIELD)) return asTheFormatSays;
  try {
    // As yauzl does for the names it decodes: Windows tools write folders as "flowers\\rose\\".
    return new TextDecoder('utf-8', { fatal: true }).decode(entry.fileNameRaw).replace(/\\/g, '/');
  } catch {
    return asTheFormatSays;
  }
}

/** Reads the whole central directory first, so an unsafe entry anywhere fails before any upload. */
async function openZip(file: string, source: string): Promise<Source> {
  // decodeStrings: false so the names are checked here, with errors that name the entry.
  const zip = await yauzl.openPromise(file, { autoClose: false, decodeStrings: false }).catch((error: Error) => {
    if (isPassingSystemError(error)) throw error;
    throw ApplicationFailure.nonRetryable(`data.source ${source} is not a readable zip archive (${error.message}); re-create it`, FailureType.source);
  });
  const files = new Map<string, SourceFile>();
  try {
    for await (const entry of zip.eachEntry()) {
      const name = zipEntryName(entry);
      const safe = safeEntryPath(name);
      if ('problem' in safe) throw unsafeEntry(source, name, safe.problem);
      const mode = entry.versionMadeBy >> 8 === MADE_BY_UNIX ? (entry.externalFileAttributes >>> 16) & S_IFMT : 0;
      if (mode === S_IFLNK) throw unsafeEntry(source, name, 'is a symbolic link');
      if (name.endsWith('/') || mode === S_IFDIR) continue;
      if (mode !== 0 && mode !== S_IFREG) throw unsafeEntry(source, name, 'is not a regular file or folder');
      if (entry.isEncrypted()) throw ApplicationFailure.nonRetryable(`archive ${source}: entry "${name}" is encrypted; extract it with its password and ingest the folder`, FailureType.source);
      files.set(safe.path, { path: safe.path, size: entry.uncompressedSize, read: () => readZipEntry(zip, entry, source, name) });
    }
  } catch (error) {
    zip.close();
    // A central directory that breaks off partway, an entry it cannot describe: no retry reads it.
    if (error instanceof ApplicationFailure || isPassingSystemError(error)) throw error;
    throw ApplicationFailure.nonRetryable(`data.source ${source} is not a readable zip archive (${(error as Error).message}); re-create it`, FailureType.source);
  }
  return { files: [...files.values()], close: async () => zip.close() };
}

/**
 * An entry's bytes. Damaged ones (a deflate stream that does not decode, a size the header does not
 * give) fail the ingest naming the entry: a retry would read the same bytes, for ever.
 */
async function readZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, source: string, name: string): Promise<Buffer> {
  try {
    return await buffer(await zip.openReadStreamPromise(entry));
  } catch (error) {
    if (isPassingSystemError(error)) throw error;
    throw ApplicationFailure.nonRetryable(
      `archive ${source}: entry "${name}" is damaged (${(error as Error).message}); re-create the archive from the data-set folder`,
      FailureType.source,
    );
  }
}

const TAR_FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/** Extracts regular files only, each checked before it is written; links of any kind fail the ingest. */
async function extractTar(file: string, source: string, into: string): Promise<void> {
  // strict: a damaged header fails the ingest instead of silently dropping entries.
  const parser = new Parser({ strict: true });
  let extractedFiles = 0;
  const writes: Promise<void>[] = [];
  // One path may come twice (`tar -r` appends a newer copy; "./a/x.jpg" and "a/x.jpg"): as tar does, the
  // last wins. Its write waits for the one before, which it would otherwise truncate midway, mixing the two.
  const lastWriteTo = new Map<string, Promise<void>>();
  // An entry the parser stops in (a damaged archive, a failed write, a cancel) never ends by itself, and
  // its file would stay open for the life of the worker: such entries are destroyed on a failure.
  const unfinished = new Set<ReadEntry>();
  parser.on('entry', (entry: ReadEntry) => {
    const safe = safeEntryPath(entry.path);
    const problem = 'problem' in safe ? safe.problem
      : entry.type === 'SymbolicLink' || entry.type === 'Link' ? `is a ${entry.type === 'Link' ? 'hard' : 'symbolic'} link (to "${entry.linkpath}")`
        : entry.type !== 'Directory' && !TAR_FILE_TYPES.has(entry.type) ? `is a ${entry.type}, not a regular file or folder` : undefined;
    if (problem || entry.type === 'Directory' || !('path' in safe)) {
      entry.resume();
      if (problem) parser.abort(unsafeEntry(source, entry.path, problem));
      return;
    }
    unfinished.add(entry);
    entry.on('end', () => unfinished.delete(entry));
    // An entry still waiting for its folder has no reader yet: destroyed on a failure, its error would be
    // thrown where it is destroyed, in place of the failure the extraction maps.
    entry.on('error', () => undefined);
    const dest = path.join(into, safe.path);
    const before = lastWriteTo.get(dest)?.catch(() => undefined) ?? fs.mkdir(path.dirname(dest), { recursive: true });
    const write = before
      .then(() => pipeline(entry, createWriteStream(dest)))
      // In an activity (ingestion), not in `sweep validate`'s survey, which opens sources outside one.
      .then(() => asyncLocalStorage.getStore()?.heartbeat({ extractedFiles: ++extractedFiles }));
    write.catch((error: Error) => parser.abort(error));
    writes.push(write);
    lastWriteTo.set(dest, write);
  });
  // In an activity, a cancel (the sweep cancelled, the worker stopping) stops the extraction too.
  const signal = asyncLocalStorage.getStore()?.cancellationSignal;
  try {
    await pipeline(createReadStream(file), parser, ...signal ? [{ signal }] : []);
  } catch (error) {
    for (const entry of unfinished) entry.destroy(error as Error);
    await Promise.allSettled(writes);
    throw extractionFailure(error as Error, source);
  }
  await allSettledOrThrow(writes).catch((error: Error) => { throw extractionFailure(error, source); });
}

/**
 * An error of the system looking at or reading a local source's file: a lasting one (no permission, a
 * name too long) is the source's to fix, for good (retried, it failed for ever); a passing one (EIO,
 * EMFILE) is passed on as it is, to be retried.
 */
function lastingAsSourceError(error: unknown, file: string, inDataSet = true): unknown {
  if (!isSystemError(error) || isPassingSystemError(error)) return error;
  const fix = inDataSet ? 'give the worker read permission, or move it out of the data set' : 'give the worker read permission';
  return ApplicationFailure.nonRetryable(`data.source: ${file} cannot be read on worker ${os.hostname()} (${(error as Error).message}); ${fix}`, FailureType.source);
}

/** A tar's extraction error as what it is: the archive's fault (for good), or one a retry may not meet. */
function extractionFailure(error: Error & { code?: string }, source: string): Error {
  if (error instanceof ApplicationFailure) return error;
  // TAR_* (format) and Z_* (gzip) errors are a damaged archive.
  if (/^(TAR|Z)_/.test(error.code ?? '')) {
    return ApplicationFailure.nonRetryable(`data.source ${source} is not a readable tar archive (${error.message}); re-create it`, FailureType.source);
  }
  // Paths its entries make that cannot be written (a file and a folder of one name, a name too long) are the
  // archive's too (EEXIST: a folder wanted where an entry wrote a file; the folder is new, so nothing else
  // made it); other errors of the system (a full disk, ...) may pass on a retry.
  if (isSystemError(error) && (!isPassingSystemError(error) || error.code === 'EEXIST')) {
    return ApplicationFailure.nonRetryable(`data.source ${source} cannot be extracted (${error.message}); re-create it from the data-set folder`, FailureType.source);
  }
  return error;
}


function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}
