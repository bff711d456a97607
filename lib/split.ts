// Stratified train/val/test split. Copies of one image (from oversampling) always stay in the same
// split, so no image leaks from train into val or test; per-class fractions are kept to within one group.
import { Sample, SplitName } from './manifest';
import { groupBy } from './group-by';
import { randomStream, shuffled } from './random';

export type Fractions = Record<SplitName, number>;

/** Distinct images a class needs: one per split, since copies of one image stay in one split. */
export const MIN_IMAGES_PER_CLASS = 3;

export function stratifiedSplit(samples: readonly Sample[], fractions: Fractions, seed: number): Record<SplitName, Sample[]> {
  const out: Record<SplitName, Sample[]> = { train: [], val: [], test: [] };
  const byLabel = groupBy(samples, (s) => s.label);
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const groups = groupBy(byLabel.get(label)!, (s) => s.sha256);
    const order = shuffled([...groups.keys()].sort(), randomStream(seed, 'split', label));
    const total = [...groups.values()].reduce((n, g) => n + g.length, 0);
    const valTarget = Math.round(total * fractions.val);
    const testTarget = Math.round(total * fractions.test);
    let val = 0;
    let test = 0;
    for (const sha256 of order) {
      const group = groups.get(sha256)!;
      // Fill the small splits first so they get their share; train takes the rest.
      const split: SplitName = val < valTarget ? 'val' : test < testTarget ? 'test' : 'train';
      if (split === 'val') val += group.length;
      if (split === 'test') test += group.length;
      out[split].push(...group);
    }
  }
  return out;
}

/**
 * Classes a split got no sample of, with how many distinct images each has: copies of one image stay
 * in one split, so a class of fewer distinct images than splits leaves one without it (with 1 or 2,
 * the train split: a head that never sees the class, scored on it).
 */
export function classesMissingFromSplits(splits: Record<SplitName, Sample[]>, samples: readonly Sample[]): Array<{ label: number; split: SplitName; distinct: number }> {
  const classes = [...groupBy(samples, (s) => s.label)].map(([label, group]) => ({ label, distinct: new Set(group.map((s) => s.sha256)).size })).sort((a, b) => a.label - b.label);
  return (['train', 'val', 'test'] as const).flatMap((split) => {
    const present = new Set(splits[split].map((s) => s.label));
    return classes.filter(({ label }) => !present.has(label)).map((c) => ({ ...c, split }));
  });
}
