// One trial, durable on its own: train the head (checkpointed, resumable on any GPU worker) and score
// it on the test split, in one activity. Its summary goes back to the sweep; per-epoch rows stay in S3.
// With early stopping it trains rung by rung, and the sweep decides at each rung whether it goes on.
import {
  type ActivityInterfaceFor, ApplicationFailure, condition, getExternalWorkflowHandle, patched, proxyActivities, setCurrentDetails, setHandler, workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../lib/errors';
import { StopDecision, decisionEpochs } from '../lib/search/early-stopping';
import { objectiveValue } from '../lib/search/objective';
import { pct } from '../views/leaderboard-table';
import { TestScores, TrainResult, TrialSummary } from '../lib/sweep-types';
import { testEvaluationInput } from '../lib/trial-input';
import { ACTIVITY_RETRY, GpuActivities, TrialWorkflowInput, epochsReportedSignal, stopDecisionSignal } from './contract';
import { TrainingLease } from './training-lease';

/** Marks the trials whose lease ends when they do: those started before it released it by signal after training. */
const LEASE_CLOSES_WITH_TRIAL_PATCH = 'trial-lease-closes-with-trial';
/** Marks the trials that give their lease back during a long wait at a rung: those started before held it. */
const LEASE_FREED_AT_RUNG_PATCH = 'trial-lease-freed-at-rung';
/**
 * How long a trial waits at a rung for its decision still holding its lease. A decision waits for the
 * sweep's earlier trials, which may wait for leases held by another sweep's trials waiting at their
 * rungs for that sweep's earlier trials: two sweeps that share trials in different orders could wait
 * on each other for ever. Giving the lease back breaks every such cycle; most decisions come sooner.
 */
const RUNG_WAIT_HOLDING_LEASE = '10s';

type Train = (input: TrialWorkflowInput, summary: string) => Promise<TrainResult>;

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
  const lease = patched('training-lease') ? await TrainingLease.take(input.trial.trialId, (holder) => {
    setCurrentDetails(`**waiting**: another sweep is training this trial (it holds ${holder}); this one then reuses or trains on from what it stored`);
  }) : undefined;
  setCurrentDetails(`**training** ${head.n_epochs} epochs; the trainTrial activity's heartbeat holds the current epoch and metrics`);
  // Training scores the test split too. No patch: replay takes the branch below from the recorded
  // result, and a trial started before (or trained by an older worker) gets none and calls evaluateTrial.
  const train: Train = (trialInput, summary) => gpu.trainTrial.executeWithOptions({ summary }, [{ ...trialInput, evaluateTest: true }]);
  const { trained, stopped } = input.stopping
    ? await trainRungByRung(input, train, lease)
    : { trained: await train(input, `train run ${run}: ${head.n_epochs} epochs`), stopped: undefined };
  // The lease closes with this workflow (parent close policy), so it is held through the test evaluation.
  // Trials started before that released it here by signal: one more workflow task for both workflows.
  if (!patched(LEASE_CLOSES_WITH_TRIAL_PATCH)) await lease?.release();
  if (trained.epochs.length === 0) throw ApplicationFailure.nonRetryable('trial trained no epochs', FailureType.data);
  // The epoch the trial keeps (its head's weights are that epoch's): its best by the objective, or its last.
  const kept = trained.epochs.find((e) => e.epoch === trained.bestEpoch) ?? trained.epochs[trained.epochs.length - 1];
  const keptText = trained.bestEpoch === undefined ? '' : ` (best at epoch ${kept.epoch})`;
  const test = trained.test ?? await evaluateOnTest(gpu, input, trained, `trained ${trained.epochs.length} epochs, val accuracy ${pct(kept.valAccuracy)}${keptText}`);
  const stoppedText = stopped ? ` · ${stopped.reason}` : '';
  setCurrentDetails(`**${stopped ? 'stopped' : 'done'}**${stoppedText} · val accuracy ${pct(kept.valAccuracy)}${keptText} · test accuracy ${pct(test.accuracy)}${trained.reused ? ' · reused from an earlier sweep' : ''}`);
  return {
    trialId: trained.trialId,
    run: input.trial.run,
    params: input.trial.params,
    status: stopped ? 'stopped' : 'completed',
    ...(stopped ? { stopped } : {}),
    epochsDone: trained.epochs.length,
    ...(trained.bestEpoch === undefined ? {} : { bestEpoch: trained.bestEpoch }),
    trainLoss: kept.trainLoss,
    trainAccuracy: kept.trainAccuracy,
    valLoss: kept.valLoss,
    valAccuracy: kept.valAccuracy,
    test,
    reused: trained.reused,
    headKey: trained.headKey,
    resumedFromEpoch: trained.resumedFromEpoch,
    backend: trained.backend,
    ...(trained.node ? { node: trained.node } : {}),
  };
}

