// Fake activities for workflow tests: the same names and types as the real ones (CpuActivities,
// GpuActivities), instant, no ML; the few that write results use the in-memory object store. Each call is logged as "<task queue>:<activity>".
import { Context } from '@temporalio/activity';
import { planTrials } from '../../activities/plan';
import { rankSweep, writeTrialPart } from '../../activities/results';
import { EpochMetrics } from '../../lib/epoch-rows';
import { bestEpoch } from '../../lib/search/objective';
import type { SplitName } from '../../lib/manifest';
import type { Evaluation, TrialPlan } from '../../lib/sweep-types';
import type { CpuActivities, GpuActivities } from '../../workflows';

export interface Fakes {
  cpu: CpuActivities;
  gpu: GpuActivities;
  /** Every call in order: "<task queue>:<activity name>". */
  calls: string[];
  /** Epochs trained per trial id: a later trainTrial of the same id with reuse on, asking no further, reports it reused. */
  trained: Map<string, number>;
}

/**
 * A trial's fake validation accuracy after `epoch`: a start and a slope of its own per run
 * (some trials improve, some get worse), so early-stopping and best-epoch decisions have something to decide.
 */
export function fakeValAccuracy(trial: Pick<TrialPlan, 'run'>, epoch: number): number {
  const first = 0.5 + ((trial.run * 37) % 11) / 100;
  const slope = (((trial.run * 7919) % 13) - 6) / 100;
  return Math.min(0.99, Math.max(0.01, first + slope * (epoch - 1)));
}

function fakeEvaluation(split: SplitName): Evaluation {
  return { split, loss: 0.5, accuracy: 0.6, perClass: [], confusion: [], misclassified: { count: 0, list: 's3://test/misclassified.json' } };
}

function fakeEpoch(trial: TrialPlan, epoch: number): EpochMetrics {
  const valAccuracy = fakeValAccuracy(trial, epoch);
  return { epoch, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1 - valAccuracy, valAccuracy, epochDuration: 0.1, runDuration: 0.1 * epoch };
}

export const CLASSES = ['daisy', 'rose'];

/** A point a test waits for: `reach()` marks it, and `reached` resolves then. */
export function milestone(): { reached: Promise<void>; reach: () => void } {
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => { reach = resolve; });
  return { reached, reach };
}

/** An activity that is busy until it is cancelled (the sweep's cancel, or the worker shutting down): it heartbeats so the cancel reaches it. */
export async function busyUntilCancelled(): Promise<never> {
  for (;;) {
    Context.current().heartbeat();
    await Context.current().sleep(100); // rejects with CancelledFailure once the cancel arrives
  }
}

export function fakeActivities(overrides: Partial<CpuActivities & GpuActivities> = {}): Fakes {
  const calls: string[] = [];
  const trained = new Map<string, number>();
  const logged = <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) => (...args: A): Promise<R> => {
    calls.push(`${Context.current().info.taskQueue}:${name}`);
    return fn(...args);
  };
  const cpu: CpuActivities = {
    ingestDataset: async () => ({ datasetId: 'd', manifestKey: 'datasets/d.json', classes: CLASSES, counts: { daisy: 200, rose: 200 }, skipped: 0, skippedByReason: {} }),
    balanceDataset: async (input) => ({ balancedKey: 'balanced/b.json', classes: CLASSES, perClass: input.perClass, oversampledClasses: [] }),
    // 300 train rows: two feature shards of 256; val and test one each.
    splitDataset: async () => ({ splitId: 's', splitKey: 'splits/s.json', classes: CLASSES, counts: { train: 300, val: 50, test: 50 } }),
    planTrials,
    writeTensorboardExperiment: async (input) => `tensorboard/${input.sweepId}`,
    // The real ranking, on the in-memory store the test installs: pure logic plus a few small writes.
    rankSweep,
    writeTrialPart,
    writeReport: async (input) => `s3://test/sweeps/${input.sweepId}/report.html`,
  };
  const gpu: GpuActivities = {
    checkBackbone: async () => ({ backboneId: 'a'.repeat(64) }),
    extractFeatures: async (request) => ({
      featureSetIds: request.views.map((view) => `${request.split}-${view}`),
      rows: Math.min(request.shardSize, 300 - request.shard * request.shardSize),
      dim: 8,
      computed: true,
    }),
    trainTrial: async (input) => {
      const until = Math.min(input.untilEpoch ?? input.trial.head.n_epochs, input.trial.head.n_epochs);
      const before = trained.get(input.trial.trialId) ?? 0;
      const reused = input.reuse && before >= until;
      trained.set(input.trial.trialId, Math.max(before, until));
      const epochs = Array.from({ length: until }, (_, e) => fakeEpoch(input.trial, e + 1));
      return {
        trialId: input.trial.trialId,
        run: input.trial.run,
        params: input.trial.params,
        epochs,
        backend: 'fake',
        resumedFromEpoch: input.reuse ? Math.min(before, until) : 0,
        reused,
        headKey: `trials/${input.trial.trialId}/head/weights.bin`,
        ...(input.keepBest ? { bestEpoch: bestEpoch(epochs, input.keepBest)!.epoch } : {}),
        ...(input.evaluateTest ? { test: fakeEvaluation('test') } : {}),
      };
    },
    evaluateTrial: async (input) => fakeEvaluation(input.split),
    exportModel: async (input) => ({ trialId: input.best.trialId, run: input.best.run, modelJson: 's3://test/model.json', metadata: 's3://test/metadata.json' }),
  };
  const all = { ...cpu, ...gpu, ...overrides };
  const log = <T extends Record<string, (...args: never[]) => Promise<unknown>>>(group: T): T =>
    Object.fromEntries(Object.keys(group).map((name) => [name, logged(name, all[name as keyof typeof all] as never)])) as T;
  return { cpu: log(cpu), gpu: log(gpu), calls, trained };
}
