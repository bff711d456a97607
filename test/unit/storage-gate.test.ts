import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from '@temporalio/worker';
import { StorageContact } from '../../platform/storage-contact';
import { runWhileStorageAnswers } from '../../workers/storage-gate';
import { waitFor } from '../waiting';

/** A worker as runWhileStorageAnswers sees it: run() until shutdown(). */
class FakeWorker {
  private state: 'INITIALIZED' | 'RUNNING' | 'DRAINING' | 'STOPPED' = 'INITIALIZED';
  private stopped!: () => void;
  getState() { return this.state; }
  run(): Promise<void> {
    this.state = 'RUNNING';
    return new Promise((resolve) => { this.stopped = () => { this.state = 'STOPPED'; resolve(); }; });
  }
  shutdown(): void {
    assert.equal(this.state, 'RUNNING', 'shut down only while running');
    this.state = 'DRAINING';
    setImmediate(() => this.stopped());
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

function harness() {
  let now = 0;
  const contact = new StorageContact(async () => true, { intervalMs: 1000, probeTimeoutMs: 500, unreachableAfterMs: 2000, name: 's3' }, () => now);
  const lose = () => { now += 3000; contact.record(false, now); contact.record(false, now); };
  const regain = () => { now += 1000; contact.record(true, now); };
  const made: FakeWorker[] = [];
  const create = async () => { const worker = new FakeWorker(); made.push(worker); return worker as unknown as Worker; };
  const log: string[] = [];
  const say = (message: string) => log.push(message);
  /** Runs a first worker under the loop, then loses S3 and lets the loop shut it down. */
  const runThenLose = async (stop: AbortSignal, make: () => Promise<Worker> = create) => {
    const first = new FakeWorker();
    const running = runWhileStorageAnswers(first as unknown as Worker, make, 'the GPU worker', contact, stop, say, { minDelayMs: 5, maxDelayMs: 10 });
    await tick();
    assert.equal(first.getState(), 'RUNNING');
    lose();
    await tick();
    await tick();
    return { first, running };
  };
  return { contact, lose, regain, made, create, log, runThenLose };
}

test('a worker that loses S3 is shut down, and a new one runs once S3 answers again', async () => {
  const h = harness();
  const { first, running } = await h.runThenLose(new AbortController().signal);
  assert.equal(first.getState(), 'STOPPED', 'shut down when S3 was lost');
  assert.equal(h.made.length, 0, 'nothing new while S3 is lost');
  assert.match(h.log[0], /has not answered this worker .*; shutting the GPU worker down until then/);
  assert.ok(process.getActiveResourcesInfo().includes('Timeout'), 'a timer keeps the process alive while no worker runs');
  h.regain();
  await tick();
  await tick();
  assert.equal(h.made.length, 1);
  assert.equal(h.made[0].getState(), 'RUNNING', 'a new worker takes tasks');
  assert.match(h.log[1], /S3 answers again/);
  assert.ok(!process.getActiveResourcesInfo().includes('Timeout'), 'and is cleared once one runs again');
  // A shutdown signal (the Runtime's) stops the worker: no new one.
  h.made[0].shutdown();
  await running;
  assert.equal(h.made.length, 1);
});

test('asked to stop while S3 is lost: it resolves without making a worker', async () => {
  const h = harness();
  const stop = new AbortController();
  const { running } = await h.runThenLose(stop.signal);
  stop.abort();
  await running;
  h.regain();
  await tick();
  assert.equal(h.made.length, 0);
});

test('S3 lost again while the new worker was made: it is shut down at once', async () => {
  const h = harness();
  const stop = new AbortController();
  let loseWhileMaking = true;
  const create = async () => {
    if (loseWhileMaking) { loseWhileMaking = false; h.lose(); }
    return h.create();
  };
  const { running } = await h.runThenLose(stop.signal, create);
  h.regain();
  await tick();
  await tick();
  assert.equal(h.made[0].getState(), 'STOPPED', 'the worker made while S3 was lost again took no tasks');
  h.regain();
  await tick();
  await tick();
  assert.equal(h.made.length, 2);
  assert.equal(h.made[1].getState(), 'RUNNING');
  h.made[1].shutdown();
  await running;
});

test('asked to stop while the new worker was made: it is shut down at once and nothing more is made', async () => {
  const h = harness();
  const stop = new AbortController();
  const create = async () => { stop.abort(); return h.create(); };
  const { running } = await h.runThenLose(stop.signal, create);
  h.regain();
  await running;
  assert.equal(h.made.length, 1);
  assert.equal(h.made[0].getState(), 'STOPPED', 'the worker made as the stop came took no tasks');
});

test('a worker that cannot be made again (Temporal not answering) is tried again, waits doubling, until one is made', async () => {
  const h = harness();
  let failures = 3;
  const create = async () => {
    if (failures-- > 0) throw new Error('Namespace default was not found or otherwise could not be described: http2 error');
    return h.create();
  };
  const { running } = await h.runThenLose(new AbortController().signal, create);
  h.regain();
  await waitFor('the worker made at the fourth try', async () => h.made.length === 1, 400, 2);
  assert.equal(h.made[0].getState(), 'RUNNING', 'the worker made at the fourth try takes tasks');
  const tries = h.log.filter((line) => line.startsWith('[worker] could not make the GPU worker again'));
  assert.deepEqual(tries.map((line) => /trying again in ([\d.]+) s/.exec(line)?.[1]), ['0.005', '0.01', '0.01'], 'waits double up to the most');
  assert.match(tries[0], /http2 error/, 'says why');
  h.made[0].shutdown();
  await running;
});

test('asked to stop while a worker cannot be made: it resolves, and tries no more', async () => {
  const h = harness();
  const stop = new AbortController();
  let tries = 0;
  const create = async (): Promise<Worker> => { tries++; throw new Error('unavailable'); };
  const { running } = await h.runThenLose(stop.signal, create);
  h.regain();
  await waitFor('a second try', async () => tries >= 2, 400, 2);
  stop.abort();
  await running;
  const after = tries;
  await sleep(30);
  assert.equal(tries, after, 'no try after the stop');
});
