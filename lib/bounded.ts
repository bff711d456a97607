// Runs fn over items with at most `limit` in flight, results in input order. Pure and
// deterministic (no timers, no I/O), so workflow code may use it.
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * Promise.all that waits for every promise to settle before throwing the first failure, so no write is
 * left running behind a failed one (a retry then starts from a store nothing else is still changing).
 */
export async function allSettledOrThrow(promises: ReadonlyArray<unknown>): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}
