import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceError } from '@temporalio/client';
import { isTemporalUnreachable, untilTemporalAnswers } from '../../cli/wait-for-temporal';

/** What the SDK throws once its own retries give up during an outage. */
function unavailable(): Error {
  const grpc = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: 'No connection established', metadata: {} });
  return new ServiceError('Failed to get Workflow execution history', { cause: grpc });
}

test('unreachable: UNAVAILABLE and refused connections; not: a missing workflow or a bad request', () => {
  assert.ok(isTemporalUnreachable(unavailable()));
  assert.ok(isTemporalUnreachable(new Error('connect ECONNREFUSED 127.0.0.1:7233')));
  assert.ok(!isTemporalUnreachable(new ServiceError('not found', { cause: Object.assign(new Error('5 NOT_FOUND: workflow not found'), { code: 5, details: '', metadata: {} }) })));
  assert.ok(!isTemporalUnreachable(new Error('sweep failed: too many unreadable images')));
});

test('a wait rides out an outage of many failed calls, says so once, and says when Temporal is back', async () => {
  const lines: string[] = [];
  let calls = 0;
  const answer = await untilTemporalAnswers(async () => {
    if (++calls <= 4) throw unavailable();
    return 'leaderboard';
  }, { address: '127.0.0.1:7233', write: (line) => lines.push(line), maxDelayMs: 5 });
  assert.equal(answer, 'leaderboard');
  assert.equal(calls, 5);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /Temporal at 127\.0\.0\.1:7233 is unreachable \(14 UNAVAILABLE.*\); waiting for it to come back.*Ctrl-C stops waiting, not the sweep/);
  assert.match(lines[1], /Temporal at 127\.0\.0\.1:7233 is back after \d+ s/);
});

test('other errors end the wait at once', async () => {
  let calls = 0;
  await assert.rejects(untilTemporalAnswers(async () => { calls++; throw new Error('workflow execution failed'); }, { address: 'x', write: () => undefined }), /workflow execution failed/);
  assert.equal(calls, 1);
});
