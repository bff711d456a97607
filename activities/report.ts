// The sweep's HTML report (sweeps/<id>/report.html), built from what rankSweep and the trials wrote
// to S3: leaderboard.json, spec.json and each trial's per-epoch metrics. `sweep report` builds the
// same page locally with buildSweepReport.
import fs from 'node:fs';
import path from 'node:path';
import { artifactKeys } from '../lib/artifact-keys';
import { FailureType } from '../lib/errors';
import { EpochMetrics } from '../lib/epoch-rows';
import { TrialCurve, renderReportHtml } from '../views/report-html';
import { Leaderboard, TrainResult, TrialSummary } from '../lib/sweep-types';
import { JsonVersion, getJsonIfExists, putObject, s3Url } from '../platform/storage';
import { retriedOnlyWhenTransient } from './failures';
import { leaderboardKey, linkReport, readLeaderboard } from './leaderboard-file';

export const reportKey = (sweepId: string) => artifactKeys.sweepResults(sweepId, 'report.html');

/**
 * Writes the report to S3, links it from leaderboard.json, and returns its s3:// URL. A report that
 * cannot be made is not retried (the sweep completes without it); storage and other transient errors are.
 */
export async function writeReport(input: { sweepId: string }): Promise<string> {
  try {
    return await writeSweepReport(input.sweepId);
  } catch (error) {
    throw retriedOnlyWhenTransient(error, 'writing the report', FailureType.reportFailed);
  }
}

async function writeSweepReport(sweepId: string): Promise<string> {
  const url = s3Url(reportKey(sweepId));
  // leaderboard.json is written first (the report is built from it), so it learns the link only now;
  // built again from a fresh read when the ranking was written again meanwhile (leaderboard-file.ts).
  for (;;) {
    const board = await rankedLeaderboard(sweepId);
    await putObject(reportKey(sweepId), await renderReport(sweepId, board.value), 'text/html; charset=utf-8');
    if (await linkReport(board, url)) return url;
  }
}

export async function buildSweepReport(sweepId: string): Promise<string> {
  return renderReport(sweepId, (await rankedLeaderboard(sweepId)).value);
}

async function rankedLeaderboard(sweepId: string): Promise<JsonVersion<Leaderboard>> {
  const board = await readLeaderboard(sweepId);
  if (!board) {
    throw new Error(`sweep ${sweepId} has no ${s3Url(leaderboardKey(sweepId))} yet: the report is made once the sweep has ranked its trials (a running sweep can be followed with \`sweep watch ${sweepId}\`)`);
  }
  return board;
}

async function renderReport(sweepId: string, leaderboard: Leaderboard): Promise<string> {
  const spec = await getJsonIfExists<unknown>(artifactKeys.sweepResults(sweepId, 'spec.json'));
  const curves: TrialCurve[] = [];
  for (const trial of [...leaderboard.ranked, ...leaderboard.failed]) {
    curves.push({ run: trial.run, trialId: trial.trialId, epochs: await epochsOf(trial) });
  }
  return renderReportHtml({ leaderboard, spec, curves, generatedAt: new Date().toISOString() }, chartLibrary());
}

/**
 * A ranked trial's epochs are the first `epochsDone` of its stored result (the trial's furthest: another
 * sweep may have trained it on); one that failed or was cancelled has those of its last checkpoint.
 */
async function epochsOf(trial: TrialSummary): Promise<EpochMetrics[]> {
  const result = trial.status === 'completed' || trial.status === 'stopped' ? await getJsonIfExists<Pick<TrainResult, 'epochs'>>(artifactKeys.trialResult(trial.trialId)) : undefined;
  if (result) return (result.epochs ?? []).slice(0, trial.epochsDone);
  return (await getJsonIfExists<{ epochs: EpochMetrics[] }>(artifactKeys.trialCheckpoint(trial.trialId)))?.epochs ?? [];
}

let chartSource: string | undefined;

/** Chart.js's UMD bundle from node_modules, inlined into every report. */
function chartLibrary(): string {
  chartSource ??= fs.readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  return chartSource;
}
