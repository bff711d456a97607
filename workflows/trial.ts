// One trial, durable on its own: train the head (checkpointed, resumable on any GPU worker), then
// score it on the test split. Its summary goes back to the sweep; per-epoch rows stay in S3.
import { ApplicationFailure, patched, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import { FailureType } from '../lib/errors';
import { pct } from '../views/leaderboard-table';
import { TrialSummary } from '../lib/sweep-types';
import { ACTIVITY_RETRY, GpuActivities, TrialWorkflowInput, releaseLeaseSignal } from './contract';
import { acquireTrainingLease } from './training-lease';

export async function trialWorkflow(input: TrialWorkflowInput): Promise<TrialSummary> {
  const gpu = proxyActivities<GpuActivities>({
    taskQueue: input.gpuQueue,
    startToCloseTimeout: '24h',
    // A dead worker stops heartbeating; the next attempt, on any worker, resumes from the checkpoint.
    heartbeatTimeout: `${input.heartbeatTimeoutSeconds}s`,
    retry: ACTIVITY_RETRY,
  });
  const { run, head } = input.trial;
  // patched(): trial workflows started by workers without the lease replay as they ran.
  const lease = patched('training-lease') ? await acquireTrainingLease(input.trial.trialId, (holder) => {
    setCurrentDetails(`**waiting**: another sweep is training this trial (it holds ${holder}); this one then reuses or retrains it`);
  }) : undefined;
  setCurrentDetails(`**training** ${head.n_epochs} epochs; the trainTrial activity's heartbeat holds the current epoch and metrics`);
  const trained = await gpu.trainTrial.executeWithOptions({ summary: `train run ${run}: ${head.n_epochs} epochs` }, [input]);
  await lease?.signal(releaseLeaseSignal);
  if (trained.epochs.length === 0) throw ApplicationFailure.nonRetryable('trial trained no epochs', FailureType.data);
  // The epoch the trial keeps (its head's weights are that epoch's): its best by the objective, or its last.
  const kept = trained.epochs.find((e) => e.epoch === trained.bestEpoch) ?? trained.epochs[trained.epochs.length - 1];
  const keptText = trained.bestEpoch === undefined ? '' : ` (best at epoch ${kept.epoch})`;
  setCurrentDetails(`**evaluating** on the test split; trained ${trained.epochs.length} epochs, val accuracy ${pct(kept.valAccuracy)}${keptText}`);
  const test = await gpu.evaluateTrial.executeWithOptions({ summary: `evaluate run ${run} on the test split` }, [{
    trained,
    hiddenUnits: input.trial.head.hidden_units,
    split: 'test',
    features: input.test,
    splitKey: input.splitKey,
    classes: input.classes,
  }]);
  setCurrentDetails(`**done** · val accuracy ${pct(kept.valAccuracy)}${keptText} · test accuracy ${pct(test.accuracy)}${trained.reused ? ' · reused from an earlier sweep' : ''}`);
  return {
    trialId: trained.trialId,
    run: input.trial.run,
    params: input.trial.params,
    status: 'completed',
    epochsDone: trained.epochs.length,
    ...(trained.bestEpoch === undefined ? {} : { bestEpoch: trained.bestEpoch }),
    trainLoss: kept.trainLoss,
    trainAccuracy: kept.trainAccuracy,
    valLoss: kept.valLoss,
    valAccuracy: kept.valAccuracy,
    test,
    reused: trained.reused,
    resumedFromEpoch: trained.resumedFromEpoch,
    backend: trained.backend,
  };
}
