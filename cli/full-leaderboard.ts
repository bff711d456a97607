// A sweep's leaderboard as the CLI shows it: the workflow's result lists only the first rows of a long
// sweep (lib/sweep-continuation.ts RESULT_ROWS), leaderboard.json in S3 has them all; a cancelled sweep
// has only leaderboard.json, its partial one.
import { leaderboardKey } from '../activities/leaderboard-file';
import { Leaderboard } from '../lib/sweep-types';
import { getJson, getJsonIfExists } from '../platform/storage';

export async function fullLeaderboard(result: Leaderboard): Promise<Leaderboard> {
  return result.truncated ? getJson<Leaderboard>(leaderboardKey(result.sweepId)) : result;
}

/** leaderboard.json as the sweep wrote it; undefined before it has ranked its trials (running, or cancelled before). */
export function storedLeaderboard(sweepId: string): Promise<Leaderboard | undefined> {
  return getJsonIfExists<Leaderboard>(leaderboardKey(sweepId));
}
