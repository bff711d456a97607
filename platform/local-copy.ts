// Immutable objects kept on this worker's disk (SWEEP_CACHE_DIR): feature shards and image packs,
// whose keys are hashes of their contents, so a kept copy is never stale. Downloaded once per node:
// every process and trial on it reads the same file.
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { featureCacheConfig } from './config';
import { getObject } from './storage';

/** Callers in one process that need the same object share one download. */
const downloads = new Map<string, Promise<string>>();

/** The object's file in the local cache, downloaded first if it is not there. */
export function localCopy(key: string): Promise<string> {
  // Read on each call, not at import: SWEEP_CACHE_DIR may come from the stack env file, loaded later.
  const file = path.join(featureCacheConfig().dir, key);
  if (fsSync.existsSync(file)) return Promise.resolve(file);
  let pending = downloads.get(key);
  if (!pending) {
    pending = download(key, file).finally(() => downloads.delete(key));
    downloads.set(key, pending);
  }
  return pending;
}

async function download(key: string, file: string): Promise<string> {
  const bytes = await getObject(key);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Write then rename (atomic), so no reader, in this or another worker process, sees half a file;
  // flushed to disk before the rename, so a node that loses power keeps the whole file or none.
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
  return file;
}

/** What a read of a local copy found: the value, or why the copy is damaged. */
export type LocalRead<T> = { value: T } | { damaged: string };

/**
 * Reads the object's local copy with `read`. A copy it finds damaged (cut short by a crash of a node
 * whose copies were written before they were flushed, or changed on disk) is discarded and downloaded
 * again, once, instead of failing every retry on this node or being read as it is.
 */
export async function readLocalCopy<T>(key: string, read: (file: string) => Promise<LocalRead<T>>): Promise<T> {
  let damaged = '';
  for (const copy of ['local copy', 'copy downloaded again']) {
    const file = await localCopy(key);
    const found = await read(file);
    if ('value' in found) return found.value;
    damaged = `the ${copy} ${file}: ${found.damaged}`;
    await fs.rm(file, { force: true });
  }
  throw new Error(`${key}: ${damaged}`);
}
