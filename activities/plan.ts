// Planning the trials: one per permutation of the grid, each with a content id built from
// everything that determines its result, so identical trials are recognised across sweeps.
import { contentId } from '../lib/content-id';
import { expandGrid } from '../lib/grid';
import { FeatureSetRef, TrialPlan } from '../lib/sweep-types';
import { headParams } from '../lib/head-params';
import { SweepSpec } from '../lib/sweep-spec';

/** Bump when a change to training changes results, so old trials are not reused for new code. */
export const TRAINING_CODE_VERSION = 'head-v2'; // v2: hand-written gradients, TensorFlow's Adam update form

export interface PlanInput {
  spec: SweepSpec;
  classes: string[];
  train: FeatureSetRef[];
  val: FeatureSetRef;
}

export async function planTrials(input: PlanInput): Promise<TrialPlan[]> {
  return expandGrid(input.spec.grid).map((params, i) => {
    const head = headParams(params, input.classes.length);
    return {
      trialId: contentId({ code: TRAINING_CODE_VERSION, seed: input.spec.seed, train: input.train.map((f) => f.id), val: input.val.id, params, head }),
      run: i + 1,
      params,
      head,
    };
  });
}
