// What a workflow's history may hold, and how much of it one run of a sweep takes. Temporal refuses a
// history past 51,200 events or 50 MB (it warns from 10,240 events or 10 MB) and a payload past 2 MB
// (the server's defaults: limit.historyCount.error, limit.historySize.error, limit.blobSize.error).
// Pure constants, for the continuation (lib/sweep-continuation.ts) and the checks made before a sweep starts.

/**
 * Trials per run unless a caller says otherwise: ~800 events and ~500 KB of history per run (ASHA: ~1,600
 * and ~700 KB; bayesian: one search-attribute upsert more per batch). Running sweeps replay with it, so a change needs a patch of its own.
 */
export const DEFAULT_TRIALS_PER_RUN = 100;

/** Trials one run of a sweep plans: `trialsPerRun` in whole batches (a bayesian batch is `concurrency` trials). */
export function trialsInRun(trialsPerRun: number, batch = 1): number {
  return Math.ceil(trialsPerRun / batch) * batch;
}

/** Temporal's hard limits (server defaults). */
export const TEMPORAL_LIMITS = { events: 51_200, bytes: 50 * 1024 * 1024, payloadBytes: 2 * 1024 * 1024 } as const;
