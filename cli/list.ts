// `sweep list`: the newest sweeps from Temporal's visibility store, with the search attributes each
// sweep keeps current (stage, trial counts, best val accuracy) and its memo (what it is ranked by), so
// no worker needs to answer a query.
import type { Client } from '@temporalio/client';
import { connectClient } from '../platform/temporal-connection';
import { Objective, parseObjective } from '../lib/search/objective';
import { alignColumns, pct, rankedOtherwise } from '../views/leaderboard-table';
import { SEARCH_ATTRIBUTES, SweepMemo, sweepWorkflow } from '../workflows';
import { EXIT } from './commands';

/** One row of the stable `sweep list --json` document. */
export interface SweepListEntry {
  sweepId: string;
  name?: string;
  /** Temporal's execution status. */
  status: string;
  /** The stage the sweep last reported (done, cancelled, training, ...). */
  stage?: string;
  trialsDone?: number;
  trialsRunning?: number;
  trialsFailed?: number;
  /** The val accuracy of the best trial by `objective` (which need not be the highest). */
  bestValAccuracy?: number;
  /** What the trials are ranked by; absent for a sweep started before its memo said so. */
  objective?: Objective;
  startTime: string;
  closeTime?: string;
}

export async function listSweeps(limit: number): Promise<SweepListEntry[]> {
  const client = await connectClient();
  try {
    return await sweepEntries(client, limit);
  } finally {
    await client.connection.close();
  }
}

/** The newest `limit` sweeps that `client`'s namespace lists, each started when its first run was. */
export async function sweepEntries(client: Client, limit: number): Promise<SweepListEntry[]> {
  const entries: SweepListEntry[] = [];
  // A sweep that continued as new has a closed run per chunk: only its current run is the sweep.
  for await (const w of client.workflow.list({ query: `WorkflowType = "${sweepWorkflow.name}" AND ExecutionStatus != "ContinuedAsNew"` })) {
    const attr = w.typedSearchAttributes;
    entries.push({
      sweepId: w.workflowId,
      name: attr.get(SEARCH_ATTRIBUTES.name),
      status: w.status.name,
      stage: attr.get(SEARCH_ATTRIBUTES.status),
      trialsDone: attr.get(SEARCH_ATTRIBUTES.done),
      trialsRunning: attr.get(SEARCH_ATTRIBUTES.running),
      trialsFailed: attr.get(SEARCH_ATTRIBUTES.failed),
      bestValAccuracy: attr.get(SEARCH_ATTRIBUTES.best),
      ...objectiveOfMemo(w.memo),
      startTime: w.startTime.toISOString(),
      ...(w.closeTime ? { closeTime: w.closeTime.toISOString() } : {}),
    });
    if (entries.length >= limit) break;
  }
  // The current run's start is when the sweep last continued as new: its earlier runs, one listing for
  // all the sweeps above, say when it started. (Ids with quotes or backslashes are left out of the
  // query rather than escaped; those sweeps show their current run's start.)
  const ids = entries.map((e) => e.sweepId).filter((id) => !/["'\\]/.test(id));
  if (!ids.length) return entries;
  const earlier: EarlierRun[] = [];
  const query = `WorkflowType = "${sweepWorkflow.name}" AND ExecutionStatus = "ContinuedAsNew" AND WorkflowId IN (${ids.map((id) => `"${id}"`).join(', ')})`;
  for await (const w of client.workflow.list({ query })) {
    if (w.closeTime) earlier.push({ sweepId: w.workflowId, startTime: w.startTime.toISOString(), closeTime: w.closeTime.toISOString() });
  }
  return startedWithFirstRun(entries, earlier);
}

/** A closed run of a sweep that continued as new. */
export interface EarlierRun {
  sweepId: string;
  startTime: string;
  /** When it continued as new: the start of the run after it. */
  closeTime: string;
}

/**
 * Each entry's startTime made its sweep's: the chain of runs followed back from its current run, each
 * run the one that closed as the next started. An id used again for a new sweep after an earlier one
 * ended has that sweep's runs too: they end before the new chain starts, so they are not followed.
 */
export function startedWithFirstRun(entries: SweepListEntry[], earlier: readonly EarlierRun[]): SweepListEntry[] {
  const key = (sweepId: string, time: string) => `${sweepId}\n${time}`;
  const runBefore = new Map(earlier.map((run) => [key(run.sweepId, run.closeTime), run.startTime]));
  return entries.map((e) => {
    let started = e.startTime;
    for (;;) {
      const previous = runBefore.get(key(e.sweepId, started));
      // Each step goes back in time, so the walk ends (a run that closed as it started would not).
      if (previous === undefined || previous >= started) break;
      started = previous;
    }
    return started === e.startTime ? e : { ...e, startTime: started };
  });
}

/** The objective a sweep's memo holds, if it holds a valid one (SweepMemo). */
export function objectiveOfMemo(memo: Record<string, unknown> | undefined): Pick<SweepListEntry, 'objective'> {
  const raw = (memo as Partial<SweepMemo> | undefined)?.objective;
  if (raw === undefined) return {};
  const { objective, problems } = parseObjective(raw);
  return problems.length ? {} : { objective };
}

export function formatSweepList(entries: SweepListEntry[]): string {
  if (!entries.length) return 'no sweeps yet; start one with: sweep start examples/demo-sweep.json';
  const count = (n: number | undefined) => (n === undefined ? '-' : String(n));
  // Where a listed sweep is ranked by something else (as rankedOtherwise says for status), best_val_acc is its best trial's by that: a column says by what.
  const byOther = entries.some((e) => rankedOtherwise(e.objective));
  const ranked = (o: Objective | undefined) => (o ? `${o.metric} ${o.direction}` : '-');
  return alignColumns(['sweep', 'status', 'stage', 'done', 'running', 'failed', 'best_val_acc', ...(byOther ? ['ranked_by'] : []), 'started (UTC)'], entries.map((e) => [
    e.sweepId, e.status, e.stage ?? '-', count(e.trialsDone), count(e.trialsRunning), count(e.trialsFailed), pct(e.bestValAccuracy),
    ...(byOther ? [ranked(e.objective)] : []), e.startTime.replace('T', ' ').slice(0, 19),
  ]));
}

export async function list(limit: number, json: boolean): Promise<number> {
  const entries = await listSweeps(limit);
  console.log(json ? JSON.stringify(entries, null, 2) : formatSweepList(entries));
  return EXIT.ok;
}
