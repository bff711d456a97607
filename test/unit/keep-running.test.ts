// workers/keep-running.ts with fake child processes: which exits start the child again, the backoff
// between failed starts, and stop() leaving nothing running or about to start.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child, keepRunning } from '../../workers/keep-running';
import { waitFor } from '../waiting';

class FakeProcess extends EventEmitter {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  exit(code: number | null, signal: NodeJS.Signals | null = null) {
    [this.exitCode, this.signalCode] = [code, signal];
    this.emit('exit', code, signal);
  }
}

/** A starter whose children are recorded; `failing` starts reject until it is set back to 0. */
function starter() {
  const children: FakeProcess[] = [];
  const state = { failing: 0, starts: 0, stops: 0 };
  const start = async (): Promise<Child> => {
    state.starts++;
    if (state.failing > 0) {
      state.failing--;
      throw new Error('no venv');
    }
    const process = new FakeProcess();
    children.push(process);
    return { process: process as unknown as ChildProcess, stop: async () => { state.stops++; process.exit(0); } };
  };
  return { start, children, state };
}

/** Waits until `condition` holds (timers may run late on a busy machine; fixed sleeps would flake). */
const until = (condition: () => boolean) => waitFor('the children to reach the expected state', async () => condition(), 10_000, 5);

const quick = (logs: string[]) => ({ log: (m: string) => logs.push(m), minDelayMs: 10, maxDelayMs: 40 });

describe('keepRunning', () => {
  test('a child that dies (an error exit, kill -9) is started again, and says so', async () => {
    const { start, children } = starter();
    const logs: string[] = [];
    const kept = await keepRunning('suggest worker', start, quick(logs));
    children[0].exit(1);
    await until(() => children.length === 2);
    children[1].exit(null, 'SIGKILL');
    await until(() => children.length === 3);
    assert.deepEqual(logs, [
      '[worker] the suggest worker exited (code 1); starting it again in 0.01 s',
      '[worker] the suggest worker exited (signal SIGKILL); starting it again in 0.02 s',
    ]);
    await kept.stop();
    assert.equal(children[2].exitCode, 0);
  });

  test('exit 0 (the child stopping on a signal of its own) is not restarted', async () => {
    const { start, children, state } = starter();
    const kept = await keepRunning('suggest worker', start, quick([]));
    children[0].exit(0);
    await sleep(50);
    assert.equal(state.starts, 1);
    await kept.stop();
    assert.equal(state.stops, 0, 'nothing left to stop');
  });

  test('restarts back off, doubling up to the maximum, whether the start fails or the child dies right after it serves; a child that ran that long resets the wait', async () => {
    const { start, children, state } = starter();
    const logs: string[] = [];
    const waits = () => logs.map((l) => l.match(/in ([\d.]+) s/)![1]);
    const kept = await keepRunning('suggest worker', start, quick(logs));
    state.failing = 2;
    children[0].exit(1);
    await until(() => children.length === 2);
    assert.equal(state.starts, 4, 'started again after two failed starts');
    assert.deepEqual(waits(), ['0.01', '0.02', '0.04']);
    children[1].exit(1); // at once: a wrong setting, say
    assert.deepEqual(waits().at(-1), '0.04', 'no reset for a child that died right after it served');
    await until(() => children.length === 3);
    await sleep(60); // longer than maxDelayMs
    children[2].exit(1);
    assert.deepEqual(waits().at(-1), '0.01', 'reset after a child that ran');
    await kept.stop();
  });

  test('stop() stops the child and cancels a restart that was due', async () => {
    const { start, children, state } = starter();
    const kept = await keepRunning('suggest worker', start, { ...quick([]), minDelayMs: 30 });
    children[0].exit(1);
    await kept.stop();
    await sleep(60);
    assert.equal(state.starts, 1, 'no restart after stop()');
  });

  test('stop() during a restart: a start that serves meanwhile is stopped; one that has not yet is given up (aborted), not waited for', async () => {
    for (const serves of [true, false]) {
      const { children, state } = starter();
      let release!: () => void;
      const slowStart = async (signal: AbortSignal): Promise<Child> => {
        if (state.starts++ > 0) {
          await new Promise<void>((resolve, reject) => {
            release = resolve;
            if (!serves) signal.addEventListener('abort', () => reject(new Error('given up')));
          });
        }
        const process = new FakeProcess();
        children.push(process);
        return { process: process as unknown as ChildProcess, stop: async () => { state.stops++; process.exit(0); } };
      };
      const logs: string[] = [];
      const kept = await keepRunning('suggest worker', slowStart, quick(logs));
      children[0].exit(1);
      await until(() => state.starts === 2);
      const stopped = kept.stop();
      if (serves) release();
      await stopped;
      assert.equal(children.length, serves ? 2 : 1);
      if (serves) assert.equal(children[1].exitCode, 0, 'the child that started during stop() is stopped');
      assert.equal(logs.length, 1, 'no "did not start again" for a start given up by stop()');
    }
  });

  test('a first start that fails rejects (nothing to keep running)', async () => {
    const { start, state } = starter();
    state.failing = 1;
    await assert.rejects(keepRunning('suggest worker', start, quick([])), /no venv/);
  });

  test('its abort signal (a stop asked while starting) gives a first start under way up, starts nothing once aborted, and ends restarts', async () => {
    const stopping = new AbortController();
    let startSignal: AbortSignal | undefined;
    // A start that waits for Temporal: it serves only once given up.
    const waiting = keepRunning('suggest worker', (signal) => {
      startSignal = signal;
      return new Promise<Child>((_, reject) => signal.addEventListener('abort', () => reject(new Error('given up'))));
    }, { ...quick([]), signal: stopping.signal });
    await until(() => startSignal !== undefined);
    stopping.abort();
    await assert.rejects(waiting, /given up/);
    const notStarted = starter();
    await assert.rejects(keepRunning('suggest worker', notStarted.start, { ...quick([]), signal: stopping.signal }), /was not started: asked to stop first/);
    assert.equal(notStarted.state.starts, 0);
    const later = new AbortController();
    const { start, children } = starter();
    const kept = await keepRunning('suggest worker', start, { ...quick([]), signal: later.signal });
    later.abort();
    children[0].exit(1);
    await sleep(100);
    assert.equal(children.length, 1, 'no restart once aborted');
    await kept.stop();
  });
});
