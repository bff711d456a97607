// The head's state as stored in checkpoints (weights and Adam moments, for resuming) and a trial's
// head (its weights alone, for evaluation, reuse and export). Lives beside the head because its layout
// is the head's tensor shapes.
import { AdamState, HeadArrays, HeadShape, headTensorShapes } from './head';

/** Weights, then Adam's first and second moments: twelve float32 arrays back to back. */
export function encodeState(weights: HeadArrays, adam: AdamState): Uint8Array {
  return concatenated([...weights, ...adam.firstMoment, ...adam.secondMoment]);
}

/** A trial's head as stored: its four weight arrays back to back, the first part of its state. */
export function encodeHeadWeights(weights: HeadArrays): Uint8Array {
  return concatenated(weights);
}

export function decodeState(shape: HeadShape, bytes: Uint8Array, adamStep: number): { weights: HeadArrays; adam: AdamState } {
  const sizes = tensorSizes(shape);
  const all = floats(bytes);
  const expected = sum(sizes) * 3;
  if (all.length !== expected) throw new Error(`checkpoint holds ${all.length} values, the head needs ${expected}`);
  const take = arraysFrom(all, sizes);
  const weights = take();
  return { weights, adam: { step: adamStep, firstMoment: take(), secondMoment: take() } };
}

/** The head's weights in a state's bytes (a view, not a copy): what encodeHeadWeights makes of them. */
export function headWeightsBytes(shape: HeadShape, state: Uint8Array): Uint8Array {
  return state.subarray(0, sum(tensorSizes(shape)) * 4);
}

/**
 * A trial's stored head: its weights, or its whole state, as heads were stored before (Adam's moments
 * after the weights, three times the bytes; nothing read them).
 */
export function decodeHeadWeights(shape: HeadShape, bytes: Uint8Array): HeadArrays {
  const sizes = tensorSizes(shape);
  const all = floats(bytes);
  const weights = sum(sizes);
  if (all.length !== weights && all.length !== weights * 3) {
    throw new Error(`the head's weights hold ${all.length} values, the head needs ${weights} (or ${weights * 3} with Adam's moments, as stored before)`);
  }
  return arraysFrom(all, sizes)();
}

function concatenated(arrays: Float32Array[]): Uint8Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) { out.set(a, offset); offset += a.length; }
  return new Uint8Array(out.buffer);
}

function tensorSizes(shape: HeadShape): number[] {
  return headTensorShapes(shape).map((s) => s.reduce((a, b) => a * b, 1));
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function floats(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Takes the head's four arrays from `all`, one set per call, in order. */
function arraysFrom(all: Float32Array, sizes: number[]): () => HeadArrays {
  let offset = 0;
  return () => sizes.map((n) => all.slice(offset, (offset += n))) as HeadArrays;
}
