// The sweep, as the DAG it is:
//   ingest -> balance -> split -> extract features (shared by all trials)
//   -> one trial workflow per planned trial (a grid permutation, a random draw, or a bayesian
//      suggestion, batch by batch; bounded concurrency) -> rank.
// Deterministic workflow code; every step's I/O happens in activities; payloads are S3 keys and metrics.
import {
  type ActivityInterfaceFor, ApplicationFailure, CancellationScope, CancelledFailure, executeChild, getExternalWorkflowHandle, isCancellation, log,
  proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { mapBounded } from '../lib/bounded';
import { SweepFeatures, collectFeatureSets, featureShardRequests } from '../lib/feature-plan';
import { dataSummary } from '../lib/data-summary';
import { FailureType, rootMessage } from '../lib/errors';
import { Params, valuesByName } from '../lib/grid';
import { completedTrials, liveLeaderboard, trialWorkflowId } from '../lib/live-leaderboard';
import { rankTrials } from '../lib/rank';
import { StopLedger } from '../lib/search/stop-ledger';
import { batchSizes, suggestRequest } from '../lib/search/bayesian';
import { Leaderboard, SplitSummary, TrialPlan, TrialSummary } from '../lib/sweep-types';
import { SpecError, SweepSpec, objectiveOf, parseSweepSpec, trialCount } from '../lib/sweep-spec';
import { trialInput } from '../lib/trial-input';
import { sweepCurrentDetails, trialStartMetadata } from '../views/workflow-metadata';
import {
  ACTIVITY_RETRY, CpuActivities, GpuActivities, SEARCH_ATTRIBUTES, SuggestActivities, SweepProgress, epochsReportedSignal, leaderboardQuery, progressQuery,
  stopDecisionSignal,
} from './contract';
import { trialWorkflow } from './trial';

/** Takes the spec itself (as JSON), so `temporal workflow start --input-file spec.json` works. */
export async function sweepWorkflow(rawSpec: unknown): Promise<Leaderboard> {
  const progress: SweepProgress = { stage: 'validating', trialsTotal: 0, trials: [], running: [] };
  setHandler(progressQuery, () => progress);
  const spec = validate(rawSpec);
  const sweepId = workflowInfo().workflowId;
  let plans: TrialPlan[] = [];
  // The values each hyperparameter takes: the grid's, or (once planned) those the search drew.
  let values = spec.grid;
  const live = () => liveLeaderboard({ sweepId, name: spec.name, stage: progress.stage, trialsTotal: progress.trialsTotal }, progress.trials, progress.running, plans, spec.search?.objective);
  setHandler(leaderboardQuery, live);
  const publish = (stage?: SweepProgress['stage']) => {
    if (stage) progress.stage = stage;
    const board = live();
    progress.bestValAccuracy = board.ranked[0]?.valAccuracy;
    setCurrentDetails(sweepCurrentDetails(board, values, progress.data));
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.name, value: spec.name },
      { key: SEARCH_ATTRIBUTES.status, value: progress.stage },
      { key: SEARCH_ATTRIBUTES.done, value: progress.trials.filter((t) => t.status === 'completed' || t.status === 'stopped').length },
      { key: SEARCH_ATTRIBUTES.running, value: progress.running.length },
      { key: SEARCH_ATTRIBUTES.failed, value: progress.trials.filter((t) => t.status === 'failed').length },
      ...(progress.bestValAccuracy === undefined ? [] : [{ key: SEARCH_ATTRIBUTES.best, value: progress.bestValAccuracy }]),
    ]);
  };

  // Early stopping: trials report at each decision epoch; decisions go back as soon as they can be made.
  const ledger = spec.search?.earlyStopping && new StopLedger(spec.search.earlyStopping, spec.search.objective);
  if (ledger) {
    setHandler(epochsReportedSignal, async (report) => {
      ledger.report(report);
      await sendStopDecisions(sweepId, ledger);
    });
  }

  // CPU workers heartbeat for every activity while it runs, so a task the server started but never
  // delivered is retried after 20 s instead of stalling the sweep (docs/guarantees.md).
  const cpu = proxyActivities<CpuActivities>({ taskQueue: spec.taskQueues.cpu, startToCloseTimeout: '2h', heartbeatTimeout: '20s', retry: ACTIVITY_RETRY });
  const gpu = proxyActivities<GpuActivities>({ taskQueue: spec.taskQueues.gpu, startToCloseTimeout: '2h', heartbeatTimeout: '5m', retry: ACTIVITY_RETRY });

  publish('ingesting');
  const dataset = await cpu.ingestDataset.executeWithOptions({ summary: `ingest ${spec.data.source}` }, [spec.data]);
  progress.data = dataSummary(dataset);
  publish('balancing');
  const balanced = await cpu.balanceDataset.executeWithOptions({ summary: `balance to ${spec.balance.perClass} images per class` }, [{
    datasetKey: dataset.manifestKey,
    perClass: spec.balance.perClass,
    seed: spec.seed,
    numClassesInGrid: (spec.grid.num_classes ?? []).map(Number),
  }]);
  publish('splitting');
  const split = await cpu.splitDataset.executeWithOptions({ summary: `split ${spec.split.train}/${spec.split.val}/${spec.split.test} (seed ${spec.seed})` },
    [{ balancedKey: balanced.balancedKey, fractions: spec.split, seed: spec.seed }]);
  publish('extracting features');
  const features = await extractFeatureSets(gpu, spec, split);
  const runOne = async (plan: TrialPlan) => {
    progress.running.push(plan.run);
    publish();
    const summary = await runTrial(sweepId, spec, split, features, plan);
    if (ledger) {
      ledger.end(plan.run);
      await sendStopDecisions(sweepId, ledger);
    }
    progress.running = progress.running.filter((run) => run !== plan.run);
    progress.trials.push(summary);
    publish();
    return summary;
  };
  /** Plans trials (all of them, or a bayesian batch), declares their hyperparameters to TensorBoard and runs them. */
  const planAndRun = async (suggested?: { configs: Params[]; firstRun: number }) => {
    const planned = await cpu.planTrials.executeWithOptions({ summary: suggested ? `plan ${suggested.configs.length} suggested trials from run ${suggested.firstRun}` : `plan ${trialCount(spec)} trials` },
      [{ spec, classes: split.classes, train: features.train, val: features.val, ...(suggested ? { suggested } : {}) }]);
    plans = [...plans, ...planned];
    if (spec.search) values = valuesByName(plans.map((plan) => plan.params));
    await cpu.writeTensorboardExperiment.executeWithOptions({ summary: 'write TensorBoard HParams experiment' }, [{ sweepId, name: spec.name, grid: values }]);
    progress.trialsTotal = suggested ? trialCount(spec) : plans.length;
    publish('training');
    return mapBounded(planned, spec.concurrency, runOne);
  };

  let trials: TrialSummary[] = [];
  if (spec.search?.method === 'bayesian') {
    const suggest = proxyActivities<SuggestActivities>({ taskQueue: spec.taskQueues.suggest!, startToCloseTimeout: '5m', retry: ACTIVITY_RETRY });
    // Batch by batch, each suggested from exactly the trials of the batches before it.
    for (const count of batchSizes(spec.search.budget, spec.concurrency)) {
      const configs = await suggest.suggestTrials.executeWithOptions({ summary: `suggest ${count} trials from ${trials.length} finished (TPE)` },
        [suggestRequest(spec.search, spec.seed, trials, count)]);
      trials = [...trials, ...await planAndRun({ configs, firstRun: trials.length + 1 })];
    }
  } else {
    trials = await planAndRun();
  }

  const cancelled = CancellationScope.current().consideredCancelled;
  // Exported before ranking, so the leaderboard points at the model.
  const exported = cancelled ? {} : await exportBest(gpu, sweepId, spec, split, trials);
  // Results of what finished are written even when the sweep was cancelled.
  const leaderboard = await CancellationScope.nonCancellable(async () => {
    const board = await cpu.rankSweep.executeWithOptions({ summary: `rank ${trials.length} trials` },
      [{ sweepId, spec, trials, status: cancelled ? 'cancelled' : 'completed', data: progress.data, ...exported }]);
    return { ...board, artifacts: { ...board.artifacts, report: await writeReport(cpu, sweepId) } };
  });
  publish(cancelled ? 'cancelled' : 'done');
  if (cancelled) throw new CancelledFailure(`sweep cancelled; partial results in ${leaderboard.artifacts.prefix}`);
  return leaderboard;
}

