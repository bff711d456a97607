// Planning the trials: one per permutation of the grid, per random draw of the search space, or per
// suggestion of a bayesian batch, each with a content id built from everything that determines its
// result, so identical trials are recognised across sweeps. With reuse on, each plan also says
// whether that trial's result is already stored.
import { artifactKeys } from '../lib/artifact-keys';
import { mapBounded } from '../lib/bounded';
import { contentId } from '../lib/content-id';
import { Params, expandGrid } from '../lib/grid';
import { headParams } from '../lib/head-params';
import { keepLast } from '../lib/keep-last';
import { markRepeats } from '../lib/repeated-trials';
import { sampleConfig } from '../lib/search/space';
import { FeatureSetRef, TrialPlan } from '../lib/sweep-types';
import { SweepSpec } from '../lib/sweep-spec';
import { objectExists } from '../platform/storage';
import { readTrialParts } from './results';

/** Bump when a change to training changes results, so old trials are not reused for new code. */
export const TRAINING_CODE_VERSION = 'head-v2'; // v2: hand-written gradients, TensorFlow's Adam update form

/** What planning needs of the data is its number of classes (plans asked for before 2026-12-08 were given the class names). */
export type PlanInput = PlanFields & ({ numClasses: number } | { classes: string[] });

interface PlanFields {
  spec: SweepSpec;
  train: FeatureSetRef[];
  val: FeatureSetRef;
  /** A bayesian search's batch: its suggested configurations, planned as runs firstRun, firstRun + 1, ... */
  suggested?: { configs: Params[]; firstRun: number };
  /** A grid or random search planned a chunk at a time (a sweep that continues as new): runs first .. first + count - 1. */
  runs?: { first: number; count: number };
  /** A later run of a sweep that continued as new: the trial summary parts its earlier runs wrote, where a trial planned again is found. */
  earlier?: { sweepId: string; parts: number };
}

/** Existence checks in flight at once: a chunk of a large search has hundreds of trials. */
const CHECKS_IN_FLIGHT = 16;

/**
 * The earlier runs' trial summaries, kept between plans: a later run of a bayesian sweep plans a batch at
 * a time, and the parts (written once, before the sweep continued as new) do not change.
 */
const earlierTrials = keepLast((_sweepAndParts: string, earlier: NonNullable<PlanInput['earlier']>) => readTrialParts(earlier.sweepId, earlier.parts));

export async function planTrials(input: PlanInput): Promise<TrialPlan[]> {
  const { earlier } = input;
  const plans = earlier ? markRepeats(trialPlans(input), await earlierTrials(`${earlier.sweepId}#${earlier.parts}`, earlier)) : trialPlans(input);
  if (!input.spec.reuse) return plans;
  const found = await mapBounded(plans, CHECKS_IN_FLIGHT, async (plan) => !plan.repeatOf && objectExists(artifactKeys.trialResult(plan.trialId)));
  return plans.map((plan, i) => (found[i] ? { ...plan, resultFound: true } : plan));
}

/** The trials of a plan, without I/O: the same input always gives the same plans. */
export function trialPlans(input: PlanInput): TrialPlan[] {
  const { spec } = input;
  const firstRun = input.suggested?.firstRun ?? input.runs?.first ?? 1;
  const count = input.runs?.count ?? (spec.search?.method === 'random' ? spec.search.budget : Infinity);
  const configs = input.suggested?.configs ?? (spec.search?.method === 'random'
    ? Array.from({ length: count }, (_, i) => sampleConfig(spec.search!.space, spec.seed, firstRun - 1 + i))
    : expandGrid(spec.grid).slice(firstRun - 1, firstRun - 1 + count));
  const stopping = spec.search?.earlyStopping;
  // What a trial keeps beyond today's last epoch changes its stored result, so it is part of the id;
  // absent (a grid spec's case), the id is what it always was.
  const keep = spec.search?.keepBestEpoch ? { keep: spec.search.objective } : {};
  const numClasses = 'numClasses' in input ? input.numClasses : input.classes.length;
  return configs.map((params, i) => {
    const head = headParams(params, numClasses);
    // With ASHA every trial may train to maxEpochs; the rungs decide how far it gets.
    if (stopping?.rule === 'asha') head.n_epochs = stopping.maxEpochs;
    return {
      trialId: contentId({ code: TRAINING_CODE_VERSION, seed: spec.seed, train: input.train.map((f) => f.id), val: input.val.id, params, head, ...keep }),
      run: firstRun + i,
      params,
      head,
    };
  });
}
