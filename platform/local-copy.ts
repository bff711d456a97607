// Immutable objects kept on this worker's disk (SWEEP_CACHE_DIR): feature shards and image packs,
// whose keys are hashes of their contents, so a kept copy is never stale. Downloaded once per node:
// every process and trial on it reads the same file. Each copy has the SHA-256 of the bytes
// downloaded beside it (<file>.sha256), which a process checks before its first read of the copy.
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { featureCacheConfig } from './config';
import { getObject } from './storage';

/** Callers in one process that need the same object share one download. */
const downloads = new Map<string, Promise<string>>();

/** The object's file in the local cache, downloaded first if it is not there. */
export function localCopy(key: string): Promise<string> {
  const file = localFile(key);
  return fsSync.existsSync(file) ? Promise.resolve(file) : downloadOnce(key, file);
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
  // The digest first: a copy is never there without it (a digest alone is overwritten by the next download).
  await writeWhole(digestFile(file), createHash('sha256').update(bytes).digest('hex'));
  await writeWhole(file, bytes);
  // Just hashed and flushed: this process need not read it back to check it.
  checked.set(file, identityOf(await fs.stat(file)));
  return file;
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
