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
 * Runs fn over items with at most `limit` in flight, for work with side effects (I/O in activities):
 * after a failure no item is started, and the first failure is thrown once those in flight have settled.
 * With mapBounded the other lanes ran on through every item left (a failed ingest read, decoded and
 * uploaded the rest of its data set beside its retry). Workflows keep mapBounded: replay needs its order.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}

/**
 * Promise.all that waits for every promise to settle before throwing the first failure, so no write is
 * left running behind a failed one (a retry then starts from a store nothing else is still changing).
 */
export async function allSettledOrThrow(promises: ReadonlyArray<unknown>): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}
