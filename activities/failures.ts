// Errors that no retry can fix become failures Temporal does not retry, at the activity boundary, so
// model/, lib/ and platform/ stay free of Temporal. Workers install the interceptor; direct callers
// (bench, tests) can use toFailure.
import { ApplicationFailure } from '@temporalio/common';
import { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { DomainError, FailureType, TransientError, findCause, isPassingSystemError, rootMessage } from '../lib/errors';
import { SettingError } from '../platform/config';
import { MissingObjectError } from '../platform/object-store';
import { isStorageError } from '../platform/s3-store';

/**
 * A missing object: retrying would only repeat the same error every 30 s for ever while the sweep
 * shows RUNNING; the failure instead names the object and what to do, and the step fails visibly.
 */
function missingObjectFailure(error: MissingObjectError): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${error.message}: it cannot appear by waiting, so this step stops instead of retrying. If it was deleted, start the sweep again (under a new id) ` +
    'with the same spec: steps whose outputs exist are reused and missing outputs are made again; trials resume from their checkpoints.',
    FailureType.missingArtifact, { bucket: error.bucket, key: error.key });
}

/** A DomainError or a missing object as the non-retryable ApplicationFailure it stands for; anything else as it is. */
export function toFailure(error: unknown): unknown {
  if (error instanceof DomainError) return ApplicationFailure.nonRetryable(error.message, error.type);
  if (error instanceof MissingObjectError) return missingObjectFailure(error);
  return error;
}

/**
 * For work whose errors are not all storage's (the export and the report, whose failure the sweep
 * survives; loading the backbone): storage errors and other transient ones (a connection cut while
 * reading, a backbone server's 5xx, too many open files) are retried, as in every step, for as long as
 * they last, and so is a setting this worker cannot run with (another worker may). Any other error is
 * the work itself failing, which a retry would repeat: non-retryable, of `type`.
 */
export function retriedOnlyWhenTransient(error: unknown, step: string, type: FailureType): unknown {
  const transient = isStorageError(error) || findCause(error, (e) => e instanceof TransientError || e instanceof SettingError || isPassingSystemError(e)) !== undefined;
  if (error instanceof ApplicationFailure || error instanceof DomainError || error instanceof MissingObjectError || transient) return error;
  return ApplicationFailure.nonRetryable(`${step} failed: ${rootMessage(error)}`, type);
}

export class FailureInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (error) {
      throw toFailure(error);
    }
  }
}
