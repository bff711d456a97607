// Immutable objects kept on this worker's disk (SWEEP_CACHE_DIR): feature shards and image packs,
// whose keys are hashes of their contents, so a kept copy is never stale. Downloaded once per node:
// every process and trial on it reads the same file. Each copy has the SHA-256 of the bytes
// downloaded beside it (<file>.sha256), which a process checks before its first read of the copy.
// The cache never fills its disk: before each download the least recently used copies go until
// SWEEP_CACHE_MIN_FREE_MB and the new copy fit (lib/cache-eviction.ts); a download that still finds
// the disk full says so.
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CachedCopy, copiesToEvict } from '../lib/cache-eviction';
import { megabytes } from '../lib/megabytes';
import { cacheMinFreeBytes, featureCacheConfig } from './config';
import { getObject } from './storage';

/** Callers in one process that need the same object share one download. */
const downloads = new Map<string, Promise<string>>();

/** A copy used this recently stays when room is made: a process of the node may be about to open it. */
const KEEP_RECENT_MS = 10 * 60_000;
/** A partial file this old was left by a process killed while writing it (a write lasts seconds). */
const ABANDONED_PARTIAL_MS = 60 * 60_000;

/** The object's file in the local cache, downloaded first if it is not there. */
export async function localCopy(key: string): Promise<string> {
  const file = localFile(key);
  if (!fsSync.existsSync(file)) return downloadOnce(key, file);
  await markUsed(file);
  return file;
}

// Read on each call, not at import: SWEEP_CACHE_DIR may come from the stack env file, loaded later.
const localFile = (key: string) => path.join(featureCacheConfig().dir, key);

/** Downloads the object over its local copy, if any; callers in one process share one download. */
function downloadOnce(key: string, file: string): Promise<string> {
  let pending = downloads.get(key);
  if (!pending) {
    pending = download(key, file).finally(() => downloads.delete(key));
    downloads.set(key, pending);
  }
  return pending;
}

const digestFile = (file: string) => `${file}.sha256`;

/** Copies this process found equal to their digest, with the file's identity, size and time then: checked again only once these change. */
const checked = new Map<string, string>();
const identityOf = (stat: fsSync.Stats) => `${stat.ino}:${stat.size}:${stat.mtimeMs}`;

async function download(key: string, file: string): Promise<string> {
  const bytes = await getObject(key);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const digest = createHash('sha256').update(bytes).digest('hex');
  const write = async () => {
    // The digest first: a copy is never there without it (a digest alone is overwritten by the next download).
    await writeWhole(digestFile(file), digest);
    await writeWhole(file, bytes);
  };
  const { dir } = featureCacheConfig();
  await makeRoom(dir, bytes.length);
  try {
    await write();
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    // Something else took the room since (another process of the node, another program), or the disk
    // ran out of inodes, which the free space does not show: a copy's worth more goes, and it is tried once more.
    await makeRoom(dir, bytes.length, bytes.length);
    try {
      await write();
    } catch (again) {
      if (!isDiskFull(again)) throw again;
      // Its digest may have fit: not left alone (unless another process has written the copy since).
      if (!fsSync.existsSync(file)) await fs.rm(digestFile(file), { force: true });
      throw new Error(`no space left on the disk of SWEEP_CACHE_DIR (${dir}) for a copy of ${key} (${megabytes(bytes.length)}), after removing the least recently used copies (none used in the last ${KEEP_RECENT_MS / 60_000} minutes goes): ` +
        'free space on that disk, or point SWEEP_CACHE_DIR at a larger one; the step is retried, on another node where one takes it');
    }
  }
  // Just hashed and flushed: this process need not read it back to check it.
  checked.set(file, identityOf(await fs.stat(file)));
  return file;
}

const isDiskFull = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOSPC';

/** The digest's times say when the copy was last used: the copy's own are part of its identity (above). */
async function markUsed(file: string): Promise<void> {
  const now = new Date();
  // A digest that cannot be touched (gone, a read-only disk) leaves the copy to be read as it is; it may only go sooner.
  await fs.utimes(digestFile(file), now, now).catch(() => undefined);
}

/**
 * Removes the least recently used copies until the cache's disk has SWEEP_CACHE_MIN_FREE_MB free beside
 * `incomingBytes`, and at least `atLeastBytes` are freed. One check of the disk's free space when there
 * is room; the cache is listed only when there is not, and then a quarter of the setting more is freed
 * (as kubelet's image collection frees down to a low mark below its high one), so that the next
 * downloads find room without listing it again.
 */
