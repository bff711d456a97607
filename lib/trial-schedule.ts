// How a sweep runs its planned trials: at most `concurrency` of them training at once. A trial whose
// result was found when it was planned is most likely reused, which costs a few workflow tasks and no
// training slot, so those run beside the bound, up to REUSED_IN_FLIGHT at once: a rerun of a finished
// sweep is not paced like a sweep that trains. (Should such a trial train after all, its stored head
// gone, it trains beside the bound; the GPU workers' own slots still bound what runs.) Pure and
// deterministic, so workflow code may use it.
import { mapBounded } from './bounded';
import { TrialPlan } from './sweep-types';

export const REUSED_IN_FLIGHT = 16;

/** Runs every plan with `run`; results in plan order. Trials to train start first. */
export async function runPlannedTrials<R>(plans: readonly TrialPlan[], concurrency: number, run: (plan: TrialPlan) => Promise<R>): Promise<R[]> {
  const found = plans.filter((plan) => plan.resultFound);
  // Without marks (reuse off, nothing stored), exactly the order of a plain bounded run.
  if (found.length === 0) return mapBounded(plans, concurrency, run);
  const toTrain = plans.filter((plan) => !plan.resultFound);
  const [trained, reused] = await Promise.all([mapBounded(toTrain, concurrency, run), mapBounded(found, REUSED_IN_FLIGHT, run)]);
  const byPlan = new Map<TrialPlan, R>([...toTrain.map((plan, i) => [plan, trained[i]] as const), ...found.map((plan, i) => [plan, reused[i]] as const)]);
  return plans.map((plan) => byPlan.get(plan)!);
}
