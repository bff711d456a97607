// A running trial's training as the server knows it: its pending trainTrial activity's last heartbeat
// (epoch, batch, the last epoch's metrics), or that the activity waits for a slot or a retry, or that
// the trial scores the test split. Read by `sweep watch` and `sweep status` from describe() of the trial.
import { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { fromPayloadsAtIndex } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { TrialProgress, trainActivityProgress } from '../views/watch-view';

/** The trial's pending trainTrial activity's last heartbeat (undefined before the first one), queued or retry state, or evaluating. */
export function trialProgress(client: Client, description: WorkflowExecutionDescription | undefined, epochs: number, known?: TrialProgress): TrialProgress | undefined {
  // Not started yet, or closed since the leaderboard was read.
  if (!description) return undefined;
  const pending = description.raw.pendingActivities ?? [];
  const evaluating = pending.find((a) => a.activityType?.name === 'evaluateTrial');
  if (evaluating) return { epochsDone: epochs, of: epochs, attempt: evaluating.attempt ?? 1, evaluating: true };
  const training = pending.find((a) => a.activityType?.name === 'trainTrial');
  if (!training) return undefined;
  const payloads = training.heartbeatDetails?.payloads;
  const details = payloads?.length ? fromPayloadsAtIndex(client.options.loadedDataConverter.payloadConverter, 0, payloads) : undefined;
  const scheduled = training.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;
  // Set only while the activity waits out its retry backoff.
  const nextAttempt = optionalTsToMs(training.nextAttemptScheduleTime);
  const pendingTraining = {
    attempt: training.attempt ?? 1, scheduled, lastFailure: training.lastFailure?.message ?? undefined,
    ...(scheduled && nextAttempt !== undefined ? { retryInSeconds: Math.max(0, (nextAttempt - Date.now()) / 1000) } : {}),
  };
  return trainActivityProgress(details, pendingTraining, epochs, known);
}
