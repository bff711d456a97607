// Stratified train/val/test split. Copies of one image (from oversampling) always stay in the same
// split, so no image leaks from train into val or test; per-class fractions are kept to within one group.
import { Sample, SplitName } from './manifest';
import { randomStream, shuffled } from './random';

export type Fractions = Record<SplitName, number>;

export function stratifiedSplit(samples: readonly Sample[], fractions: Fractions, seed: number): Record<SplitName, Sample[]> {
  const out: Record<SplitName, Sample[]> = { train: [], val: [], test: [] };
  const labels = [...new Set(samples.map((s) => s.label))].sort((a, b) => a - b);
  for (const label of labels) {
    const groups = new Map<string, Sample[]>();
    for (const s of samples) if (s.label === label) groups.set(s.sha256, [...(groups.get(s.sha256) ?? []), s]);
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
