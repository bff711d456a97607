// Grouping in one pass: per-key filters over a data set (a class, an image) cost its size times the
// number of keys, which at ImageNet's size (1.28M images, 1,000 classes) blocked a worker for minutes. Pure.

/** The items by key, each group in input order, keys in order of first appearance: Map.groupBy, which Node 20 (package.json's engines) lacks. */
export function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
