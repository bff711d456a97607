// Domain errors become Temporal failures at the activity boundary, so model/ and lib/ stay free of
// Temporal. Workers install the interceptor; direct callers (bench, tests) can use toFailure.
import { ApplicationFailure } from '@temporalio/common';
import { ActivityInboundCallsInterceptor, ActivityInterceptors, ActivityExecuteInput, Next } from '@temporalio/worker';
import { DomainError } from '../lib/errors';

/** A DomainError as the non-retryable ApplicationFailure of its type; anything else as it is. */
export function toFailure(error: unknown): unknown {
  return error instanceof DomainError ? ApplicationFailure.nonRetryable(error.message, error.type) : error;
}

class DomainErrorsAsFailures implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (error) {
      throw toFailure(error);
    }
  }
}

export function failureInterceptors(): ActivityInterceptors {
  return { inbound: new DomainErrorsAsFailures() };
}
