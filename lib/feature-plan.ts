// Which backbone features a sweep needs: every shard of every split, with all train views of a
// shard in one job (each image is fetched and decoded once), and how the per-shard results add up
// to feature sets. Pure, so the workflow and the benchmark plan the same work.
import { SplitName } from './manifest';
import { FeatureSetRef, FeatureShardRequest, FeatureShardResult, SplitSummary, ViewName } from './sweep-types';
import { SweepSpec, maxTrialEpochs } from './sweep-spec';

export const FEATURE_SHARD_SIZE = 256;

export interface SweepFeatures {
  train: FeatureSetRef[];
  val: FeatureSetRef;
  test: FeatureSetRef;
}

/** Train views: one per epoch of the longest trial, capped by augmentation.views; 'eval' without augmentation. */
export function trainViews(spec: SweepSpec): ViewName[] {
  if (!spec.augmentation.enabled) return ['eval'];
  const maxEpochs = maxTrialEpochs(spec);
  const views = spec.augmentation.views > 0 ? Math.min(spec.augmentation.views, maxEpochs) : maxEpochs;
  return Array.from({ length: views }, (_, i) => i);
}

export function featureShardRequests(spec: SweepSpec, split: SplitSummary): FeatureShardRequest[] {
  const requests: FeatureShardRequest[] = [];
  for (const name of ['train', 'val', 'test'] as const) {
    const shards = Math.ceil(split.counts[name] / FEATURE_SHARD_SIZE);
    for (let shard = 0; shard < shards; shard++) {
      requests.push({
        splitKey: split.splitKey,
        split: name,
        views: name === 'train' ? trainViews(spec) : ['eval'],
        shard,
        shardSize: FEATURE_SHARD_SIZE,
        image: spec.image,
        augmentation: spec.augmentation,
        backbone: spec.backbone,
        seed: spec.seed,
      });
    }
  }
  return requests;
}

/** Feature sets from the shard results (results[i] answers requests[i]). */
export function collectFeatureSets(requests: readonly FeatureShardRequest[], results: readonly FeatureShardResult[]): SweepFeatures {
  const featureSet = (name: SplitName, viewIndex: number): FeatureSetRef => {
    const parts = results.filter((_, i) => requests[i].split === name);
    return { id: parts[0].featureSetIds[viewIndex], shards: parts.length, rows: parts.reduce((n, p) => n + p.rows, 0), dim: parts[0].dim };
  };
  const views = requests.find((r) => r.split === 'train')?.views ?? [];
  return { train: views.map((_, v) => featureSet('train', v)), val: featureSet('val', 0), test: featureSet('test', 0) };
}
