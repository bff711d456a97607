// The sweep, as the DAG it is:
//   ingest -> balance -> split -> extract features (shared by all trials)
//   -> one trial workflow per planned trial (a grid permutation, a random draw, or a bayesian
//      suggestion, batch by batch; at most `concurrency` training at once, trials found finished
//      beside them) -> rank.
// A sweep of more than `trialsPerRun` trials trains them a chunk per workflow run: each run drains its
// chunk, writes its trial summaries to S3 and continues as new with a compact carry
// (lib/sweep-continuation.ts); the last run ranks them all.
// Deterministic workflow code; every step's I/O happens in activities; payloads are S3 keys and metrics.
import {
  type ActivityInterfaceFor, ApplicationFailure, CancellationScope, CancelledFailure, continueAsNew, executeChild, getExternalWorkflowHandle, isCancellation, log,
  patched, proxyActivities, setCurrentDetails, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { mapBounded } from '../lib/bounded';
import { SweepFeatures, backboneMismatch, collectFeatureSets, featureShardRequests } from '../lib/feature-plan';
import { dataSummary } from '../lib/data-summary';
import { FailureType, rootMessage } from '../lib/errors';
import { Params, valuesByName } from '../lib/grid';
import { completedTrials, liveLeaderboard, trialCounts, trialWorkflowId } from '../lib/live-leaderboard';
import { rankTrials } from '../lib/rank';
import { StopLedger } from '../lib/search/stop-ledger';
import { finishedTrials, suggestRequest } from '../lib/search/bayesian';
import { batchSizes } from '../lib/search/tpe-batches';
import { SweepContinuation, nextCarry, runChunk, validTrialsPerRun } from '../lib/sweep-continuation';
import { FeatureShardResult, Leaderboard, SplitSummary, TrialPlan, TrialSummary } from '../lib/sweep-types';
import { SpecError, SweepSpec, objectiveOf, parseSweepSpec, sweepIdProblem, trialCount } from '../lib/sweep-spec';
import type { SpecChecks } from '../lib/spec-mistakes';
import { planningSpec, trialInput } from '../lib/trial-input';
import { runPlannedTrials } from '../lib/trial-schedule';
import { sweepCurrentDetails, trialStartMetadata } from '../views/workflow-metadata';
import {
  ACTIVITY_RETRY, CpuActivities, GpuActivities, SEARCH_ATTRIBUTES, SuggestActivities, SweepMemo, SweepProgress, epochsReportedSignal, leaderboardQuery, progressQuery,
  stopDecisionSignal,
} from './contract';
import { trialWorkflow } from './trial';

/** Marks the sweeps that may continue as new: those started before it ran every trial in one run. */
const CONTINUE_AS_NEW_PATCH = 'sweep-continue-as-new';
/** Marks the sweeps that write their HParams experiment once: those started before it rewrote it every batch and every run. */
const EXPERIMENT_ONCE_PATCH = 'sweep-experiment-once';
/** Marks the sweeps that run trials found finished beside the concurrency bound: those before ran every trial within it. */
const REUSED_BESIDE_BOUND_PATCH = 'sweep-reused-beside-bound';
/** Marks the sweeps whose spec (lib/spec-mistakes.ts) and id were checked strictly: those before ignored unknown fields and took any id. */
const STRICT_SPEC_PATCH = 'sweep-spec-strict';
/** Marks the sweeps whose spec had the second generation of strict checks (lib/spec-mistakes.ts SpecChecks): those before replay without them. */
const SPEC_CHECKS_2_PATCH = 'sweep-spec-checks-2';
/** And the third (a task queue named for two roles). */
const SPEC_CHECKS_3_PATCH = 'sweep-spec-checks-3';
/** And the fourth (a random budget past a space of choices and integer ranges). */
const SPEC_CHECKS_4_PATCH = 'sweep-spec-checks-4';
/** And the fifth (an objective against its metric's direction). */
const SPEC_CHECKS_5_PATCH = 'sweep-spec-checks-5';
/** And the sixth (a bayesian budget past its space or its start-up trials; a backbone mean or std on the 0-255 scale). */
const SPEC_CHECKS_6_PATCH = 'sweep-spec-checks-6';
/** Marks the sweeps that load and check their backbone beside their data steps: those before found a bad one at their first feature shard. */
const BACKBONE_CHECKED_FIRST_PATCH = 'sweep-backbone-checked-first';
/** The markers of generations 2, 3, ... of the checks, in order: a sweep checks with the generation before the first it lacks. */
const SPEC_CHECKS_PATCHES = [SPEC_CHECKS_2_PATCH, SPEC_CHECKS_3_PATCH, SPEC_CHECKS_4_PATCH, SPEC_CHECKS_5_PATCH, SPEC_CHECKS_6_PATCH];
/**
 * Marks the sweeps that run a configuration drawn twice once: those before started a trial workflow
 * per run, and under early stopping the two could wait on each other (the lease, the ledger) for ever.
 */
const REPEATED_TRIAL_ONCE_PATCH = 'sweep-repeated-trial-once';
/**
 * Marks the sweeps whose trial planned again after the sweep continued as new shares its first run's
 * outcome: those before ran it again (trained again without reuse, and reported twice to early stopping).
 */
const REPEATED_ACROSS_RUNS_PATCH = 'sweep-repeated-across-runs';
/** Marks the bayesian sweeps that stop suggesting once cancelled: those before failed at the next suggestion and wrote no partial results. */
const CANCELLED_STOPS_SUGGESTING_PATCH = 'sweep-cancelled-stops-suggesting';
/**
 * Marks the bayesian sweeps that, cancelled while a suggestion is asked for, rank what finished: those
 * before ended with the suggestion's cancellation and wrote no partial results.
 */
const CANCELLED_WHILE_SUGGESTING_PATCH = 'sweep-cancelled-while-suggesting';
/**
 * Marks the sweeps that, cancelled while a later batch or run plans its trials, rank what finished
 * before: those before ended with the planning step's cancellation and wrote no partial results.
 */
const CANCELLED_WHILE_PLANNING_PATCH = 'sweep-cancelled-while-planning';
/**
 * Marks the sweeps that, cancelled while the best trial is exported, end cancelled: those before took
 * the cancel as a failed export and completed without a model.
 */
const CANCELLED_WHILE_EXPORTING_PATCH = 'sweep-cancelled-while-exporting';

/**
 * Marks the bayesian sweeps whose stage says when they wait for a suggestion: those before showed the
 * step before it (extracting features, or training with no trial running) while the suggest worker was
 * slow, or while none ran.
 */
const SUGGESTING_STAGE_PATCH = 'sweep-suggesting-stage';

/**
 * Marks the sweeps whose early-stopping ledger is carried to the next run with the values at decision
 * epochs only (what later decisions read): those before carried every epoch, which made the carry the
 * limit of large median-rule sweeps (lib/search/stopping-history.ts).
 */
const LEDGER_AT_DECISIONS_PATCH = 'sweep-ledger-at-decisions';

/**
 * Marks the sweeps that fail when GPU workers computed their features with different copies of the
 * backbone (lib/feature-plan.ts backboneMismatch): those before went on to train on them.
 */
const BACKBONES_AGREE_PATCH = 'sweep-backbones-agree';

/** Marks the sweeps that set their memo (SweepMemo: the objective, for `sweep list`); those before set none. */
const OBJECTIVE_MEMO_PATCH = 'sweep-objective-memo';

/**
 * Marks the sweeps that publish the stage `ranking` once their trials are done, while they export the
 * best model, rank and write the report; those before stayed at `training` (with no trial running)
 * until `done`, however long an S3 outage held those steps.
 */
const RANKING_STAGE_PATCH = 'sweep-ranking-stage';

/** The sweep itself was cancelled (not one step of it), in a sweep with `patch`: what finished is ranked below. */
const sweepCancelled = (patch: string) => CancellationScope.current().consideredCancelled && patched(patch);

/**
 * Takes the spec itself (as JSON), so `temporal workflow start --input-file spec.json` works; `continued`
 * is what a run passes the next when it continues as new (and tests, a smaller `trialsPerRun`).
 */
export async function sweepWorkflow(rawSpec: unknown, continued: SweepContinuation = {}): Promise<Leaderboard> {
  const { carry } = continued;
  const progress: SweepProgress = carry
    ? { stage: 'training', trialsTotal: 0, trials: [...carry.listed], unlisted: carry.unlisted, running: [], data: carry.prepared.data }
    : { stage: 'validating', trialsTotal: 0, trials: [], running: [] };
  setHandler(progressQuery, () => progress);
  // A spec accepted before the strict checks existed must still be accepted when its sweep replays or
  // continues as new; a new sweep's first run checks strictly (a continued run's spec passed already).
  const strict = !carry && patched(STRICT_SPEC_PATCH);
  const checks = strict ? specChecksGeneration() : 1;
  const spec = validate(rawSpec, (raw) => parseSweepSpec(raw, { strict, checks }));
  const trialsPerRun = validate(continued.trialsPerRun, validTrialsPerRun);
  // A continued run's trials are the sweep's from its start, not only once this run has planned its own
  // (the progress query and the Web UI said "of 0 trials" until then). Queries and details are no commands.
  if (carry) progress.trialsTotal = trialCount(spec);
  if (spec.search) progress.objective = spec.search.objective;
  const sweepId = workflowInfo().workflowId;
  // The id names the sweep's folder of artifacts: "/" in it would write into another sweep's.
  const idProblem = strict ? sweepIdProblem(sweepId) : undefined;
  if (idProblem) throw ApplicationFailure.nonRetryable(idProblem, FailureType.sweepId);
  // In every run: one that continued as new starts with no memo (the server copies none over).
  if (patched(OBJECTIVE_MEMO_PATCH)) upsertMemo({ objective: objectiveOf(spec) } satisfies SweepMemo);
  let plans: TrialPlan[] = [];
  // The values each hyperparameter takes: the grid's, or (once planned) those the search drew.
  let values = spec.grid;
  // Early stopping's book of decisions (pure: rebuilt on replay from the signals).
  const ledger = spec.search?.earlyStopping && new StopLedger(spec.search.earlyStopping, spec.search.objective, carry?.ledger);
  const live = () => liveLeaderboard({ sweepId, name: spec.name, stage: progress.stage, trialsTotal: progress.trialsTotal }, progress.trials, progress.running, plans, spec.search?.objective, progress.unlisted, ledger?.waiting());
  setHandler(leaderboardQuery, live);
  const publish = (stage?: SweepProgress['stage']) => {
    if (stage) progress.stage = stage;
    const board = live();
    progress.bestValAccuracy = board.ranked[0]?.valAccuracy;
    setCurrentDetails(sweepCurrentDetails(board, values, progress.data));
    const counts = trialCounts(progress.trials, progress.unlisted);
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.name, value: spec.name },
      { key: SEARCH_ATTRIBUTES.status, value: progress.stage },
      { key: SEARCH_ATTRIBUTES.done, value: counts.ranked },
      { key: SEARCH_ATTRIBUTES.running, value: progress.running.length },
      { key: SEARCH_ATTRIBUTES.failed, value: counts.failed },
      ...(progress.bestValAccuracy === undefined ? [] : [{ key: SEARCH_ATTRIBUTES.best, value: progress.bestValAccuracy }]),
    ]);
  };

  // Early stopping: trials report at each decision epoch; decisions go back as soon as they can be made.
  if (ledger) {
    setHandler(epochsReportedSignal, async (report) => {
      ledger.report(report);
      await sendStopDecisions(sweepId, ledger);
    });
    // Which runs wait at a rung, for `sweep status` (a query's answer is no command: replay-safe).
    setHandler(progressQuery, () => ({ ...progress, waiting: live().running.flatMap((t) => (t.waitingAt === undefined ? [] : [{ run: t.run, epoch: t.waitingAt, of: t.epochs }])) }));
  }

  // CPU workers heartbeat for every activity while it runs, so a task the server started but never
  // delivered is retried after 20 s instead of stalling the sweep (docs/guarantees.md).
  const cpu = proxyActivities<CpuActivities>({ taskQueue: spec.taskQueues.cpu, startToCloseTimeout: '2h', heartbeatTimeout: '20s', retry: ACTIVITY_RETRY });
  const gpu = proxyActivities<GpuActivities>({ taskQueue: spec.taskQueues.gpu, startToCloseTimeout: '2h', heartbeatTimeout: '5m', retry: ACTIVITY_RETRY });

  const { split, features } = carry ? carry.prepared : await prepare();
  async function prepare() {
    publish('ingesting');
    // The backbone is loaded and checked on a GPU worker beside the data steps; either failing fails the
    // sweep at once (a bad backbone need not wait for a large data set's ingestion). Sweeps started
    // before checked it at their first feature shard, after the data steps.
    const backboneChecked = patched(BACKBONE_CHECKED_FIRST_PATCH)
      // It heartbeats by timer (run-workers.ts): a task lost on its way is retried after 20 s, not the GPU steps' 5 minutes.
      ? gpu.checkBackbone.executeWithOptions({ summary: `load and check backbone ${spec.backbone.uri}`, heartbeatTimeout: '20s' }, [{ backbone: spec.backbone, image: spec.image }])
      : undefined;
    const [split] = await Promise.all([dataSteps(), backboneChecked]);
    return { split, features: await extractFeatureSets(gpu, spec, split) };
  }
  /** Ingest, balance, split; then the stage is feature extraction (waiting for a GPU worker, if none is up). */
  async function dataSteps() {
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
    return split;
  }
  // A sweep started before continue-as-new existed keeps running every trial in one run.
  const chunked = !!carry || (trialCount(spec) > trialsPerRun && patched(CONTINUE_AS_NEW_PATCH));
  const chunk = chunked ? runChunk(carry?.nextRun ?? 1, trialCount(spec), trialsPerRun, spec.search?.method === 'bayesian' ? spec.concurrency : 1) : undefined;
  const runOne = async (plan: TrialPlan) => {
    progress.running.push(plan.run);
    publish();
    const summary = await runTrial(sweepId, spec, split, features, plan);
    firstRuns.get(plan.trialId)?.finish(summary);
    await endInLedger(plan.run);
    progress.running = progress.running.filter((run) => run !== plan.run);
    progress.trials.push(summary);
    publish();
    return summary;
  };
  // A random draw or a suggestion can repeat a configuration, so a trial id planned before: its later
  // runs share the first run's outcome (the same trial, trained once) instead of training it beside it.
  // A trial an earlier run of the sweep ran first (before it continued as new) comes with that run's outcome.
  type FirstRun = { run: number; summary: Promise<TrialSummary> | TrialSummary };
  const firstRuns = new Map<string, FirstRun & { finish: (summary: TrialSummary) => void }>();
  const runRepeat = async ({ plan, first }: { plan: TrialPlan; first: FirstRun }) => {
    // It reports nothing to early stopping: its first run's reports stand for it.
    await endInLedger(plan.run);
    const summary: TrialSummary = { ...await first.summary, run: plan.run, params: plan.params, sameAs: first.run };
    progress.trials.push(summary);
    publish();
    return summary;
  };
  /** Runs planned trials: each trial id once, its repeats (only in sweeps with the patches) sharing its outcome. */
  const runAll = async (planned: TrialPlan[]) => {
    const firsts: TrialPlan[] = [];
    const repeats: Array<{ plan: TrialPlan; first: FirstRun }> = [];
    for (const plan of planned) {
      const first = plan.repeatOf && patched(REPEATED_ACROSS_RUNS_PATCH) ? { run: plan.repeatOf.run, summary: plan.repeatOf } : firstRuns.get(plan.trialId);
      if (first) {
        repeats.push({ plan, first });
        continue;
      }
      let finish!: (summary: TrialSummary) => void;
      const summary = new Promise<TrialSummary>((resolve) => { finish = resolve; });
      firstRuns.set(plan.trialId, { run: plan.run, summary, finish });
      firsts.push(plan);
    }
    const once = repeats.length > 0 && patched(REPEATED_TRIAL_ONCE_PATCH);
    const own = once ? firsts : planned;
    // Trials found finished run beside the bound. Older workers ignored the marks (a sweep planned by a
    // newer CPU worker but run by an older workflow worker): such a sweep replays as it ran.
    const runOwn = () => (patched(REUSED_BESIDE_BOUND_PATCH) ? runPlannedTrials(own, spec.concurrency, runOne) : mapBounded(own, spec.concurrency, runOne));
    if (!once) return runOwn();
    const [ownSummaries, repeatSummaries] = await Promise.all([runOwn(), Promise.all(repeats.map(runRepeat))]);
    return planned.map((plan) => ownSummaries[own.indexOf(plan)] ?? repeatSummaries[repeats.findIndex((r) => r.plan === plan)]);
  };
  /** Trial `run` will report nothing more: decisions waiting for it can be made. */
  async function endInLedger(run: number): Promise<void> {
    if (!ledger) return;
    ledger.end(run);
    await sendStopDecisions(sweepId, ledger);
  }
  /** Plans trials (all of them, a run's chunk, or a bayesian batch) and declares their hyperparameters to TensorBoard. */
  const planBatch = async (suggested?: { configs: Params[]; firstRun: number }) => {
    const planned = await cpu.planTrials.executeWithOptions({
      summary: suggested ? `plan ${suggested.configs.length} suggested trials from run ${suggested.firstRun}` : chunk ? `plan runs ${chunk.first} to ${chunk.first + chunk.count - 1}` : `plan ${trialCount(spec)} trials`,
    }, [{
      spec: planningSpec(spec), numClasses: split.classes.length, train: features.train, val: features.val, ...(suggested ? { suggested } : chunk ? { runs: chunk } : {}),
      ...(carry?.parts ? { earlier: { sweepId, parts: carry.parts } } : {}),
    }]);
    plans = [...plans, ...planned];
    if (spec.search) values = valuesByName(plans.map((plan) => plan.params));
    // The experiment declares the grid or the search's space, which no later batch or run changes:
    // the sweep's first plan writes it. (A search wrote the values drawn so far, so older sweeps rewrote it.)
    const written = (carry || plans.length > planned.length) && patched(EXPERIMENT_ONCE_PATCH);
    if (!written) {
      await cpu.writeTensorboardExperiment.executeWithOptions({ summary: 'write TensorBoard HParams experiment' }, [{ sweepId, name: spec.name, grid: values, ...(spec.search ? { space: spec.search.space } : {}) }]);
    }
    progress.trialsTotal = suggested || chunk ? trialCount(spec) : plans.length;
    publish('training');
    return planned;
  };
  /** Plans trials and runs them. */
  const planAndRun = async (suggested?: { configs: Params[]; firstRun: number }) => {
    const planned = await planBatch(suggested).catch((error: unknown) => {
      // Cancelled while planning a later batch or run: nothing more runs; what finished before is ranked below.
      if (isCancellation(error) && (carry || trials.length > 0) && sweepCancelled(CANCELLED_WHILE_PLANNING_PATCH)) return [];
      throw error;
    });
    return runAll(planned);
  };

  let trials: TrialSummary[] = [];
  /** A bayesian search's finished trials: those of earlier runs (carried) and this run's. */
  const finishedSoFar = () => [...carry?.finished ?? [], ...finishedTrials(trials, spec.search!.objective)];
  if (spec.search?.method === 'bayesian') {
    // The suggest worker heartbeats while TPE runs, so a suggestion lost with its worker (or a task the
    // server started and never delivered) is asked again after 20 s, not after the 5-minute start-to-close.
    const suggest = proxyActivities<SuggestActivities>({ taskQueue: spec.taskQueues.suggest!, startToCloseTimeout: '5m', heartbeatTimeout: '20s', retry: ACTIVITY_RETRY });
    // Batch by batch, each suggested from exactly the trials of the batches before it.
    const first = chunk?.first ?? 1;
    for (const count of batchSizes(chunk?.count ?? spec.search.budget, spec.concurrency)) {
      // Cancelled: no more batches; what finished is ranked below (before the patch, the next suggestion threw).
      if (sweepCancelled(CANCELLED_STOPS_SUGGESTING_PATCH)) break;
      const finished = finishedSoFar();
      if (patched(SUGGESTING_STAGE_PATCH)) publish('suggesting trials');
      const configs = await suggest.suggestTrials.executeWithOptions({ summary: `suggest ${count} trials from ${finished.length} finished (TPE)` },
        [suggestRequest(spec.search, spec.seed, finished, count)]).catch((error: unknown) => {
        // Cancelled while asking: no more batches, as above.
        if (isCancellation(error) && sweepCancelled(CANCELLED_WHILE_SUGGESTING_PATCH)) return undefined;
        throw error;
      });
      if (!configs) break;
      trials = [...trials, ...await planAndRun({ configs, firstRun: first + trials.length })];
    }
  } else {
    trials = await planAndRun();
  }

  let cancelled = CancellationScope.current().consideredCancelled;
  let earlierParts = carry?.parts;
  const nextRun = chunk && chunk.first + chunk.count;
  if (nextRun && nextRun <= trialCount(spec) && !cancelled) {
    // The chunk has drained (no trial running, no stop decision pending): its summaries go to S3 and a fresh run takes over.
    const part = earlierParts ?? 0;
    await CancellationScope.nonCancellable(() => cpu.writeTrialPart.executeWithOptions({ summary: `write the summaries of runs ${chunk.first} to ${nextRun - 1}` }, [{ sweepId, part, trials }]));
    cancelled = CancellationScope.current().consideredCancelled;
    if (!cancelled) {
      return continueAsNew<typeof sweepWorkflow>(rawSpec, {
        ...(continued.trialsPerRun === undefined ? {} : { trialsPerRun }),
        carry: nextCarry(carry, {
          prepared: { split, features, ...(progress.data ? { data: progress.data } : {}) },
          nextRun,
          listed: progress.trials,
          objective: spec.search?.objective,
          ...(ledger ? { ledger: ledger.state(nextRun, patched(LEDGER_AT_DECISIONS_PATCH)) } : {}),
          ...(spec.search?.method === 'bayesian' ? { finished: finishedSoFar() } : {}),
        }),
      });
    }
    // Cancelled while writing them: rank with this run's part read back like the others.
    earlierParts = part + 1;
  }
  if (patched(RANKING_STAGE_PATCH)) publish('ranking');
  // Exported before ranking, so the leaderboard points at the model (the best of earlier runs is among those carried).
  let exported = cancelled ? {} : await exportBest(gpu, sweepId, spec, split, [...carry?.listed ?? [], ...trials]);
  if (!cancelled && sweepCancelled(CANCELLED_WHILE_EXPORTING_PATCH)) {
    // Cancelled while exporting: a model exported before the cancel reached it is kept; a cancelled export is no failure.
    cancelled = true;
    exported = exported.model ? { model: exported.model } : {};
  }
  // Results of what finished are written even when the sweep was cancelled.
  const leaderboard = await CancellationScope.nonCancellable(async () => {
    const current = earlierParts === carry?.parts ? trials : [];
    const board = await cpu.rankSweep.executeWithOptions({ summary: `rank ${current.length} trials${earlierParts ? ` and those of ${earlierParts} earlier runs` : ''}` },
      [{ sweepId, spec, trials: current, ...(earlierParts ? { earlierParts } : {}), status: cancelled ? 'cancelled' : 'completed', data: progress.data, classes: split.classes, ...exported }]);
    return { ...board, artifacts: { ...board.artifacts, report: await writeReport(cpu, sweepId) } };
  });
  publish(cancelled ? 'cancelled' : 'done');
  if (cancelled) throw new CancelledFailure(`sweep cancelled; partial results in ${leaderboard.artifacts.prefix}`);
  return leaderboard;
}