function validate(rawSpec: unknown): SweepSpec {
  try {
    return parseSweepSpec(rawSpec);
  } catch (error) {
    if (error instanceof SpecError) throw ApplicationFailure.nonRetryable(error.message, FailureType.spec, error.problems);
    throw error;
  }
}

async function runTrial(sweepId: string, spec: SweepSpec, split: SplitSummary, features: SweepFeatures, plan: TrialPlan): Promise<TrialSummary> {
  try {
    return await executeChild(trialWorkflow, {
      workflowId: trialWorkflowId(sweepId, plan.run),
      ...trialStartMetadata(plan, trialCount(spec), sweepId),
      taskQueue: workflowInfo().taskQueue,
      args: [{
        ...trialInput(sweepId, spec, split, features, plan),
        gpuQueue: spec.taskQueues.gpu,
        ...(spec.search?.earlyStopping ? { stopping: { rule: spec.search.earlyStopping, objective: spec.search.objective } } : {}),
      }],
    });
  } catch (error) {
    const status = isCancellation(error) ? 'cancelled' : 'failed';
    return { trialId: plan.trialId, run: plan.run, params: plan.params, status, error: rootMessage(error), epochsDone: 0 };
  }
}

/** Signals every decision the ledger can make now to its trial, which is waiting for it. */
async function sendStopDecisions(sweepId: string, ledger: StopLedger): Promise<void> {
  await Promise.all(ledger.ready().map(async ({ run, decision }) => {
    try {
      await getExternalWorkflowHandle(trialWorkflowId(sweepId, run)).signal(stopDecisionSignal, decision);
    } catch (error) {
      // Only a trial that is gone (cancelled with the sweep) misses its decision.
      log.warn('stop decision not delivered', { run, error: rootMessage(error) });
    }
  }));
}