async function evaluateOnTest(gpu: ActivityInterfaceFor<GpuActivities>, input: TrialWorkflowInput, trained: TrainResult, progress: string): Promise<TestScores> {
  setCurrentDetails(`**evaluating** on the test split; ${progress}`);
  return gpu.evaluateTrial.executeWithOptions({ summary: `evaluate run ${input.trial.run} on the test split` }, [testEvaluationInput(input, trained)]);
}

/**
 * Trains to each decision epoch, reports the objective's values to the sweep and waits for its
 * decision; the trial ends at the first stop, or trains on to its last epoch.
 */
async function trainRungByRung(input: TrialWorkflowInput, train: Train, lease: TrainingLease | undefined): Promise<{ trained: TrainResult; stopped?: TrialSummary['stopped'] }> {
  const { rule, objective } = input.stopping!;
  const { run, trialId, head } = input.trial;
  const decisions = new Map<number, StopDecision>();
  // Each segment resumes from the previous one's checkpoint by design; only a resume past a
  // segment's start (a retried attempt) is a resume worth reporting.
  let resumed = 0;
  // `doing` is shown once the lease is held again (while it waits for it, the details say so).
  const segment = async (from: number, trialInput: TrialWorkflowInput, summary: string, doing: string) => {
    await lease?.retake();
    setCurrentDetails(doing);
    const trained = await train(trialInput, summary);
    if (trained.resumedFromEpoch > from) resumed = trained.resumedFromEpoch;
    return { ...trained, resumedFromEpoch: resumed };
  };
  let from = 0;
  setHandler(stopDecisionSignal, (decision) => { decisions.set(decision.epoch, decision); });
  // No run id: the signal reaches whichever run of the sweep is current.
  const sweep = getExternalWorkflowHandle(workflowInfo().parent!.workflowId);
  for (const epoch of decisionEpochs(rule, head.n_epochs)) {
    let trained = await segment(from, { ...input, untilEpoch: epoch }, `train run ${run} to epoch ${epoch} of ${head.n_epochs}`,
      `**training** to epoch ${epoch} of ${head.n_epochs}; then the sweep decides whether it goes on (${rule.rule})`);
    from = epoch;
    const values = trained.epochs.map((e) => objectiveValue(e, objective)).map((v) => (Number.isNaN(v) ? null : v));
    await sweep.signal(epochsReportedSignal, { run, trialId, epoch, values });
    setCurrentDetails(`**waiting** at epoch ${epoch} for the sweep's ${rule.rule} decision: it is made once every earlier trial has reached epoch ${epoch}, stopped or ended`);
    const decided = () => decisions.has(epoch);
    if (lease?.held && patched(LEASE_FREED_AT_RUNG_PATCH) && !await condition(decided, RUNG_WAIT_HOLDING_LEASE)) {
      await lease.release();
      setCurrentDetails(`**waiting** at epoch ${epoch} for the sweep's ${rule.rule} decision, its training lease given back meanwhile (taken again to train on): the decision is made once every earlier trial has reached epoch ${epoch}, stopped or ended`);
    }
    await condition(decided);
    const decision = decisions.get(epoch)!;
    if (decision.stop) {
      // A stored result that went further holds a later epoch's head: train this trial's own up to here.
      if (trained.storedEpochs) {
        trained = await segment(epoch, { ...input, untilEpoch: epoch, reuse: false, endsHere: true }, `train run ${run} again to epoch ${epoch}, where it stopped`,
          `**training** again to epoch ${epoch}, where the sweep stopped it (the stored result went further: its head is a later epoch's)`);
      }
      return { trained, stopped: { epoch, rule: rule.rule, reason: decision.reason } };
    }
  }
  return { trained: await segment(from, input, `train run ${run} on to epoch ${head.n_epochs}`, `**training** on to epoch ${head.n_epochs}`) };
}
