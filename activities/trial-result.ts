// trials/<id>/result.json: the trial's furthest result, which later sweeps reuse and every sweep's
// results read their epochs from. Sweeps that share the trial store theirs in turn (the training lease),
// but an attempt presumed dead can still store its shorter one after a later rung's, so the write is
// conditional on the version read.
import { artifactKeys } from '../lib/artifact-keys';
import { TrainResult } from '../lib/sweep-types';
import { putJsonUnless } from '../platform/storage';

/** Stores a trial's result unless a longer one is there: a sweep that stopped the trial earlier (or a stale attempt) must not shorten what others read and reuse. */
export async function storeResult(result: TrainResult): Promise<void> {
  await putJsonUnless<Pick<TrainResult, 'epochs'>>(artifactKeys.trialResult(result.trialId), result, (stored) => stored.epochs.length > result.epochs.length);
}
