// cli/sweep-queries.ts: a query with a deadline of its own, the line for one unanswered, and the poll
// loop's one-query-at-a-time newest answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { latestAnswer, querySweep, unansweredLine } from '../../cli/sweep-queries';

/** An error as gRPC gives it (what the Temporal client wraps, as `cause`). */
const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });

describe('querySweep', () => {
  // withDeadline as the client does it: the call runs under the deadline, here given to `ask`.
  const client = (seen: number[]) => ({ withDeadline: (deadline: number, fn: () => Promise<unknown>) => { seen.push(deadline); return fn(); } }) as unknown as Client;

  test('an answer; a deadline passed (the cause of the client\'s error) is timedOut; anything else failed', async () => {
    const deadlines: number[] = [];
    const before = Date.now();
    assert.deepEqual(await querySweep(client(deadlines), async () => 42, 5_000), { answer: 42 });
    assert.ok(deadlines[0] >= before + 5_000 && deadlines[0] <= Date.now() + 5_000);
    const wrapped = Object.assign(new Error('Failed to query Workflow'), { cause: grpcError(4, 'Deadline exceeded after 9.996s') });
    assert.deepEqual(await querySweep(client([]), () => Promise.reject(wrapped)), { timedOut: true });
    const refused = grpcError(9, 'no poller seen for task queue recently, worker may be down');
    assert.deepEqual(await querySweep(client([]), () => Promise.reject(refused)), { failed: refused });
  });

  test('a call that fails at its deadline in other words ("Call cancelled") is timedOut too; the same failure before it is failed', async () => {
    const cancelled = Object.assign(new Error('Failed to query Workflow'), { cause: grpcError(1, 'Call cancelled') });
    let clock = 1_000;
    const atDeadline = () => { clock += 10_000; return Promise.reject(cancelled); };
    assert.deepEqual(await querySweep(client([]), atDeadline, 10_000, () => clock), { timedOut: true });
    assert.deepEqual(await querySweep(client([]), () => Promise.reject(cancelled), 10_000, () => clock), { failed: cancelled });
  });
});

describe('unansweredLine', () => {
  test('not asked, timed out, or refused in the server\'s own words (without gRPC\'s code)', () => {
    assert.match(unansweredLine(undefined), /^the sweep was not asked for its progress, since no worker polls its queue; figures are from the server/);
    assert.match(unansweredLine({ timedOut: true }, 10_000), /^the sweep did not answer within 10 s: no workflow worker is taking its tasks .*goes on once a CPU worker runs$/);
    const refused = Object.assign(new Error('Failed to query Workflow'), { cause: grpcError(9, 'no poller seen for task queue recently, worker may be down') });
    assert.match(unansweredLine({ failed: refused }), /^the sweep did not answer: no poller seen for task queue recently, worker may be down; figures/);
    assert.match(unansweredLine({ failed: new Error('boom') }), /^the sweep did not answer: boom; /);
  });
});

describe('latestAnswer', () => {
  /** A query the test answers or fails by hand. */
  function manual() {
    const calls: Array<{ resolve: (v: number) => void; reject: (e: Error) => void }> = [];
    const ask = () => new Promise<number>((resolve, reject) => { calls.push({ resolve, reject }); });
    return { calls, ask };
  }

  test('an answer within the wait is taken at once; a hanging query is asked once, and polls go on with the last answer, counting the time unanswered', async () => {
    let clock = 0;
    const { calls, ask } = manual();
    const poll = latestAnswer(ask, () => clock);
    const first = poll(1_000);
    calls[0].resolve(1);
    assert.deepEqual(await first, { answer: 1, unansweredMs: 0 });

    clock = 100;
    const started = Date.now();
    assert.deepEqual(await poll(20), { answer: 1, unansweredMs: 0 });
    assert.ok(Date.now() - started < 1_000, 'the poll waited its 20 ms, not for the answer');
    clock = 5_100;
    assert.deepEqual(await poll(20), { answer: 1, unansweredMs: 5_000 });
    assert.equal(calls.length, 2, 'one query in flight at a time');

    // It fails: the next poll asks again, and the time unanswered runs on from the first unanswered ask.
    calls[1].reject(new Error('deadline'));
    await new Promise(setImmediate);
    clock = 12_100;
    assert.deepEqual(await poll(20), { answer: 1, unansweredMs: 12_000 });
    assert.equal(calls.length, 3);
    calls[2].resolve(2);
    clock = 13_000;
    assert.deepEqual(await poll(20), { answer: 2, unansweredMs: 0 });
  });
});
