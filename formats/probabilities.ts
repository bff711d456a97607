// A head's probabilities on a split, beside its evaluation: row-major (rows × classes) float32,
// little-endian, no header (the evaluation's JSON gives rows and classes). As JSON numbers they were
// ~25 bytes each: 95 MB a trial on 200 classes, and past ~20M values (about 475 classes at the default
// balance) more text than a JavaScript string holds, so the evaluation could not be stored at all.

/** exp() of each log-probability, as the stored bytes. */
export function encodeProbabilities(logProbs: Float32Array): Uint8Array {
  const bytes = new Uint8Array(logProbs.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < logProbs.length; i++) view.setFloat32(i * 4, Math.exp(logProbs[i]), true);
  return bytes;
}

/** The stored probabilities, row-major; throws when the bytes are not `rows` × `classes` of them. */
export function decodeProbabilities(bytes: Uint8Array, rows: number, classes: number): Float32Array {
  if (bytes.byteLength !== rows * classes * 4) throw new Error(`probabilities file has ${bytes.byteLength} bytes, not ${rows} rows × ${classes} classes × 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: rows * classes }, (_, i) => view.getFloat32(i * 4, true));
}
