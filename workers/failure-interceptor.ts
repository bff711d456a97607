// Turns errors that no retry can fix into failures Temporal does not retry. Today: a missing object.
// Retrying it would only repeat the same error every 30 s for ever while the sweep shows RUNNING; the
// failure instead names the object and what to do, and the trial (or step) fails visibly.
import { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { MissingObjectError } from '../activities/storage';

export const MISSING_ARTIFACT = 'MissingArtifact';

export function missingObjectFailure(error: MissingObjectError): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${error.message}: it cannot appear by waiting, so this step stops instead of retrying. If it was deleted, start the sweep again ` +
    'with the same spec: steps whose outputs exist are reused and missing outputs are made again; trials resume from their checkpoints.',
    MISSING_ARTIFACT, { bucket: error.bucket, key: error.key });
}

export class MissingObjectInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (error) {
      if (error instanceof MissingObjectError) throw missingObjectFailure(error);
      throw error;
    }
  }
}
