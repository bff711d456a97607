// What one trial is given: the same for the sweep workflow's trial children and the benchmark's
// direct calls, so both train exactly the same trials. Pure, so workflows may import it.
import type { SweepFeatures } from './feature-plan';
import type { SweepSpec } from './sweep-spec';
import type { EvaluateInput, SplitSummary, TrialInput, TrialPlan } from './sweep-types';

export function trialInput(sweepId: string, spec: SweepSpec, split: SplitSummary, features: SweepFeatures, plan: TrialPlan): TrialInput {
  return {
    sweepId,
    trial: plan,
    train: features.train,
    val: features.val,
    test: features.test,
    splitKey: split.splitKey,
    seed: spec.seed,
    reuse: spec.reuse,
    heartbeatTimeoutSeconds: spec.heartbeatTimeoutSeconds,
    checkpointEverySeconds: spec.checkpointEverySeconds,
    ...(spec.search?.keepBestEpoch ? { keepBest: spec.search.objective } : {}),
  };
}

/** Scoring a trial's kept head on the test split: done by trainTrial, or by evaluateTrial for trials trained before it was. */
export function testEvaluationInput(input: TrialInput, trained: EvaluateInput['trained']): EvaluateInput {
  return { trained, hiddenUnits: input.trial.head.hidden_units, split: 'test', features: input.test, splitKey: input.splitKey, ...input.classes ? { classes: input.classes } : {} };
}

/**
 * The spec as planning is given it, without the data set's class names: a bayesian sweep plans once per
 * batch, and names listed in `data.classes` rode in every plan's input (planning needs only their number).
 */
export function planningSpec(spec: SweepSpec): SweepSpec {
  const { classes: _, ...data } = spec.data;
  return { ...spec, data };
}
