// Whether a spec's settings fit the data that ingestion found: checked by the balance step before it
// builds anything, and by `sweep validate` on the classes its survey counts. Pure.

/**
 * Samples a balanced set may hold. Its manifest (and the split's) is ~120 bytes of JSON a sample:
 * 360 MB at this size, and past ~4.4M samples more text than a JavaScript string holds, so the balance
 * step failed for ever; at 30M it ran the CPU worker (which runs the workflows too) out of memory.
 */
export const MAX_BALANCED_SAMPLES = 3_000_000;

/** What makes `perClass` samples for each of `classes` (and the grid's `num_classes`) unusable, or undefined. */
export function dataFitProblem(classes: readonly string[], perClass: number, numClassesInGrid: readonly number[]): string | undefined {
  const wrong = numClassesInGrid.filter((n) => n !== classes.length);
  if (wrong.length) {
    return `grid.num_classes ${JSON.stringify(wrong)} disagrees with the data, which has ${classes.length} classes (${classes.join(', ')}); set num_classes to [${classes.length}] or choose classes with data.classes`;
  }
  const samples = perClass * classes.length;
  if (samples > MAX_BALANCED_SAMPLES) {
    return `balance.perClass: ${perClass.toLocaleString('en-US')} images for each of ${classes.length} classes is ${samples.toLocaleString('en-US')} samples, more than the ` +
      `${MAX_BALANCED_SAMPLES.toLocaleString('en-US')} a sweep's manifests can hold; use a perClass of at most ${Math.floor(MAX_BALANCED_SAMPLES / classes.length).toLocaleString('en-US')}`;
  }
  return undefined;
}
