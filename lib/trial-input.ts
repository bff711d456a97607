// What one trial is given: the same for the sweep workflow's trial children and the benchmark's
// direct calls, so both train exactly the same trials. Pure, so workflows may import it.
import type { SweepFeatures } from './feature-plan';
import type { SweepSpec } from './sweep-spec';
import type { SplitSummary, TrialInput, TrialPlan } from './sweep-types';

export function trialInput(sweepId: string, spec: SweepSpec, split: SplitSummary, features: SweepFeatures, plan: TrialPlan): TrialInput {
  return {
    sweepId,
    trial: plan,
    train: features.train,
    val: features.val,
    test: features.test,
    splitKey: split.splitKey,
    classes: split.classes,
    seed: spec.seed,
    reuse: spec.reuse,
    heartbeatTimeoutSeconds: spec.heartbeatTimeoutSeconds,
    checkpointEverySeconds: spec.checkpointEverySeconds,
    ...(spec.search?.keepBestEpoch ? { keepBest: spec.search.objective } : {}),
  };
}
