// Shared by the tests that break things on purpose (resilience.test.ts, cluster.test.ts): the
// "[figure]" lines the docs report, what two runs of the same trial must have in common, how long a
// trial must be to outlast a fault, and what a trial workflow was started with (sweep.test.ts too).
import os from 'node:os';
import { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { EpochMetrics } from '../../lib/epoch-rows';
import { TrialInput } from '../../lib/sweep-types';

/** Per-epoch metrics without the wall-clock columns, which differ between any two runs. */
export const metricsOf = (epochs: EpochMetrics[]) => epochs.map(({ epochDuration: _d, runDuration: _r, ...m }) => m);

/**
 * Epochs for a trial that trains for about `seconds` here, at the pace of a finished trial's `epochs`
 * (in hundreds, and never fewer than it had). The same 2 cores have trained a test's trial in 5 s and in
 * 15 s, and a trial that ends before its fault is over shows nothing.
 */
export function epochsLasting(seconds: number, epochs: readonly EpochMetrics[]): number {
  const perSecond = epochs.length / epochs.at(-1)!.runDuration;
  return Math.max(epochs.length, Math.ceil((seconds * perSecond) / 100) * 100);
}

/** What a trial workflow was started with, from its history. */
export async function trialInputOf(trialWorkflow: WorkflowHandle): Promise<TrialInput> {
  const [started] = (await trialWorkflow.fetchHistory()).events ?? [];
  return defaultPayloadConverter.fromPayload<TrialInput>(started.workflowExecutionStartedEventAttributes!.input!.payloads![0]);
}

/** The trial a trial workflow trains, from its input. */
export async function trialIdOf(trialWorkflow: WorkflowHandle): Promise<string> {
  return (await trialInputOf(trialWorkflow)).trial.trialId;
}

/**
 * Figures printed as they are measured and kept for the summary at the end of the file. Each carries
 * the machine's 1-minute load average when it was taken: timings here vary with the load.
 */
export class Figures {
  private readonly lines: string[] = [];

  add(text: string): void {
    const line = `${text} [load ${os.loadavg()[0].toFixed(1)}]`;
    this.lines.push(line);
    console.log(`[figure] ${line}`);
  }

  summary(): string {
    return `[figure] summary\n  ${this.lines.join('\n  ')}`;
  }
}
