// sweeps/<id>/leaderboard.json has two writers: the rank step writes the ranking, then the report step
// adds the report's link. Either step's attempt can be presumed dead (a hung worker) and retried, and
// wake after its retry and the next step have written: a plain write of its older document would take
// the link away again. So both write conditionally on the version they read, and read again when
// another write came between.
import { isDeepStrictEqual } from 'node:util';
import { artifactKeys } from '../lib/artifact-keys';
import { Leaderboard } from '../lib/sweep-types';
import { PreconditionFailedError } from '../platform/object-store';
import { JsonVersion, getJsonVersionIfExists, putJsonIf, putJsonUnless } from '../platform/storage';

export const leaderboardKey = (sweepId: string) => artifactKeys.sweepResults(sweepId, 'leaderboard.json');

/** The stored leaderboard and the version a conditional write compares against; undefined before ranking. */
export function readLeaderboard(sweepId: string): Promise<JsonVersion<Leaderboard> | undefined> {
  return getJsonVersionIfExists<Leaderboard>(leaderboardKey(sweepId));
}

/** Writes the ranking, unless leaderboard.json holds it already (the report's link aside, which it then keeps). */
export async function writeRanking(board: Leaderboard): Promise<void> {
  // As stored: undefined fields dropped, as JSON drops them.
  const ranking = JSON.parse(JSON.stringify(board)) as Leaderboard;
  await putJsonUnless(leaderboardKey(board.sweepId), ranking, (stored) => isDeepStrictEqual(withoutReportLink(stored), ranking));
}

/** Links the report from the ranking it was built from; false when leaderboard.json changed since that was read. */
export async function linkReport(read: JsonVersion<Leaderboard>, url: string): Promise<boolean> {
  if (read.value.artifacts.report === url) return true;
  try {
    await putJsonIf(leaderboardKey(read.value.sweepId), { ...read.value, artifacts: { ...read.value.artifacts, report: url } }, { ifMatch: read.etag });
    return true;
  } catch (error) {
    if (error instanceof PreconditionFailedError) return false;
    throw error;
  }
}

function withoutReportLink(board: Leaderboard): Leaderboard {
  const { report: _, ...artifacts } = board.artifacts;
  return { ...board, artifacts };
}
