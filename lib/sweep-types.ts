// Payloads between the sweep workflow, its trial workflows and activities: small, JSON, references
// to S3 objects and metrics - never images or tensors.
import { DataSummary } from './data-summary';
import { EpochMetrics } from './epoch-rows';
import { Params } from './grid';
import { EarlyStopping } from './search/early-stopping';
import { Objective } from './search/objective';
import { SplitName } from './manifest';
import { HeadParams } from './head-params';
import { SweepSpec } from './sweep-spec';

export interface SplitSummary {
  splitId: string;
  splitKey: string;
  classes: string[];
  counts: Record<SplitName, number>;
}

/** One view of a split: 'eval' is resize + centre crop; a number is that train augmentation draw. */
export type ViewName = 'eval' | number;

export interface FeatureShardRequest {
  splitKey: string;
  split: SplitName;
  views: ViewName[];
  shard: number;
  shardSize: number;
  image: SweepSpec['image'];
  augmentation: SweepSpec['augmentation'];
  backbone: SweepSpec['backbone'];
  seed: number;
}

/** What `checkBackbone` loads and checks on a GPU worker before the data steps run. */
export type BackboneCheck = Pick<FeatureShardRequest, 'backbone' | 'image'>;

export interface FeatureShardResult {
  /** Feature set id per requested view, same order. */
  featureSetIds: string[];
  rows: number;
  dim: number;
  computed: boolean;
  /** The backbone's id on the worker that answered (a hash of its weights and engine), and that worker's node; absent from workers before 2026-12-05. */
  backboneId?: string;
  node?: string;
}

export interface FeatureSetRef {
  id: string;
  shards: number;
  rows: number;
  dim: number;
}

export interface TrialPlan {
  trialId: string;
  /** 1-based position in the grid, the reference's "run" column. */
  run: number;
  params: Params;
  head: HeadParams;
  /**
   * A finished result of this trial was stored when it was planned (a sweep with reuse on): most likely
   * it is reused, not trained, so it needs no training slot. Absent in plans made before it existed.
   */
  resultFound?: true;
  /**
   * The outcome of this trial's first run, when an earlier run of the sweep (before it continued as
   * new) planned the same trial: this run shares it and trains nothing. Absent in plans made before it existed.
   */
  repeatOf?: TrialSummary;
}

export interface TrialInput {
  sweepId: string;
  trial: TrialPlan;
  /** Train feature sets by view; epoch e trains on views[e mod length]. */
  train: FeatureSetRef[];
  val: FeatureSetRef;
  test: FeatureSetRef;
  /** The split manifest: which image each feature row is, for the list of misclassified images, and the class names. */
  splitKey: string;
  /**
   * The class names, in trials started before 2026-12-08 only: now read from the split manifest where they
   * are needed (the test evaluation), since a sweep run's history held them once per trial.
   */
  classes?: string[];
  seed: number;
  reuse: boolean;
  /** How long a training attempt may go without a heartbeat before another worker takes over. */
  heartbeatTimeoutSeconds: number;
  /** Seconds of training between checkpoints (0: every epoch); absent in trials started before it: the spec's default. */
  checkpointEverySeconds?: number;
  /** Keep the best epoch by this objective (its weights become the trial's head) instead of the last. */
  keepBest?: Objective;
  /** Early stopping: the trial trains rung by rung, to each decision epoch, and the sweep decides at each whether it goes on. */
  stopping?: { rule: EarlyStopping; objective: Objective };
  /** Train only to this epoch (early stopping trains rung by rung); default: the trial's n_epochs. */
  untilEpoch?: number;
  /** The trial ends at `untilEpoch` (early stopping stopped it there): its head is kept under its epoch's key, as at the last epoch. */
  endsHere?: boolean;
  /** Also score the head kept at `untilEpoch` on the test split; absent in trials started before it, which call evaluateTrial. */
  evaluateTest?: boolean;
}

export interface TrainResult {
  trialId: string;
  run: number;
  params: Params;
  epochs: EpochMetrics[];
  backend: string;
  /** The worker node that finished training it: SWEEP_NODE_NAME, else the host name. */
  node?: string;
  /** Epoch a resumed attempt started from (0 when trained from scratch). */
  resumedFromEpoch: number;
  /** Set when the stored result went past the epochs asked for (`untilEpoch`): its head is of that later epoch. */
  storedEpochs?: number;
  reused: boolean;
  /** The run of the trial workflow that trained it: its own retry finds the result it stored, which is not reuse. */
  trainedBy?: string;
  /** The head's weights: after the last epoch, or after `bestEpoch` for a trial that keeps its best epoch. */
  headKey: string;
  /** sha256 of the bytes stored at `headKey` when they were written (absent in results stored before it was kept). */
  headSha256?: string;
  /** The epoch kept, by the objective (trials that keep their best epoch only). */
  bestEpoch?: number;
  /** The kept head's scores on the test split, when asked (`evaluateTest`); returned, not stored with the result. */
  test?: TestScores;
}

