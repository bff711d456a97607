// Fake activities for workflow tests: the same names and types as the real ones (CpuActivities,
// GpuActivities), instant, no ML; the few that write results use the in-memory object store. Each call is logged as "<task queue>:<activity>".
import { Context } from '@temporalio/activity';
import { planTrials } from '../../activities/plan';
import { rankSweep } from '../../activities/results';
import type { CpuActivities, GpuActivities } from '../../workflows';

export interface Fakes {
  cpu: CpuActivities;
  gpu: GpuActivities;
  /** Every call in order: "<task queue>:<activity name>". */
  calls: string[];
  /** Trials already trained: a later trainTrial of the same id with reuse on reports it reused. */
  trained: Set<string>;
}

export const CLASSES = ['daisy', 'rose'];

export function fakeActivities(overrides: Partial<CpuActivities & GpuActivities> = {}): Fakes {
  const calls: string[] = [];
  const trained = new Set<string>();
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
    writeReport: async (input) => `s3://test/sweeps/${input.sweepId}/report.html`,
  };
  const gpu: GpuActivities = {
    extractFeatures: async (request) => ({
      featureSetIds: request.views.map((view) => `${request.split}-${view}`),
      rows: Math.min(request.shardSize, 300 - request.shard * request.shardSize),
      dim: 8,
      computed: true,
    }),
    trainTrial: async (input) => {
      const reused = input.reuse && trained.has(input.trial.trialId);
      trained.add(input.trial.trialId);
      const valAccuracy = 0.5 + input.trial.run / 100;
      return {
        trialId: input.trial.trialId,
        run: input.trial.run,
        params: input.trial.params,
        epochs: [{ epoch: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1 - valAccuracy, valAccuracy, epochDuration: 0.1, runDuration: 0.1 }],
        backend: 'fake',
        resumedFromEpoch: 0,
        reused,
        headKey: `trials/${input.trial.trialId}/head/weights.bin`,
      };
    },
    evaluateTrial: async (input) => ({ split: input.split, loss: 0.5, accuracy: 0.6, perClass: [], confusion: [], misclassified: { count: 0, list: 's3://test/misclassified.json' } }),
    exportModel: async (input) => ({ trialId: input.best.trialId, run: input.best.run, modelJson: 's3://test/model.json', metadata: 's3://test/metadata.json' }),
  };
  const all = { ...cpu, ...gpu, ...overrides };
  const log = <T extends Record<string, (...args: never[]) => Promise<unknown>>>(group: T): T =>
    Object.fromEntries(Object.keys(group).map((name) => [name, logged(name, all[name as keyof typeof all] as never)])) as T;
  return { cpu: log(cpu), gpu: log(gpu), calls, trained };
}
