// Reading cached feature sets on a training worker: shards come from S3 once and are then kept
// on local disk, so trials that share a worker share the download; only the sets in use are in memory.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { artifactKeys } from '../lib/artifact-keys';
import { FeatureShard, concatFeatureShards, decodeFeatureShard } from '../lib/feature-shard';
import { FeatureSetRef } from '../lib/sweep-types';
import { getObject } from './storage';

const CACHE_DIR = process.env.SWEEP_CACHE_DIR ?? path.join(os.tmpdir(), 'sweep-feature-cache');

export async function loadFeatureSet(ref: FeatureSetRef): Promise<FeatureShard> {
  const shards: FeatureShard[] = [];
  for (let shard = 0; shard < ref.shards; shard++) shards.push(decodeFeatureShard(await cachedObject(artifactKeys.featureShard(ref.id, shard))));
  const set = concatFeatureShards(shards);
  if (set.count !== ref.rows || set.dim !== ref.dim) throw new Error(`feature set ${ref.id} has ${set.count} x ${set.dim}, expected ${ref.rows} x ${ref.dim}`);
  return set;
}

/** Trials running in one process and needing the same shard share one download. */
const downloads = new Map<string, Promise<Buffer>>();

function cachedObject(key: string): Promise<Buffer> {
  let pending = downloads.get(key);
  if (!pending) {
    pending = readOrDownload(key).finally(() => downloads.delete(key));
    downloads.set(key, pending);
  }
  return pending;
}

async function readOrDownload(key: string): Promise<Buffer> {
  const file = path.join(CACHE_DIR, key);
  try {
    return await fs.readFile(file);
  } catch {
    const bytes = await getObject(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Write then rename (atomic), so no reader, in this or another worker process, sees half a shard.
    const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
    await fs.writeFile(partial, bytes);
    await fs.rename(partial, file);
    return bytes;
  }
}
