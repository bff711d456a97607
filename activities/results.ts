// The last step of the DAG: rank the trials and write the sweep's results (per-epoch rows in CSV
// and JSON, the leaderboard) under the sweep's prefix. A sweep that continues as new writes each
// run's trial summaries first, and ranking reads them back.
import { artifactKeys } from '../lib/artifact-keys';
import { DataSummary } from '../lib/data-summary';
import { EpochRow, rowsAsCsv, rowsAsRecords } from '../lib/epoch-rows';
import { completedTrials } from '../lib/live-leaderboard';
import { rankTrials } from '../lib/rank';
import { resultLeaderboard } from '../lib/sweep-continuation';
import { BestTrial, Evaluation, ExportedModel, Leaderboard, TrainResult, TrialSummary } from '../lib/sweep-types';
import { SweepSpec, objectiveOf } from '../lib/sweep-spec';
import { getJson, getJsonIfExists, putJson, putObject, s3Url } from '../platform/storage';
import { writeRanking } from './leaderboard-file';
import { writeSessionEnds } from './tensorboard-events';

export interface RankInput {
  sweepId: string;
  spec: SweepSpec;
  /** The trials of this run; with `earlierParts`, those of the earlier runs are read from S3. */
  trials: TrialSummary[];
  /** How many trial summary parts earlier runs wrote (writeTrialPart); absent: none. */
  earlierParts?: number;
  status: Leaderboard['status'];
  /** The best trial's exported model, or why it could not be exported. */
  model?: ExportedModel;
  modelError?: string;
  /** What ingestion found (absent for sweeps started by workers before it was recorded). */
  data?: DataSummary;
  /** The class names, in label order (absent for sweeps started by workers before it was passed). */
  classes?: string[];
}

/** One run's trial summaries, before the sweep continues as new. */
export async function writeTrialPart(input: { sweepId: string; part: number; trials: TrialSummary[] }): Promise<string> {
  const key = artifactKeys.sweepTrialPart(input.sweepId, input.part);
  await putJson(key, input.trials);
  return key;
}

/** The trial summaries the first `parts` runs of a sweep wrote, in run order. */
export async function readTrialParts(sweepId: string, parts: number): Promise<TrialSummary[]> {
  return (await Promise.all(Array.from({ length: parts }, (_, part) => getJson<TrialSummary[]>(artifactKeys.sweepTrialPart(sweepId, part))))).flat();
}

/**
 * The best trial with its full test scores: its summary carries the loss and accuracy, the per-class
 * scores and the confusion matrix are beside its head (summaries made before carry them). Read back
 * empty if that file is gone, so the leaderboard still has its accuracy. The scores are named by this
 * sweep's `classes`: a trial reused from a sweep whose class folders had other names (the same images
 * and labels, so the same trial) stored them under those.
 */
async function withFullTestScores(trial: TrialSummary, classes: readonly string[] | undefined): Promise<BestTrial> {
  const { test, ...rest } = trial;
  if (!test) return rest;
  const stored = test.perClass && test.confusion ? test
    : trial.headKey ? await getJsonIfExists<Evaluation>(artifactKeys.headEvaluation(trial.headKey, 'test')) : undefined;
  const perClass = (stored?.perClass ?? []).map((scores, label) => ({ ...scores, className: classes?.[label] ?? scores.className }));
  return { ...rest, test: { ...test, perClass, confusion: stored?.confusion ?? [] } };
}

/** Ranks and writes the results; returns the leaderboard, its lists cut to RESULT_ROWS when longer. */
export async function rankSweep(input: RankInput): Promise<Leaderboard> {
  const trials = [...await readTrialParts(input.sweepId, input.earlierParts ?? 0), ...input.trials];
  const rows: EpochRow[] = [];
  for (const trial of [...trials].sort((a, b) => a.run - b.run)) {
    // The stored result is the trial's furthest (another sweep may have trained it on): this sweep's are its first epochsDone.
    const result = await getJsonIfExists<TrainResult>(artifactKeys.trialResult(trial.trialId));
    for (const epoch of (result?.epochs ?? []).slice(0, trial.epochsDone)) rows.push({ ...epoch, run: trial.run, trialId: trial.trialId, params: trial.params });
  }
  const ranked = rankTrials(completedTrials(trials), objectiveOf(input.spec));
  const file = (name: string) => artifactKeys.sweepResults(input.sweepId, name);
  const leaderboard: Leaderboard = {
    sweepId: input.sweepId,
    status: input.status,
    ...(input.spec.search ? { objective: input.spec.search.objective } : {}),
    ranked,
    failed: trials.filter((t) => t.status === 'failed' || t.status === 'cancelled'),
    ...(ranked[0] ? { best: await withFullTestScores(ranked[0], input.classes) } : {}),
    model: input.model,
    modelError: input.modelError,
    reusedTrials: trials.filter((t) => t.reused).length,
    ...(input.data ? { data: input.data } : {}),
    artifacts: {
      prefix: s3Url(artifactKeys.sweep(input.sweepId) + '/'),
      resultsCsv: s3Url(file('results.csv')),
      resultsJson: s3Url(file('results.json')),
      leaderboardJson: s3Url(file('leaderboard.json')),
    },
  };
  await putObject(file('results.csv'), rowsAsCsv(rows), 'text/csv');
  await putJson(file('results.json'), rowsAsRecords(rows));
  await putJson(file('spec.json'), input.spec);
  await writeRanking(leaderboard);
  await writeSessionEnds(input.sweepId, trials);
  return resultLeaderboard(leaderboard);
}
