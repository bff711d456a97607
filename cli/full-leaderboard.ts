// A sweep's final leaderboard with every row: a long sweep's workflow result lists only the first
// rows (lib/sweep-continuation.ts RESULT_ROWS), leaderboard.json in S3 has them all.
import { artifactKeys } from '../lib/artifact-keys';
import { Leaderboard } from '../lib/sweep-types';
import { getJson } from '../platform/storage';

export async function fullLeaderboard(result: Leaderboard): Promise<Leaderboard> {
  return result.truncated ? getJson<Leaderboard>(artifactKeys.sweepResults(result.sweepId, 'leaderboard.json')) : result;
}
