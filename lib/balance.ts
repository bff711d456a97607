// Balancing to N samples per class: subsample without replacement above N; below N keep every
// image once and draw the rest with replacement. Deterministic for a seed.
import { ImageRef, Sample } from './manifest';
import { groupBy } from './group-by';
import { randomInt, randomStream, shuffled } from './random';

export function balanceClasses(images: readonly ImageRef[], classes: readonly string[], perClass: number, seed: number): Sample[] {
  const samples: Sample[] = [];
  const byClass = groupBy(images, (image) => image.label);
  classes.forEach((className, label) => {
    const members = (byClass.get(className) ?? []).map((image) => image.sha256).sort();
    if (members.length === 0) throw new Error(`class "${className}" has no images; remove it from data.classes or add images`);
    const random = randomStream(seed, 'balance', className);
    const order = shuffled(members, random);
    if (order.length >= perClass) {
      for (const sha256 of order.slice(0, perClass)) samples.push({ sha256, label, copy: 0 });
      return;
    }
    const copies = new Map<string, number>();
    for (let i = 0; i < perClass; i++) {
      const sha256 = i < order.length ? order[i] : order[randomInt(random, order.length)];
      const copy = copies.get(sha256) ?? 0;
      copies.set(sha256, copy + 1);
      samples.push({ sha256, label, copy });
    }
  });
  return samples;
}
