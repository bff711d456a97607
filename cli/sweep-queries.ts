// Queries to a running sweep, with a deadline of their own. A query is answered by a workflow worker
// on the sweep's queue; with the last one killed moments ago (before its heartbeat is stale, nothing
// looks missing: cli/worker-liveness.ts), a query waits about 30 s and fails. `status` and
// `watch` ask with a shorter deadline and, when no answer comes, show what the server itself knows.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, isGrpcDeadlineError } from '@temporalio/client';
import { rootMessage } from '../lib/errors';

/** How long a sweep's worker may take to answer; a busy one answers within a second or two. */
export const QUERY_PATIENCE_MS = 10_000;

export type QueryOutcome<T> =
  | { answer: T }
  /** No answer within the deadline: no workflow worker is taking the sweep's tasks. */
  | { timedOut: true }
  /** Refused at once: before the sweep's first workflow task, for one. */
  | { failed: unknown };

export async function querySweep<T>(client: Client, ask: () => Promise<T>, patienceMs = QUERY_PATIENCE_MS, now: () => number = Date.now): Promise<QueryOutcome<T>> {
  const deadline = now() + patienceMs;
  try {
    return { answer: await client.withDeadline(deadline, ask) };
  } catch (error) {
    // At its deadline the call sometimes fails as cancelled ("Call cancelled"), not as past its deadline:
    // either way no answer came in time (a fresh-clone run of cpu-worker-down.test.ts showed the raw words).
    return isGrpcDeadlineError(error) || now() >= deadline ? { timedOut: true } : { failed: error };
  }
}

/** Why a running sweep's figures come from the server: it was not asked (no worker polls its queue), or did not answer. */
export function unansweredLine(outcome: Exclude<QueryOutcome<unknown>, { answer: unknown }> | undefined, patienceMs = QUERY_PATIENCE_MS): string {
  const from = 'figures are from the server (the sweep\'s search attributes, its running trials and their activities)';
  if (!outcome) return `the sweep was not asked for its progress, since no worker polls its queue; ${from}`;
  const why = 'timedOut' in outcome
    ? `did not answer within ${patienceMs / 1000} s: no workflow worker is taking its tasks (its CPU workers stopped, or are overloaded)`
    : `did not answer: ${serverWords(outcome.failed)}`;
  return `the sweep ${why}; ${from}, and it goes on once a CPU worker runs`;
}

/** The server's own words for a refused query ("no poller seen for task queue recently, worker may be down"), without gRPC's code prefix. */
function serverWords(error: unknown): string {
  let e = error as { details?: unknown; cause?: unknown } | undefined;
  while (e && typeof e.details !== 'string' && e.cause) e = e.cause as typeof e;
  return typeof e?.details === 'string' && e.details ? e.details : rootMessage(error);
}

export interface LatestAnswer<T> {
  /** The newest answer so far (kept while later queries go unanswered or fail). */
  answer?: T;
  /** How long the sweep has not answered: since the first query after its last answer (0 once it answers). */
  unansweredMs: number;
}

/**
 * For a poll loop: at most one query in flight, and each poll waits for it at most `waitMs`, so the
 * loop keeps its pace (and shows what else it reads) while a query hangs.
 */
export function latestAnswer<T>(ask: () => Promise<T>, now: () => number = Date.now): (waitMs: number) => Promise<LatestAnswer<T>> {
  let latest: T | undefined;
  let inFlight: Promise<void> | undefined;
  let unansweredSince: number | undefined;
  return async (waitMs) => {
    if (!inFlight) {
      unansweredSince ??= now();
      inFlight = ask().then((answer) => { latest = answer; unansweredSince = undefined; }, () => undefined).finally(() => { inFlight = undefined; });
    }
    const waiting = new AbortController();
    await Promise.race([inFlight, sleep(waitMs, undefined, { signal: waiting.signal }).catch(() => undefined)]);
    waiting.abort();
    return { answer: latest, unansweredMs: unansweredSince === undefined ? 0 : now() - unansweredSince };
  };
}
