// The head's state as stored in checkpoints and as a trial's final weights: one format, written by
// training and read by training (resume), evaluation and export. Lives beside the head because its
// layout is the head's tensor shapes.
import { AdamState, HeadArrays, HeadShape, headTensorShapes } from './head';

/** Weights, then Adam's first and second moments: twelve float32 arrays back to back. */
export function encodeState(weights: HeadArrays, adam: AdamState): Uint8Array {
  const arrays = [...weights, ...adam.firstMoment, ...adam.secondMoment];
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) { out.set(a, offset); offset += a.length; }
  return new Uint8Array(out.buffer);
}

export function decodeState(shape: HeadShape, bytes: Uint8Array, adamStep: number): { weights: HeadArrays; adam: AdamState } {
  const sizes = headTensorShapes(shape).map((s) => s.reduce((a, b) => a * b, 1));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const expected = sizes.reduce((a, b) => a + b, 0) * 3;
  if (all.length !== expected) throw new Error(`checkpoint holds ${all.length} values, the head needs ${expected}`);
  let offset = 0;
  const take = () => sizes.map((n) => all.slice(offset, (offset += n))) as HeadArrays;
  const weights = take();
  return { weights, adam: { step: adamStep, firstMoment: take(), secondMoment: take() } };
}
