// Histogram summaries (HistogramProto), bucketed like TensorFlow's `tf.compat.v1.summary.histogram`
// (tensorflow/core/lib/histogram/histogram.cc) or with a fixed number of equal-width buckets like
// TensorBoard's summary-v2 histogram.
import type { HistogramData } from './proto';

/** 'tf': TF's default exponential bucket limits; a number: that many equal-width buckets over [min, max]. */
export type HistogramBucketing = 'tf' | number;

let defaultLimits: readonly number[] | undefined;

/**
 * TF's default bucket limits: ±(1e-12 · 1.1^k) up to 1e20, ±DBL_MAX at the ends and 0 in the middle
 * (histogram.cc InitDefaultBucketsInner). Bucket i counts values in [limit[i-1], limit[i]).
 */
export function defaultBucketLimits(): readonly number[] {
  if (!defaultLimits) {
    const pos: number[] = [];
    for (let v = 1e-12; v < 1e20; v *= 1.1) pos.push(v);
    pos.push(Number.MAX_VALUE);
    const neg = pos.map((v) => -v).reverse();
    defaultLimits = Object.freeze([...neg, 0, ...pos]);
  }
  return defaultLimits;
}

/** Index of the first limit strictly greater than v (std::upper_bound). */
export function upperBound(limits: readonly number[], v: number): number {
  let lo = 0;
  let hi = limits.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (limits[mid] > v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const LOG_GROWTH = Math.log(1.1);

/**
 * upperBound(defaultBucketLimits(), v) without the binary search over ~1500 limits, which made
 * histograms the largest cost of a trial after its train steps. The limits are ±1e-12 · 1.1^k, so
 * log_1.1(|v| / 1e-12) lands within a step of the answer; the two loops make it exact.
 */
export function defaultBucketIndex(v: number): number {
  const limits = defaultBucketLimits();
  const zeroAt = (limits.length - 1) / 2;
  const steps = Math.abs(v) > 1e-12 ? Math.floor(Math.log(Math.abs(v) / 1e-12) / LOG_GROWTH) + 1 : 0;
  return settle(limits, v, Math.min(limits.length, Math.max(0, v > 0 ? zeroAt + 1 + steps : zeroAt + (v < 0 ? 1 - steps : 1))));
}

/** Moves a guess of upperBound(limits, v) that is off by a step or two to the exact index. */
function settle(limits: readonly number[], v: number, guess: number): number {
  let index = guess;
  while (index > 0 && limits[index - 1] > v) index--;
  while (index < limits.length && limits[index] <= v) index++;
  return index;
}

let guessByFloatPrefix: Uint16Array | undefined;

/**
 * defaultBucketIndex for float32 values, faster still: the top 16 bits of a float32 (sign, exponent,
 * 7 mantissa bits) fix its magnitude to within 1 %, finer than the 10 % between limits, so a table
 * indexed by them gives a guess within a step.
 */
function countFloat32(values: Float32Array, counts: Float64Array): void {
  const limits = defaultBucketLimits();
  if (!guessByFloatPrefix) {
    guessByFloatPrefix = new Uint16Array(1 << 16);
    const float = new Float32Array(1);
    const bits = new Uint32Array(float.buffer);
    for (let prefix = 0; prefix < 1 << 16; prefix++) {
      bits[0] = prefix << 16;
      guessByFloatPrefix[prefix] = Number.isFinite(float[0]) ? defaultBucketIndex(float[0]) : 0;
    }
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) counts[settle(limits, v, guessByFloatPrefix[bits[i] >>> 16])]++;
  }
}

/**
 * Computes a HistogramProto for `values`. Non-finite values (NaN, ±Infinity) are skipped: TensorBoard
 * cannot draw them and TF's histogram op would reject the whole summary; a diverged model's weights
 * should not crash the logger. An empty (or all non-finite) input gives num = 0 and no buckets.
 */
export function computeHistogram(values: ArrayLike<number>, bucketing: HistogramBucketing = 'tf'): HistogramData {
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    num++;
    sum += v;
    sumSquares += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (num === 0) return { min: 0, max: 0, num: 0, sum: 0, sum_squares: 0, bucket_limit: [], bucket: [] };
  const base = { min, max, num, sum, sum_squares: sumSquares };

  if (bucketing === 'tf') {
    const limits = defaultBucketLimits();
    const counts = new Float64Array(limits.length);
    if (values instanceof Float32Array) countFloat32(values, counts);
    else {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (Number.isFinite(v)) counts[defaultBucketIndex(v)]++;
      }
    }
    // EncodeToProto(preserve_zero_buckets = false): a run of empty buckets collapses into one bucket
    // whose limit is the run's last limit, so only ~2 entries per occupied region are stored.
    const bucketLimit: number[] = [];
    const bucket: number[] = [];
    for (let i = 0; i < counts.length; ) {
      let end = limits[i];
      const count = counts[i];
      i++;
      if (count <= 0) {
        while (i < counts.length && counts[i] <= 0) {
          end = limits[i];
          i++;
        }
      }
      bucketLimit.push(end);
      bucket.push(count);
    }
    return { ...base, bucket_limit: bucketLimit, bucket };
  }

  const k = bucketing;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`histogram bucket count must be a positive integer, got ${k}`);
  if (min === max) return { ...base, bucket_limit: [max], bucket: [num] };
  const width = (max - min) / k;
  const bucket = new Array<number>(k).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) bucket[Math.min(Math.floor((v - min) / width), k - 1)]++;
  }
  const bucketLimit = Array.from({ length: k }, (_, i) => (i === k - 1 ? max : min + (i + 1) * width));
  return { ...base, bucket_limit: bucketLimit, bucket };
}
