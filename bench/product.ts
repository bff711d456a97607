// The product's method, through its own activities (called directly, with a mocked activity Context
// instead of a Temporal server): the sweep's feature-extraction step (every split, shard and view,
// stored in S3), then every trial's trainTrial (heads on cached features, checkpoints, TensorBoard
// events) and evaluateTrial on the test split, with the sweep's concurrency.
import { evaluateTrial } from '../activities/evaluate';
import { extractFeatures } from '../activities/features';
import { trialPlans } from '../activities/plan';
import { trainTrial } from '../activities/train';
import { mapBounded } from '../lib/bounded';
import { SweepFeatures, collectFeatureSets, featureShardRequests } from '../lib/feature-plan';
import { SplitSummary, TrialPlan } from '../lib/sweep-types';
import { trialInput } from '../lib/trial-input';
import { SweepSpec } from '../lib/sweep-spec';
import { inActivity } from './setup';

export interface ProductFeatures extends SweepFeatures {
  /** Images that went through the backbone (0 for shards already cached). */
  images: number;
}

/** The sweep's extract step, planned by lib/feature-plan as workflows/sweep.ts plans it, with its concurrency. */
export async function extractAll(spec: SweepSpec, split: SplitSummary): Promise<ProductFeatures> {
  const requests = featureShardRequests(spec, split);
  const results = await mapBounded(requests, Math.max(2, spec.concurrency), (request) => inActivity(extractFeatures, request));
  const images = results.reduce((n, r, i) => n + (r.computed ? r.rows * requests[i].views.length : 0), 0);
  return { ...collectFeatureSets(requests, results), images };
}

export interface ProductTrialResult {
  plan: TrialPlan;
  valAccuracy: number;
  valLoss: number;
  testAccuracy: number;
}

/** Every trial of the grid, as trial workflows run them: trainTrial, then evaluateTrial on test. */
export async function trainAll(spec: SweepSpec, split: SplitSummary, features: ProductFeatures, sweepId: string): Promise<ProductTrialResult[]> {
  const plans = trialPlans({ spec, numClasses: split.classes.length, train: features.train, val: features.val });
  return mapBounded(plans, spec.concurrency, async (plan) => {
    const trained = await inActivity(trainTrial, trialInput(sweepId, spec, split, features, plan));
    const test = await inActivity(evaluateTrial, {
      trained, hiddenUnits: plan.head.hidden_units, split: 'test', features: features.test, splitKey: split.splitKey,
    });
    const last = trained.epochs[trained.epochs.length - 1];
    return { plan, valAccuracy: last.valAccuracy, valLoss: last.valLoss, testAccuracy: test.accuracy };
  });
}