/** Scoring a trained head on a split (`evaluateTrial`, and trainTrial for the test split). */
export interface EvaluateInput {
  trained: Pick<TrainResult, 'trialId' | 'headKey' | 'params'>;
  hiddenUnits: number;
  split: SplitName;
  features: FeatureSetRef;
  /** The split manifest whose `split` rows the features are, in the same order; it names the classes. */
  splitKey: string;
  /** The class names, as the split manifest has them; given by trials started before 2026-12-08 only. */
  classes?: string[];
}

export interface ClassScores {
  className: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  split: SplitName;
  loss: number;
  accuracy: number;
  perClass: ClassScores[];
  /** confusion[true][predicted] */
  confusion: number[][];
  /** Images predicted wrong: how many, and the s3:// URL of their list (source path, true and predicted class). */
  misclassified: { count: number; list: string };
}

/**
 * A trial's test scores as its results and summary carry them. The per-class scores and the confusion
 * matrix stay in S3 beside its head (`headEvaluation`) and are read for the best trial only: carried by
 * every summary, a sweep's 100 trials on a 100-class set passed Temporal's 2 MB payload limit. Results
 * and summaries made before carry them.
 */
export type TestScores = Omit<Evaluation, 'perClass' | 'confusion'> & Partial<Pick<Evaluation, 'perClass' | 'confusion'>>;

/**
 * The best trial as the leaderboard names it: with its full test scores (per-class scores and confusion
 * matrix) in leaderboard.json; a workflow result leaves them out past RESULT_BEST_SCORES_BYTES
 * (lib/sweep-continuation.ts) and says so in `truncated`.
 */
export type BestTrial = TrialSummary;

/** What a trial workflow reports to the sweep: final metrics only; per-epoch rows stay in S3. */
export interface TrialSummary {
  trialId: string;
  run: number;
  params: Params;
  /** stopped: early stopping ended it before its last epoch; it is ranked, tested and kept like a completed trial. */
  status: 'completed' | 'stopped' | 'failed' | 'cancelled';
  error?: string;
  /** Why and where early stopping ended the trial (status stopped). */
  stopped?: { epoch: number; rule: 'asha' | 'median'; reason: string };
  epochsDone: number;
  /** The epoch whose metrics (and weights) the trial keeps, when it keeps its best epoch rather than its last. */
  bestEpoch?: number;
  trainLoss?: number;
  trainAccuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  test?: TestScores;
  reused?: boolean;
  /** The earlier run of this sweep with the same trial (a configuration drawn again), whose outcome this run shares. */
  sameAs?: number;
  /** The kept head's weights (absent in summaries made before it was carried: the trial's result.json names them). */
  headKey?: string;
  resumedFromEpoch?: number;
  backend?: string;
  /** The worker node that finished training it (SWEEP_NODE_NAME, else the host name). */
  node?: string;
}

export interface Leaderboard {
  sweepId: string;
  status: 'completed' | 'cancelled';
  /** What the trials are ranked by; absent: validation accuracy (a grid spec). */
  objective?: Objective;
  /** Completed and stopped trials, best objective value first. */
  ranked: TrialSummary[];
  /** Failed and cancelled trials. */
  failed: TrialSummary[];
  best?: BestTrial;
  /** The best trial as one loadable model; absent when nothing completed or the sweep was cancelled. */
  model?: ExportedModel;
  /** Why the best trial could not be exported (the results are written all the same). */
  modelError?: string;
  reusedTrials: number;
  /**
   * Set when the workflow's result leaves something out (leaderboard.json has it all): the full lengths of
   * `ranked` and `failed` when it lists only their first rows; `bestScores` when it leaves out the best
   * trial's per-class scores and confusion matrix (past ~500 classes they alone neared Temporal's 2 MB limit).
   */
  truncated?: { ranked: number; failed: number; bestScores?: true };
  /** What ingestion found: images per class and files skipped per reason. */
  data?: DataSummary;
  /** `report` is the HTML report, absent when it could not be written. */
  artifacts: { prefix: string; resultsCsv: string; resultsJson: string; leaderboardJson: string; report?: string };
}

/** The best trial's backbone + head as one TF.js LayersModel, under sweeps/<id>/model/. */
export interface ExportedModel {
  trialId: string;
  run: number;
  /** s3:// URL of model.json (weights.bin beside it). */
  modelJson: string;
  /** s3:// URL of metadata.json: classes and the preprocessing the model expects. */
  metadata: string;
}
