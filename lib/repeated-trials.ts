// A random draw or a bayesian suggestion can repeat a configuration, which is the same trial (its id
// is a hash of its inputs). Within one workflow run the sweep shares the first run's outcome with its
// repeats; across the runs of a sweep that continued as new, the first run's summary is in the parts
// the earlier runs wrote, and the plan carries it. Pure.
import type { TrialPlan, TrialSummary } from './sweep-types';

/** Marks each plan whose trial an earlier run of the sweep ran first (`repeatOf`: that run's outcome). */
export function markRepeats(plans: TrialPlan[], earlier: TrialSummary[]): TrialPlan[] {
  const firsts = new Map<string, TrialSummary>();
  // A repeat's own summary (sameAs) stands for nothing: its first run's does.
  for (const trial of earlier) if (trial.sameAs === undefined && !firsts.has(trial.trialId)) firsts.set(trial.trialId, trial);
  return plans.map((plan) => {
    const first = firsts.get(plan.trialId);
    return first ? { ...plan, repeatOf: first } : plan;
  });
}