/** The generation of checks a strict sweep's spec gets: patched() in order, so each history meets the markers it recorded. */
function specChecksGeneration(): SpecChecks {
  let generation = 1;
  for (const patch of SPEC_CHECKS_PATCHES) {
    if (!patched(patch)) break;
    generation++;
  }
  return generation as SpecChecks;
}

function validate<T>(raw: unknown, parse: (raw: unknown) => T): T {
  try {
    return parse(raw);
  } catch (error) {
    if (error instanceof SpecError) throw ApplicationFailure.nonRetryable(error.message, FailureType.spec, error.problems);
    throw error;
  }
}

async function runTrial(sweepId: string, spec: SweepSpec, split: SplitSummary, features: SweepFeatures, plan: TrialPlan): Promise<TrialSummary> {
  try {
    return await executeChild(trialWorkflow, {
      workflowId: trialWorkflowId(sweepId, plan.run),
      ...trialStartMetadata(plan, spec, sweepId),
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
  const results = new Array<FeatureShardResult>(requests.length);
  let firstBackbone: string | undefined;
  let otherBackbone = false;
  // Built only when a shard names another copy than the first: the message reads every shard (thousands).
  const mismatch = () => ApplicationFailure.nonRetryable(backboneMismatch(requests, results)!, FailureType.backboneMismatch);
  await mapBounded(requests, Math.max(2, spec.concurrency), async (request, i) => {
    const result = results[i] = await gpu.extractFeatures.executeWithOptions({
      summary: `features: ${request.split} shard ${request.shard} (${request.views.length} view${request.views.length === 1 ? '' : 's'})`,
      // It heartbeats every backbone batch, so a dead GPU worker is noticed as soon as in training, not after 5 minutes.
      heartbeatTimeout: `${spec.heartbeatTimeoutSeconds}s`,
    }, [request]);
    // Judged as each shard comes in: a second copy fails the sweep at its first shard, not after every shard of a large set.
    firstBackbone ??= result.backboneId;
    if (!result.backboneId || result.backboneId === firstBackbone) return;
    otherBackbone = true;
    if (patched(BACKBONES_AGREE_PATCH)) throw mismatch();
  });
  // A sweep of 1ddd3e7 (the check's first commit, never released) judged the shards once all were in and
  // recorded the marker there: replayed, it is not known at the shard, and the sweep fails here as it did.
  if (otherBackbone && patched(BACKBONES_AGREE_PATCH)) throw mismatch();
  return collectFeatureSets(requests, results);
}

/**
 * The HTML report is a view of results already written: if it cannot be made, the sweep still succeeds.
 * Retried like every step (storage outages; it had 3 attempts, about 3 s, before); a report that cannot
 * be made fails without retry (activities/report.ts). No patch: a command's retry policy is not part of
 * what replay compares.
 */
async function writeReport(cpu: ActivityInterfaceFor<CpuActivities>, sweepId: string): Promise<string | undefined> {
  try {
    return await cpu.writeReport.executeWithOptions({ summary: 'write report.html' }, [{ sweepId }]);
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
    // The GPU worker heartbeats while it exports, so a task lost on its way there costs seconds, not the GPU proxy's 5 minutes.
    // Retried like every step (storage outages); an export that cannot work fails without retry (activities/export.ts).
    return { model: await gpu.exportModel.executeWithOptions({ summary: `export run ${best.run} as one model`, heartbeatTimeout: '20s' }, [input]) };
  } catch (error) {
    return { modelError: rootMessage(error) };
  }
}
