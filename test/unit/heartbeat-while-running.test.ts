// The CPU worker's interceptor that heartbeats while an activity runs (activities/heartbeat-while-running.ts):
// what lets the sweep give CPU activities a heartbeat timeout of seconds, so a task the server lost
// on its way to the worker costs seconds instead of a 2-minute stall.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { HeartbeatWhileRunning } from '../../activities/heartbeat-while-running';

/** An activity environment with the interceptor (quiet: the failing activity below is meant to fail). */
const environment = (heartbeatTimeoutMs: number | undefined, only?: string[], activityType = 'anActivity') =>
  new MockActivityEnvironment({ heartbeatTimeoutMs, activityType }, { interceptors: [() => ({ inbound: new HeartbeatWhileRunning(only) })], logger: new DefaultLogger('ERROR') });

/** Runs `fn` with a heartbeat timeout of `heartbeatTimeoutMs`; returns its result and every heartbeat's details. */
async function run<T>(heartbeatTimeoutMs: number | undefined, fn: () => Promise<T>): Promise<{ result: T; beats: unknown[] }> {
  const env = environment(heartbeatTimeoutMs);
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  const result = await env.run(fn) as T;
  return { result, beats };
}

describe('heartbeating while an activity runs', () => {
  test('an activity that never heartbeats sends one at once and then about four per heartbeat timeout', async () => {
    const { result, beats } = await run(400, async () => {
      await sleep(1000);
      return 'done';
    });
    assert.equal(result, 'done');
    // 1 at the start, then every 100 ms for 1 s: about 11 (timers on a loaded machine fire late, never early).
    assert.ok(beats.length >= 5 && beats.length <= 11, `${beats.length} heartbeats in 1 s`);
  });

  test("an activity's own details are re-sent, never replaced by empty ones", async () => {
    const { beats } = await run(400, async () => {
      await sleep(250);
      Context.current().heartbeat({ processed: 1 });
      await sleep(500);
      Context.current().heartbeat({ processed: 2 });
      await sleep(250);
    });
    const after = beats.slice(beats.findIndex((d) => d !== undefined));
    assert.deepEqual(after[0], { processed: 1 });
    assert.ok(after.length >= 4, `${after.length} heartbeats after the first details`);
    assert.ok(after.every((d) => d !== undefined), 'no empty heartbeat after the first details');
    assert.deepEqual(after.at(-1), { processed: 2 });
  });

  test('stops when the activity ends, also when it fails', async () => {
    const env = environment(200);
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await assert.rejects(env.run(async () => {
      await sleep(120);
      throw new Error('boom');
    }), /boom/);
    const atEnd = beats;
    await sleep(300);
    assert.equal(beats, atEnd);
  });

  test('with a list of activity types, heartbeats for those only (the GPU worker: the export, not training)', async () => {
    const counted = async (activityType: string) => {
      const env = environment(400, ['exportModel'], activityType);
      let beats = 0;
      env.on('heartbeat', () => beats++);
      await env.run(() => sleep(500));
      return beats;
    };
    assert.ok(await counted('exportModel') >= 3);
    assert.equal(await counted('trainTrial'), 0);
  });

  test('leaves an activity without a heartbeat timeout alone', async () => {
    const { beats } = await run(undefined, () => sleep(300));
    assert.deepEqual(beats, []);
  });
});
