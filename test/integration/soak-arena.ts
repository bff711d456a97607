// Where the soak (soak.ts) runs its sweeps and how it breaks them: a private dev stack with its
// workers as processes, or the cluster profile with its nodes (soak-cluster.ts).
import { SweepStore } from './search-runs';

/** The soak's seeded draws, shared by every arena so that a seed replays the same faults. */
export interface Chance {
  between(low: number, high: number): number;
  pick<T>(items: readonly T[]): T;
}

export interface FaultDone { what: string; problem?: string }

export interface Arena {
  /** Where sweeps run and what they stored: its bucket keeps every version of every object (trainingRecord). */
  readonly store: SweepStore;
  /** Its nodes' queues; a sweep's spec names them (the suggest queue where one is given). */
  readonly queues: { cpuQueue: string; gpuQueue: string; suggestQueue?: string };
  /** The kinds of fault asked for that it can inject. */
  readonly faults: readonly string[];
  /** Injects `fault`, waits until everything is whole again, and says what it did (and what went wrong, if anything did). */
  inject(fault: string): Promise<FaultDone>;
  /** `sweep status` of a sweep that has not ended by its deadline, for the report. */
  status(workflowId: string): Promise<string>;
  /** Stops what it started: the worker processes that exited on their own (each a problem), and its figures for the summary. */
  close(): Promise<{ exitedOnTheirOwn: string[]; figures: Record<string, unknown> }>;
}
