// Reading cached feature sets on a training worker: shards come from S3 once and are then kept on
// local disk (./local-copy.ts), so trials that share a worker share the download. A set in use is in
// memory, or, when larger than SWEEP_FEATURE_MEMORY_MB, read from those files a batch at a time.
// Decoded sets stay in memory between epochs and trials, within that same limit.
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import { artifactKeys } from '../lib/artifact-keys';
import {
  FeatureRows, FeatureShard, HEADER_BYTES, concatFeatureShards, decodeFeatureShard, decodeFeatureShardHeader, featureShardLayout, memoryRows,
} from '../formats/feature-shard';
import { FeatureSetRef } from '../lib/sweep-types';
import { featureCacheConfig } from './config';
import { readLocalCopy } from './local-copy';

/** A feature set's rows: in memory when it fits `memoryLimitBytes`, else streamed from local shard files. */
export async function openFeatureSet(ref: FeatureSetRef, memoryLimitBytes = featureCacheConfig().memoryLimitBytes): Promise<FeatureRows> {
  return setBytes(ref) <= memoryLimitBytes ? memoryRows(await decodedSet(ref, memoryLimitBytes)) : diskRows(ref, await localShardFiles(ref));
}

function setBytes(ref: FeatureSetRef): number {
  return ref.rows * ref.dim * 4;
}

/**
 * Decoded sets of this process, the least recently opened first, at most `memoryLimitBytes` of them
 * in all (the oldest go first). Every epoch opens its train set again, which meant reading and
 * decoding it again (about 9 ms, and 6 MB of garbage, for the search benchmark's 1,180 x 1,280 rows).
 * A set's id is the hash of what computed it, so a kept set is never stale; the rows are only read,
 * so trials share one copy.
 */
const decoded = new Map<string, { set: Promise<FeatureShard>; bytes: number }>();

function decodedSet(ref: FeatureSetRef, memoryLimitBytes: number): Promise<FeatureShard> {
  const kept = decoded.get(ref.id);
  if (kept) {
    decoded.delete(ref.id);
    decoded.set(ref.id, kept);
    return kept.set;
  }
  const entry = { set: localShardFiles(ref).then((files) => loadShards(ref, files)), bytes: setBytes(ref) };
  decoded.set(ref.id, entry);
  // A failed load is not kept: the next open tries again.
  entry.set.catch(() => { if (decoded.get(ref.id) === entry) decoded.delete(ref.id); });
  let total = [...decoded.values()].reduce((sum, e) => sum + e.bytes, 0);
  for (const [id, e] of decoded) {
    if (total <= memoryLimitBytes || id === ref.id) break;
    decoded.delete(id);
    total -= e.bytes;
  }
  return entry.set;
}

async function localShardFiles(ref: FeatureSetRef): Promise<string[]> {
  const files: string[] = [];
  // Checked whole (header and size): streamed reads past a cut-short file's end would read nothing and
  // train on the previous batch's rows, silently.
  for (let shard = 0; shard < ref.shards; shard++) {
    files.push(await readLocalCopy<string>(artifactKeys.featureShard(ref.id, shard), async (file) => {
      const damaged = shardFileProblem(file);
      return damaged === undefined ? { value: file } : { damaged };
    }));
  }
  return files;
}

/** Why a local file is not a whole feature shard (its header and size), or undefined. */
function shardFileProblem(file: string): string | undefined {
  const fd = fsSync.openSync(file, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    fsSync.readSync(fd, header, 0, HEADER_BYTES, 0);
    const { count, dim } = decodeFeatureShardHeader(header);
    const expected = featureShardLayout(count, dim).byteLength;
    const size = fsSync.fstatSync(fd).size;
    return size === expected ? undefined : `${size} bytes where ${count} x ${dim} rows take ${expected}`;
  } catch (error) {
    return (error as Error).message;
  } finally {
    fsSync.closeSync(fd);
  }
}

async function loadShards(ref: FeatureSetRef, files: string[]): Promise<FeatureShard> {
  const shards: FeatureShard[] = [];
  for (const file of files) shards.push(decodeFeatureShard(await fs.readFile(file)));
  return checked(ref, concatFeatureShards(shards));
}

function checked<T extends { count: number; dim: number }>(ref: FeatureSetRef, set: T): T {
  if (set.count !== ref.rows || set.dim !== ref.dim) throw new Error(`feature set ${ref.id} has ${set.count} x ${set.dim}, expected ${ref.rows} x ${ref.dim}`);
  return set;
}

/** Rows read from the shard files with one positioned read per row; only the labels are in memory. */
function diskRows(ref: FeatureSetRef, files: string[]): FeatureRows {
  const shards: OpenShardFile[] = [];
  // Every file is closed, once: one that fails to close (EIO) does not leave the rest open, and a
  // second close cannot close a descriptor the process has since given to another file.
  const close = () => {
    const errors = shards.splice(0).flatMap((s) => {
      try {
        fsSync.closeSync(s.fd);
        return [];
      } catch (error) {
        return [error];
      }
    });
    if (errors.length) throw errors[0];
  };
  try {
    for (const file of files) shards.push(openShardFile(file));
    return checked(ref, shardRows(shards, ref, close));
  } catch (error) {
    // A set that cannot be read closes what it opened: its step is retried, maybe many times.
    close();
    throw error;
  }
}

interface OpenShardFile { fd: number; count: number; dim: number; labels: Int32Array; featuresAt: number }

/** A shard file opened for positioned reads, with its labels read. */
function openShardFile(file: string): OpenShardFile {
  const fd = fsSync.openSync(file, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    fsSync.readSync(fd, header, 0, HEADER_BYTES, 0);
    const { count, dim } = decodeFeatureShardHeader(header);
    const { labelsAt, featuresAt } = featureShardLayout(count, dim);
    const labels = new Int32Array(count);
    fsSync.readSync(fd, new Uint8Array(labels.buffer), 0, count * 4, labelsAt);
    return { fd, count, dim, labels, featuresAt };
  } catch (error) {
    fsSync.closeSync(fd);
    throw error;
  }
}

/** The shards' rows as one set, row r of the set being row r - firstRow[s] of shard s. */
function shardRows(shards: OpenShardFile[], ref: FeatureSetRef, close: () => void): FeatureRows {
  const firstRow: number[] = [];
  shards.reduce((row, shard) => { firstRow.push(row); return row + shard.count; }, 0);
  const dim = shards[0]?.dim ?? ref.dim;
  return {
    count: shards.reduce((n, s) => n + s.count, 0),
    dim,
    labels: Int32Array.from(shards.flatMap((s) => Array.from(s.labels))),
    read: (rows: ArrayLike<number>, out: Float32Array) => {
      if (shards.length === 0 && rows.length > 0) throw new Error(`feature set ${ref.id}: rows read after close()`);
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      for (let i = 0; i < rows.length; i++) {
        let s = shards.length - 1;
        while (firstRow[s] > rows[i]) s--;
        const shard = shards[s];
        fsSync.readSync(shard.fd, bytes, i * dim * 4, dim * 4, shard.featuresAt + (rows[i] - firstRow[s]) * dim * 4);
      }
    },
    close,
  };
}
