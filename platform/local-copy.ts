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
  // Write then rename (atomic), so no reader, in this or another worker process, sees half a file.
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
  await fs.writeFile(partial, bytes);
  await fs.rename(partial, file);
  return file;
}
