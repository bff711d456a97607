// Which backbone features a sweep needs: every shard of every split, with all train views of a
// shard in one job (each image is fetched and decoded once), and how the per-shard results add up
// to feature sets. Pure, so the workflow and the benchmark plan the same work.
import { catalogueBackbone } from './backbone-catalogue';
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

/**
 * Why the shards' features cannot make one sweep, or undefined: GPU workers that answered with
 * different backbone ids (other weights, or the ONNX engine on some and TF.js on others) computed them
 * with different networks, so trials would train on one and be scored on another, and the feature sets'
 * shards would be stored under different ids. Results of workers that name no backbone are not judged.
 */
export function backboneMismatch(requests: readonly FeatureShardRequest[], results: readonly FeatureShardResult[]): string | undefined {
  const byBackbone = new Map<string, { nodes: Set<string>; shards: string[] }>();
  results.forEach((result, i) => {
    if (!result.backboneId) return;
    const entry = byBackbone.get(result.backboneId) ?? { nodes: new Set<string>(), shards: [] };
    if (result.node) entry.nodes.add(result.node);
    entry.shards.push(`${requests[i].split} shard ${requests[i].shard}`);
    byBackbone.set(result.backboneId, entry);
  });
  if (byBackbone.size < 2) return undefined;
  const backbone = requests[0].backbone;
  const which = backbone.name ?? backbone.uri;
  const copies = [...byBackbone].map(([id, { nodes, shards }]) => `${id.slice(0, 12)} on ${[...nodes].sort().join(', ') || 'an unnamed node'} (${shards.join(', ')})`);
  const fetch = backbone.name && catalogueBackbone(backbone.name)?.fetchCommand;
  const fix = fetch ? `run \`${fetch}\` on each, from the same version of this project` : `put the same model at ${backbone.uri} on each, or use one shared copy (s3://)`;
  return `the GPU workers computed this sweep's features with ${byBackbone.size} different copies of backbone ${which} (other weights, or ONNX on some and TF.js on others): ` +
    `${copies.join('; ')}. Trials would train on one network's features and be scored on another's. Give every GPU worker of the queue the same copy: ${fix}; ` +
    'then start the sweep again (the shards already computed are reused).';
}
