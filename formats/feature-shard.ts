// Binary shard of cached backbone features: a small header, the labels, then row-major float32
// features. Compact, and decodable without parsing JSON for every number.
const MAGIC = 0x31465753; // "SWF1"
/** Magic, row count, dimension: three uint32. */
export const HEADER_BYTES = 12;

export interface FeatureShard {
  count: number;
  dim: number;
  labels: Int32Array;
  features: Float32Array;
}

export function encodeFeatureShard(shard: FeatureShard): Uint8Array {
  if (shard.labels.length !== shard.count || shard.features.length !== shard.count * shard.dim) {
    throw new Error(`feature shard sizes disagree: ${shard.count} rows, ${shard.labels.length} labels, ${shard.features.length} values for dim ${shard.dim}`);
  }
  const { labelsAt, byteLength } = featureShardLayout(shard.count, shard.dim);
  const bytes = new Uint8Array(byteLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, shard.count, true);
  view.setUint32(8, shard.dim, true);
  let offset = labelsAt;
  for (const label of shard.labels) { view.setInt32(offset, label, true); offset += 4; }
  for (const value of shard.features) { view.setFloat32(offset, value, true); offset += 4; }
  return bytes;
}

export function decodeFeatureShard(bytes: Uint8Array): FeatureShard {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { count, dim } = decodeFeatureShardHeader(bytes);
  const { labelsAt, byteLength } = featureShardLayout(count, dim);
  if (bytes.byteLength !== byteLength) throw new Error(`feature shard is truncated: ${bytes.byteLength} bytes for ${count} x ${dim}`);
  const labels = new Int32Array(count);
  const features = new Float32Array(count * dim);
  let offset = labelsAt;
  for (let i = 0; i < count; i++) { labels[i] = view.getInt32(offset, true); offset += 4; }
  for (let i = 0; i < features.length; i++) { features[i] = view.getFloat32(offset, true); offset += 4; }
  return { count, dim, labels, features };
}

/** Concatenates shards (in order) into one feature matrix. */
export function concatFeatureShards(shards: readonly FeatureShard[]): FeatureShard {
  const dim = shards[0]?.dim ?? 0;
  const count = shards.reduce((n, s) => n + s.count, 0);
  const labels = new Int32Array(count);
  const features = new Float32Array(count * dim);
  let row = 0;
  for (const s of shards) {
    if (s.dim !== dim) throw new Error(`feature shards disagree on dimension: ${s.dim} vs ${dim}`);
    labels.set(s.labels, row);
    features.set(s.features, row * dim);
    row += s.count;
  }
  return { count, dim, labels, features };
}

/**
 * Rows of a feature set, read a batch at a time: what training and evaluation consume, whether the
 * set is in memory, streamed from shard files on local disk, or computed on the fly (the benchmark).
 */
export interface FeatureRows {
  count: number;
  dim: number;
  labels: Int32Array;
  /** Writes the feature vectors of `rows` (indices below `count`) into `out`, one after another. */
  read(rows: ArrayLike<number>, out: Float32Array): void | Promise<void>;
  /** Releases what reading holds (open files); the rows are not read after. */
  close(): void;
}

export function memoryRows(set: FeatureShard): FeatureRows {
  const { dim, features } = set;
  return {
    count: set.count,
    dim,
    labels: set.labels,
    read: (rows, out) => {
      for (let i = 0; i < rows.length; i++) out.set(features.subarray(rows[i] * dim, (rows[i] + 1) * dim), i * dim);
    },
    close: () => undefined,
  };
}

/** An encoded shard of `count` x `dim`: where its labels and its features begin, and its size. */
export function featureShardLayout(count: number, dim: number): { labelsAt: number; featuresAt: number; byteLength: number } {
  const featuresAt = HEADER_BYTES + count * 4;
  return { labelsAt: HEADER_BYTES, featuresAt, byteLength: featuresAt + count * dim * 4 };
}

/** The row count and dimension from a shard's header (its first HEADER_BYTES). */
export function decodeFeatureShardHeader(header: Uint8Array): { count: number; dim: number } {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.byteLength < HEADER_BYTES || view.getUint32(0, true) !== MAGIC) throw new Error('not a feature shard (bad magic)');
  return { count: view.getUint32(4, true), dim: view.getUint32(8, true) };
}
