// Where every artifact lives in the bucket. Content-addressed keys (hash of what produced the
// artifact) make steps idempotent and let later sweeps reuse earlier work.

/** A file in the folder of a head's weights. */
const besideHead = (headKey: string, file: string) => `${headKey.slice(0, headKey.lastIndexOf('/'))}/${file}`;
/** The folder of a trial workflow run's rung heads. */
const rungHeads = (trialId: string, owner: string) => `trials/${trialId}/head/run-${owner}/`;
/** An epoch as keys spell it: four digits, so that keys list in epoch order. */
const epochDigits = (epoch: number) => String(epoch).padStart(4, '0');
/** A head's folder by the epoch it is of. */
const epochFolder = (epoch: number) => `epoch-${epochDigits(epoch)}`;

export const artifactKeys = {
  /** An image stored on its own, as ingestion did before image packs (still read for data sets it ingested). */
  blob: (sha256: string) => `blobs/${sha256.slice(0, 2)}/${sha256}`,
  /** Many images' bytes end to end (formats/image-pack.ts), and beside it its index. */
  imagePack: (pack: string) => `packs/${pack.slice(0, 2)}/${pack}.bin`,
  imagePackIndex: (pack: string) => `packs/${pack.slice(0, 2)}/${pack}.json`,
  imagePackPrefix: 'packs/',
  dataset: (datasetId: string) => `datasets/${datasetId}/manifest.json`,
  /** An ingest's summary, keyed by what it read (platform-independent paths, bytes, classes, bad-file limit). */
  ingestRecord: (fingerprint: string) => `ingests/${fingerprint}.json`,
  balanced: (balancedId: string) => `balanced/${balancedId}.json`,
  split: (splitId: string) => `splits/${splitId}/manifest.json`,
  featureShard: (featureSetId: string, shard: number) => `features/${featureSetId}/shard-${String(shard).padStart(5, '0')}.bin`,
  trialCheckpoint: (trialId: string) => `trials/${trialId}/checkpoint.json`,
  trialCheckpointWeights: (trialId: string, epoch: number) => `trials/${trialId}/checkpoint-epoch-${epochDigits(epoch)}.bin`,
  trialCheckpointWeightsPrefix: (trialId: string) => `trials/${trialId}/checkpoint-epoch-`,
  /** A trial's best-so-far weights (trials that keep their best epoch): immutable per epoch, like the checkpoints. */
  trialBestWeights: (trialId: string, epoch: number) => `trials/${trialId}/best-epoch-${epochDigits(epoch)}.bin`,
  trialBestWeightsPrefix: (trialId: string) => `trials/${trialId}/best-epoch-`,
  trialResult: (trialId: string) => `trials/${trialId}/result.json`,
  /**
   * The weights the trial keeps (its best or last epoch), which evaluation and export read. Keyed by the
   * epoch they are of, so every writer of a key writes the same bytes: a sweep that stopped the trial
   * earlier (or a stale attempt) never replaces a head another sweep ranked. Heads stored before were
   * at `trials/<id>/head/weights.bin` (results name their head's key).
   */
  trialHeadWeights: (trialId: string, epoch: number) => `trials/${trialId}/head/${epochFolder(epoch)}/weights.bin`,
  /**
   * The head of an early-stopped trial at one of its rungs, under the trial workflow run (`owner`) that
   * trained it and the rung's epoch: every writer of a key writes the same bytes, so an attempt given up on
   * whose write lands late (after the trial trained on) cannot replace a later rung's head. The owner
   * deletes its earlier rungs' heads once a later one is stored (every epoch could be a rung under the
   * median rule). Another sweep's trial that reuses a rung's result reads it once and keeps a copy under
   * `trialHeadWeights`. Heads stored before 2026-12-07 were at `run-<owner>/weights.bin`, rewritten rung
   * after rung.
   */
  trialRungHead: (trialId: string, owner: string, epoch: number) => `${rungHeads(trialId, owner)}${epochFolder(epoch)}/weights.bin`,
  trialRungHeads: rungHeads,
  /** The epoch of a file under `trialRungHeads`; 0 for one stored before rung heads had epoch folders (earlier than any). */
  rungOfHeadFile: (key: string) => Number(/\/epoch-(\d+)\/[^/]+$/.exec(key)?.[1] ?? 0),
  /** A head's scores on a split, beside the head they score. */
  headEvaluation: (headKey: string, split: string) => besideHead(headKey, `evaluation-${split}.json`),
  /** A head's probabilities on a split (formats/probabilities.ts), beside the head. */
  headProbabilities: (headKey: string, split: string) => besideHead(headKey, `probabilities-${split}.bin`),
  /** The split's images a head got wrong, with their source paths, beside the head. */
  headMisclassified: (headKey: string, split: string) => besideHead(headKey, `misclassified-${split}.json`),
  sweep: (sweepId: string) => `sweeps/${sweepId}`,
  sweepResults: (sweepId: string, file: string) => `sweeps/${sweepId}/${file}`,
  /** The trial summaries of one run of a sweep that continued as new (part 0: the first run). */
  sweepTrialPart: (sweepId: string, part: number) => `sweeps/${sweepId}/trials/part-${String(part).padStart(4, '0')}.json`,
  /** The best trial exported as one TF.js model: model.json, weights.bin, metadata.json. */
  sweepModel: (sweepId: string) => `sweeps/${sweepId}/model`,
  sweepModelFile: (sweepId: string, file: 'model.json' | 'metadata.json') => `sweeps/${sweepId}/model/${file}`,
  tensorboard: (sweepId: string) => `sweeps/${sweepId}/tensorboard`,
  tensorboardRun: (sweepId: string, run: string) => `sweeps/${sweepId}/tensorboard/${run}`,
};
