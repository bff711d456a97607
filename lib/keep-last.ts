// One value kept, for the last key asked. For inputs addressed by their content (a manifest whose key is
// its hash), so a kept value is never stale; one is enough, as a worker works on one sweep at a time,
// and a data set's manifest can be large. Pure (no I/O of its own).

/**
 * `make` wrapped to keep its value for the last key: asked again for that key, it returns the kept
 * value. A promise that rejects is not kept: the next call makes it again.
 */
export function keepLast<A extends unknown[], T>(make: (key: string, ...args: A) => T): (key: string, ...args: A) => T {
  let last: { key: string; value: T } | undefined;
  return (key, ...args) => {
    if (last?.key !== key) {
      const entry = { key, value: make(key, ...args) };
      last = entry;
      if (entry.value instanceof Promise) entry.value.catch(() => { if (last === entry) last = undefined; });
    }
    return last.value;
  };
}
