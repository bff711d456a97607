// formats/feature-shard.ts: binary shards of cached features (header, int32 labels, float32 features).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FeatureShard, concatFeatureShards, decodeFeatureShard, encodeFeatureShard } from '../../formats/feature-shard';

function shard(count: number, dim: number, offset = 0): FeatureShard {
  const labels = Int32Array.from({ length: count }, (_, i) => (i + offset) % 5);
  const features = Float32Array.from({ length: count * dim }, (_, i) => Math.sin(i + offset * 1000) * 100);
  return { count, dim, labels, features };
}

describe('encode/decode', () => {
  test('round trip is exact, including negatives, extremes, -0, infinities and NaN', () => {
    const special = [-1.5, 0, -0, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, Infinity, -Infinity, NaN, Math.fround(Math.PI), -123456.789];
    const s: FeatureShard = { count: special.length, dim: 1, labels: Int32Array.from(special, (_, i) => [0, 1, -1, 2147483647, -2147483648][i % 5]), features: Float32Array.from(special) };
    const back = decodeFeatureShard(encodeFeatureShard(s));
    assert.equal(back.count, s.count);
    assert.equal(back.dim, 1);
    assert.deepEqual(back.labels, s.labels);
    for (let i = 0; i < special.length; i++) {
      assert.ok(Object.is(back.features[i], s.features[i]), `index ${i}: ${back.features[i]} vs ${s.features[i]}`);
    }
  });

  test('round trip of a larger shard, byte size = 12 + 4*count + 4*count*dim', () => {
    const s = shard(37, 13);
    const bytes = encodeFeatureShard(s);
    assert.equal(bytes.byteLength, 12 + 4 * 37 + 4 * 37 * 13);
    const back = decodeFeatureShard(bytes);
    assert.deepEqual(back, s);
    assert.ok(back.labels instanceof Int32Array);
    assert.ok(back.features instanceof Float32Array);
  });

  test('little-endian header with magic "SWF1"', () => {
    const bytes = encodeFeatureShard(shard(2, 3));
    assert.equal(Buffer.from(bytes.subarray(0, 4)).toString('latin1'), 'SWF1');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    assert.equal(view.getUint32(4, true), 2);
    assert.equal(view.getUint32(8, true), 3);
  });

  test('decodes from a view at an unaligned offset in a bigger buffer (as from a Node Buffer pool)', () => {
    const s = shard(5, 4);
    const bytes = encodeFeatureShard(s);
    const big = new Uint8Array(bytes.byteLength + 7);
    big.set(bytes, 3);
    assert.deepEqual(decodeFeatureShard(big.subarray(3, 3 + bytes.byteLength)), s);
    assert.deepEqual(decodeFeatureShard(Buffer.from(bytes)), s);
  });

  test('an empty shard round-trips', () => {
    const s: FeatureShard = { count: 0, dim: 8, labels: new Int32Array(0), features: new Float32Array(0) };
    assert.deepEqual(decodeFeatureShard(encodeFeatureShard(s)), s);
  });

  test('bad magic throws', () => {
    const bytes = encodeFeatureShard(shard(2, 2));
    bytes[0] ^= 0xff;
    assert.throws(() => decodeFeatureShard(bytes), /bad magic/);
    assert.throws(() => decodeFeatureShard(new TextEncoder().encode('{"not":"a shard"}')), /bad magic/);
    assert.throws(() => decodeFeatureShard(new Uint8Array(5)), /bad magic/);
    assert.throws(() => decodeFeatureShard(new Uint8Array(0)), /bad magic/);
  });

  test('truncated or padded bytes throw', () => {
    const bytes = encodeFeatureShard(shard(4, 3));
    for (const cut of [1, 4, 13, bytes.byteLength - 12]) {
      assert.throws(() => decodeFeatureShard(bytes.subarray(0, bytes.byteLength - cut)), /truncated/, `cut ${cut}`);
    }
    const padded = new Uint8Array(bytes.byteLength + 4);
    padded.set(bytes);
    assert.throws(() => decodeFeatureShard(padded), /truncated/);
  });

  test('encode refuses sizes that disagree', () => {
    const s = shard(3, 2);
    assert.throws(() => encodeFeatureShard({ ...s, count: 4 }), /disagree/);
    assert.throws(() => encodeFeatureShard({ ...s, dim: 3 }), /disagree/);
    assert.throws(() => encodeFeatureShard({ ...s, labels: new Int32Array(2) }), /disagree/);
    assert.throws(() => encodeFeatureShard({ ...s, features: new Float32Array(5) }), /disagree/);
  });
});

describe('concatFeatureShards', () => {
  test('keeps shard order and row order', () => {
    const parts = [shard(3, 4, 0), shard(0, 4, 1), shard(5, 4, 2), shard(1, 4, 3)];
    const all = concatFeatureShards(parts);
    assert.equal(all.count, 9);
    assert.equal(all.dim, 4);
    assert.deepEqual([...all.labels], parts.flatMap((p) => [...p.labels]));
    assert.deepEqual([...all.features], parts.flatMap((p) => [...p.features]));
  });

  test('a dimension mismatch throws', () => {
    assert.throws(() => concatFeatureShards([shard(2, 4), shard(2, 3)]), /dimension: 3 vs 4/);
  });

  test('no shards gives an empty set; one shard is copied, not aliased', () => {
    assert.deepEqual(concatFeatureShards([]), { count: 0, dim: 0, labels: new Int32Array(0), features: new Float32Array(0) });
    const one = shard(2, 2);
    const out = concatFeatureShards([one]);
    assert.deepEqual(out, one);
    out.features[0] = 12345;
    assert.notEqual(one.features[0], 12345);
  });
});
