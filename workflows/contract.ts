// The contract between workflows, workers and clients: queries, signals, search attributes, result
// types, the activity groups each queue serves, and the one retry policy. Workflow code (deterministic,
// no Node APIs), so it is shared by the workflow bundle and by the CLI, tests and benchmark.
// Names here are part of running sweeps' histories: renaming any of them breaks replay.
import { RetryPolicy, defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { cpuActivities, gpuActivities } from '../activities';
import type { DataSummary } from '../lib/data-summary';
import { FailureType } from '../lib/errors';
import type { LiveLeaderboard } from '../lib/live-leaderboard';
import type { StopDecision } from '../lib/search/early-stopping';
import type { Objective } from '../lib/search/objective';
import type { EpochReport } from '../lib/search/stop-ledger';
import type { SuggestRequest } from '../lib/search/bayesian';
import type { Params } from '../lib/grid';
import type { UnlistedCounts } from '../lib/live-leaderboard';
import type { TrialInput, TrialSummary } from '../lib/sweep-types';

/** What CPU-queue workers run: data, planning, ranking, reports. */
export type CpuActivities = typeof cpuActivities;
/** What GPU-queue workers run: backbone features, training, evaluation, export. */
export type GpuActivities = typeof gpuActivities;

/** The GPU queue's activities by name, for clients that tell a pending step's queue by its activity (every one listed). */
export const GPU_ACTIVITY_NAMES = Object.keys({ checkBackbone: 0, extractFeatures: 0, trainTrial: 0, evaluateTrial: 0, exportModel: 0 } satisfies Record<keyof GpuActivities, 0>);

/** What the Python suggest worker (search/optuna/suggest_worker.py) serves on a bayesian sweep's suggest queue. */
export interface SuggestActivities {
  suggestTrials(request: SuggestRequest): Promise<Params[]>;
}

/** Every activity retries on this policy, except what no retry can fix. */
export const ACTIVITY_RETRY: RetryPolicy = { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: [FailureType.spec, FailureType.data] };

export interface SweepProgress {
  stage: 'validating' | 'ingesting' | 'balancing' | 'splitting' | 'extracting features' | 'suggesting trials' | 'training' | 'ranking' | 'done' | 'cancelled';
  trialsTotal: number;
  /** Finished trials; in a sweep's later runs (continue-as-new) only the best and latest not completed of earlier runs, the rest counted in `unlisted`. */
  trials: TrialSummary[];
  unlisted?: UnlistedCounts;
  running: number[];
  /** Of `running`, those trained to an early-stopping rung and waiting there for the sweep's decision (`of`: their last epoch). */
  waiting?: Array<{ run: number; epoch: number; of: number }>;
  /** The val accuracy of the best trial by the objective (which need not be the highest). */
  bestValAccuracy?: number;
  /** What trials are ranked by; absent: validation accuracy (a grid spec, or a sweep started before this field). */
  objective?: Objective;
  /** What ingestion found: images per class, files skipped per reason. */
  data?: DataSummary;
}

export const progressQuery = defineQuery<SweepProgress>('progress');
/** Ranked so far, plus what is training now; what `sweep watch` polls. */
export const leaderboardQuery = defineQuery<LiveLeaderboard>('leaderboard');

export const SEARCH_ATTRIBUTES = {
  name: defineSearchAttributeKey('SweepName', 'KEYWORD'),
  status: defineSearchAttributeKey('SweepStatus', 'KEYWORD'),
  done: defineSearchAttributeKey('SweepTrialsDone', 'INT'),
  running: defineSearchAttributeKey('SweepTrialsRunning', 'INT'),
  failed: defineSearchAttributeKey('SweepTrialsFailed', 'INT'),
  best: defineSearchAttributeKey('SweepBestValAccuracy', 'DOUBLE'),
};

/**
 * The sweep's memo: what lists of workflows show without a query (a memo comes back with each entry of
 * a visibility listing, and needs no registration, unlike a search attribute). Absent in sweeps started
 * before the memo was set.
 */
export interface SweepMemo {
  /** What the trials are ranked by (val accuracy, maximised, for a grid). */
  objective: Objective;
}

/** With `stopping`, the trial reports its objective values to the sweep at each decision epoch and waits for its decision. */
export interface TrialWorkflowInput extends TrialInput {
  gpuQueue: string;
}

/** Sent by a trial to its sweep at each decision epoch (lib/search/stop-ledger.ts). */
export const epochsReportedSignal = defineSignal<[EpochReport]>('epochsReported');
/** The sweep's answer to a trial's report: go on, or stop and keep what it has. */
export const stopDecisionSignal = defineSignal<[StopDecision]>('stopDecision');

/** Sent by a trial to its training lease when it has finished training. */
export const releaseLeaseSignal = defineSignal('release');