async function makeRoom(dir: string, incomingBytes: number, atLeastBytes = 0): Promise<void> {
  const disk = await fs.statfs(dir);
  const minFree = cacheMinFreeBytes();
  const short = minFree + incomingBytes - disk.bavail * disk.bsize;
  if (short <= 0 && atLeastBytes <= 0) return;
  const need = Math.max(atLeastBytes, short + minFree / 4);
  const evicted = copiesToEvict(await cachedCopies(dir), need, Date.now(), KEEP_RECENT_MS);
  for (const copy of evicted) {
    // The copy before its digest: a copy is never left without one.
    await fs.rm(copy.file, { force: true });
    await fs.rm(digestFile(copy.file), { force: true });
    checked.delete(copy.file);
  }
  // The worker's log: an operator sees the cache at its bound (or its disk filled by something else);
  // that nothing could go is said once, not at every download.
  const free = `SWEEP_CACHE_DIR ${dir}: ${megabytes(disk.bavail * disk.bsize)} free`;
  if (evicted.length) {
    console.log(`[worker] ${free}; removed the ${evicted.length} least recently used ${evicted.length === 1 ? 'copy' : 'copies'} (${megabytes(evicted.reduce((sum, copy) => sum + copy.bytes, 0))}) to keep SWEEP_CACHE_MIN_FREE_MB free beside a ${megabytes(incomingBytes)} download`);
    saidNoRoom = false;
  } else if (!saidNoRoom) {
    console.log(`[worker] ${free}, less than SWEEP_CACHE_MIN_FREE_MB beside a ${megabytes(incomingBytes)} download, and every copy was used in the last ${KEEP_RECENT_MS / 60_000} minutes: none removed, the disk may fill`);
    saidNoRoom = true;
  }
}

let saidNoRoom = false;

/** The cache's copies (with their digests' bytes), each last used when its digest was last touched; and partial files abandoned by killed writers. */
async function cachedCopies(dir: string): Promise<CachedCopy[]> {
  const now = Date.now();
  const copies = new Map<string, CachedCopy>();
  for (const name of await fs.readdir(dir, { recursive: true })) {
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat?.isFile()) continue;
    if (file.endsWith('.partial')) {
      if (now - stat.mtimeMs >= ABANDONED_PARTIAL_MS) copies.set(file, { file, bytes: stat.size, lastUsedMs: stat.mtimeMs });
      continue;
    }
    const isDigest = file.endsWith('.sha256');
    const copyFile = isDigest ? file.slice(0, -'.sha256'.length) : file;
    const copy = copies.get(copyFile) ?? { file: copyFile, bytes: 0, lastUsedMs: stat.mtimeMs };
    copy.bytes += stat.size;
    // The digest's time is the copy's use; a copy kept without one (by an older version) counts from its own.
    if (isDigest) copy.lastUsedMs = stat.mtimeMs;
    copies.set(copyFile, copy);
  }
  return [...copies.values()];
}

/**
 * Write then rename (atomic), so no reader, in this or another worker process, sees half a file;
 * flushed to disk before the rename, so a node that loses power keeps the whole file or none.
 */
async function writeWhole(file: string, bytes: Uint8Array | string): Promise<void> {
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
  try {
    const handle = await fs.open(partial, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(partial, file);
  } catch (error) {
    await fs.rm(partial, { force: true });
    throw error;
  }
}

/**
 * Why the copy is not the bytes that were downloaded (a byte changed on disk, the file cut short, its
 * digest lost), or undefined. Read whole once per process and copy; a copy changed after that, while
 * this process reads it, is not seen (an in-memory set is read once anyway).
 */
async function changedSinceDownload(file: string): Promise<string | undefined> {
  const identity = identityOf(await fs.stat(file));
  if (checked.get(file) === identity) return undefined;
  let expected: string;
  try {
    expected = (await fs.readFile(digestFile(file), 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'no digest beside it (kept by an older version, or lost)';
    throw error;
  }
  const hash = createHash('sha256');
  await pipeline(fsSync.createReadStream(file), hash);
  const actual = hash.digest('hex');
  if (actual !== expected) return `its bytes hash to ${actual.slice(0, 12)}…, not to the ${expected.slice(0, 12)}… downloaded`;
  checked.set(file, identity);
  return undefined;
}

/** What a read of a local copy found: the value, or why the copy is damaged. */
export type LocalRead<T> = { value: T } | { damaged: string };

/**
 * Reads the object's local copy with `read`. A copy that is not what was downloaded (cut short by a
 * crash of a node whose copies were written before they were flushed, or changed on disk), or that
 * `read` finds damaged, is discarded and downloaded again, once, instead of failing every retry on this
 * node or being read as it is: a changed feature would train a head on other rows, silently.
 */
export async function readLocalCopy<T>(key: string, read: (file: string) => Promise<LocalRead<T>>): Promise<T> {
  let damaged = '';
  for (const copy of ['local copy', 'copy downloaded again']) {
    // A damaged copy is replaced by the download's rename, never removed first: a process of this node
    // that found the path a moment before opens the old file or the new one, never none (ENOENT).
    const file = damaged ? await downloadOnce(key, localFile(key)) : await localCopy(key);
    let found: LocalRead<T>;
    try {
      const changed = await changedSinceDownload(file);
      found = changed === undefined ? await read(file) : { damaged: changed };
    } catch (error) {
      // Removed after it was found (a cache folder emptied by hand): downloaded again, as a damaged copy is.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      found = { damaged: 'removed while it was read' };
    }
    if ('value' in found) return found.value;
    damaged = `the ${copy} ${file}: ${found.damaged}`;
  }
  throw new Error(`${key}: ${damaged}`);
}