/** Backbone features for every split and view, one activity per shard, all views of a shard together. */
async function extractFeatureSets(gpu: ActivityInterfaceFor<GpuActivities>, spec: SweepSpec, split: SplitSummary): Promise<SweepFeatures> {
  const requests = featureShardRequests(spec, split);
  const results = await mapBounded(requests, Math.max(2, spec.concurrency), (request) => gpu.extractFeatures.executeWithOptions({
    summary: `features: ${request.split} shard ${request.shard} (${request.views.length} view${request.views.length === 1 ? '' : 's'})`,
    // It heartbeats every backbone batch, so a dead GPU worker is noticed as soon as in training, not after 5 minutes.
    heartbeatTimeout: `${spec.heartbeatTimeoutSeconds}s`,
  }, [request]));
  return collectFeatureSets(requests, results);
}

/** The HTML report is a view of results already written: if it cannot be made, the sweep still succeeds. */
async function writeReport(cpu: ActivityInterfaceFor<CpuActivities>, sweepId: string): Promise<string | undefined> {
  try {
    return await cpu.writeReport.executeWithOptions({ summary: 'write report.html', retry: { maximumAttempts: 3 } }, [{ sweepId }]);
  } catch (error) {
    log.warn('sweep report not written', { sweepId, error: rootMessage(error) });
    return undefined;
  }
}

/** The best trial as one model for `sweep predict`. A failed export is reported in the leaderboard, not fatal. */
async function exportBest(gpu: ActivityInterfaceFor<GpuActivities>, sweepId: string, spec: SweepSpec, split: SplitSummary, trials: TrialSummary[]): Promise<Pick<Leaderboard, 'model' | 'modelError'>> {
  const best = rankTrials(completedTrials(trials), objectiveOf(spec))[0];
  if (!best) return {};
  try {
    const input = { sweepId, best, classes: split.classes, image: spec.image, backbone: spec.backbone, splitKey: split.splitKey };
    return { model: await gpu.exportModel.executeWithOptions({ summary: `export run ${best.run} as one model`, retry: { maximumAttempts: 5 } }, [input]) };
  } catch (error) {
    return { modelError: rootMessage(error) };
  }
}
