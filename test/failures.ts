// What a step that no retry can help must do: fail once, for good, with its failure type and a message
// that names the problem (activities/failures.ts).
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';

/** Asserts that `work` rejects with a non-retryable ApplicationFailure of `type` whose message matches `message`. */
export async function assertFailsForGood(work: Promise<unknown>, type: string, message: RegExp): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${error}`);
    assert.deepEqual([error.type, error.nonRetryable], [type, true]);
    assert.match(error.message, message);
    return true;
  });
}
