// The last step of the DAG: rank the trials and write the sweep's results (per-epoch rows in CSV
// and JSON, the leaderboard) under the sweep's prefix.
import { artifactKeys } from '../lib/artifact-keys';
import { DataSummary } from '../lib/data-summary';
import { EpochRow, rowsAsCsv, rowsAsRecords } from '../lib/epoch-rows';
import { completedTrials } from '../lib/live-leaderboard';
import { rankTrials } from '../lib/rank';
import { ExportedModel, Leaderboard, TrainResult, TrialSummary } from '../lib/sweep-types';
import { SweepSpec, objectiveOf } from '../lib/sweep-spec';
import { getJsonIfExists, putJson, putObject, s3Url } from '../platform/storage';
import { writeSessionEnds } from './tensorboard-events';

export interface RankInput {
  sweepId: string;
  spec: SweepSpec;
  trials: TrialSummary[];
  status: Leaderboard['status'];
  /** The best trial's exported model, or why it could not be exported. */
  model?: ExportedModel;
  modelError?: string;
  /** What ingestion found (absent for sweeps started by workers before it was recorded). */
  data?: DataSummary;
}

export async function rankSweep(input: RankInput): Promise<Leaderboard> {
  const rows: EpochRow[] = [];
  for (const trial of [...input.trials].sort((a, b) => a.run - b.run)) {
    const result = await getJsonIfExists<TrainResult>(artifactKeys.trialResult(trial.trialId));
    for (const epoch of result?.epochs ?? []) rows.push({ ...epoch, run: trial.run, trialId: trial.trialId, params: trial.params });
  }
  const ranked = rankTrials(completedTrials(input.trials), objectiveOf(input.spec));
  const file = (name: string) => artifactKeys.sweepResults(input.sweepId, name);
  const leaderboard: Leaderboard = {
    sweepId: input.sweepId,
    status: input.status,
    ...(input.spec.search ? { objective: input.spec.search.objective } : {}),
    ranked,
    failed: input.trials.filter((t) => t.status === 'failed' || t.status === 'cancelled'),
    best: ranked[0],
    model: input.model,
    modelError: input.modelError,
    reusedTrials: input.trials.filter((t) => t.reused).length,
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
  await putJson(file('leaderboard.json'), leaderboard);
  await writeSessionEnds(input.sweepId, input.trials);
  return leaderboard;
}
