// At most one training of a trial at a time, across sweeps. Trial ids are deterministic, so two
// sweeps that share a trial would otherwise both train it, writing the same checkpoints. A trial
// workflow trains only while it holds the trial's lease: a child workflow whose id is the trial id.
// Temporal allows one running workflow per id, so a second holder cannot start; and the lease closes
// with its holder (parent close policy: terminated when the trial ends, however it ends), so a
// crashed, cancelled or terminated sweep never keeps it.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ChildWorkflowHandle, ParentClosePolicy, condition, setHandler, sleep, startChild, workflowInfo,
} from '@temporalio/workflow';
import { releaseLeaseSignal } from './contract';

/** Runs until its holder closes (or, for trials started before they held it to their end, until released). */
export async function trainingLeaseWorkflow(): Promise<void> {
  let released = false;
  setHandler(releaseLeaseSignal, () => { released = true; });
  await condition(() => released);
}

export function trainingLeaseId(trialId: string): string {
  return `training-lease.${trialId}`;
}

/**
 * A trial's hold on its lease: taken before it trains; given back while it waits long at an
 * early-stopping rung and taken again to train on (see `trialWorkflow`); closed with the trial.
 */
export class TrainingLease {
  private constructor(
    private readonly trialId: string,
    private readonly onWait: (holderLeaseId: string) => void,
    private handle: ChildWorkflowHandle<typeof trainingLeaseWorkflow> | undefined,
  ) {}

  static async take(trialId: string, onWait: (holderLeaseId: string) => void): Promise<TrainingLease> {
    return new TrainingLease(trialId, onWait, await acquireTrainingLease(trialId, onWait));
  }

  get held(): boolean {
    return this.handle !== undefined;
  }

  /** Ends the lease workflow, so another sweep's trial can take it. */
  async release(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.signal(releaseLeaseSignal);
  }

  /** Takes the lease again after `release`, waiting while another workflow holds it. */
  async retake(): Promise<void> {
    this.handle ??= await acquireTrainingLease(this.trialId, this.onWait);
  }
}

/**
 * Takes the trial's lease, waiting while another workflow holds it (backing off to a check every
 * 30 s, so a long wait adds little history). `onWait` is told who holds it, once per wait.
 */
async function acquireTrainingLease(trialId: string, onWait: (holderLeaseId: string) => void): Promise<ChildWorkflowHandle<typeof trainingLeaseWorkflow>> {
  const workflowId = trainingLeaseId(trialId);
  for (let seconds = 1; ; seconds = Math.min(30, seconds * 2)) {
    try {
      return await startChild(trainingLeaseWorkflow, {
        workflowId,
        taskQueue: workflowInfo().taskQueue,
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        staticSummary: `training lease of trial ${trialId}, held by ${workflowInfo().workflowId}`,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      if (seconds === 1) onWait(workflowId);
      await sleep(`${seconds}s`);
    }
  }
}
