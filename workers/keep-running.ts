// A child process the launcher keeps running: started again whenever it ends other than by being
// stopped. The suggest worker is one (a Python process beside the TS workers): killed or crashed, it
// was gone for good while the launcher ran on, and bayesian sweeps waited for a suggestion for ever.
import { ChildProcess } from 'node:child_process';

export interface Child {
  process: ChildProcess;
  /** Asks the child to stop (it exits 0) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts a child; resolves once it serves. `signal` aborted: the start is given up, the child stopped. */
export type StartChild = (signal: AbortSignal) => Promise<Child>;

export interface KeepRunningOptions {
  /** Says what happened, and when the child starts again. */
  log: (message: string) => void;
  /**
   * The wait before a restart: minDelayMs, doubling with each restart up to maxDelayMs, and back to
   * minDelayMs once a child has run that long (one that dies right after it serves, from a wrong
   * setting, is not restarted every second for ever).
   */
  minDelayMs: number;
  maxDelayMs: number;
  /**
   * Aborted: no restart is started any more, and a first start under way (or not begun) is given up,
   * so keepRunning rejects. stop() still stops a child that serves.
   */
  signal?: AbortSignal;
}

const DEFAULTS: KeepRunningOptions = { log: (message) => console.warn(message), minDelayMs: 1000, maxDelayMs: 30_000 };

/** Whether a child process has exited (with a code, or by a signal). */
export const hasExited = (process: ChildProcess) => process.exitCode !== null || process.signalCode !== null;

/**
 * Starts `start()`'s child and starts it again after it exits with an error or a signal (kill -9, the
 * OOM killer). Exit 0 is the child stopping on a signal of its own (the whole process group gets
 * Ctrl-C), not a crash, so it is not restarted. Resolves once the first child serves; a first start
 * that fails rejects, as before (a missing venv, a bad setting: nothing to retry).
 */
export async function keepRunning(name: string, start: StartChild, options: Partial<KeepRunningOptions> = {}): Promise<{ stop(): Promise<void> }> {
  const { log, minDelayMs, maxDelayMs, signal } = { ...DEFAULTS, ...options };
  if (signal?.aborted) throw new Error(`the ${name} was not started: asked to stop first`);
  const aborted = new AbortController();
  signal?.addEventListener('abort', () => aborted.abort(), { once: true });
  let delay = minDelayMs;
  let timer: NodeJS.Timeout | undefined;
  let starting: Promise<unknown> | undefined;
  let current: Child | undefined;

  /** The wait before the next restart; the one after it doubles. */
  const nextDelay = () => {
    const wait = delay;
    delay = Math.min(delay * 2, maxDelayMs);
    return wait;
  };
  const watch = (child: Child) => {
    current = child;
    const startedAt = Date.now();
    child.process.once('exit', (code, signal) => {
      if (aborted.signal.aborted || code === 0) return;
      if (Date.now() - startedAt >= maxDelayMs) delay = minDelayMs;
      const wait = nextDelay();
      log(`[worker] the ${name} exited (${signal ? `signal ${signal}` : `code ${code}`}); starting it again in ${wait / 1000} s`);
      restartAfter(wait);
    });
  };
  const restartAfter = (wait: number) => {
    timer = setTimeout(() => {
      if (aborted.signal.aborted) return;
      starting = start(aborted.signal).then(watch, (error: unknown) => {
        if (aborted.signal.aborted) return;
        const next = nextDelay();
        log(`[worker] the ${name} did not start again (${(error as Error).message}); trying again in ${next / 1000} s`);
        restartAfter(next);
      });
    }, wait);
  };

  watch(await start(aborted.signal));
  return {
    stop: async () => {
      aborted.abort();
      clearTimeout(timer);
      // A start under way gives up (its child stopped by the starter); the child running is stopped here.
      await starting;
      if (current && !hasExited(current.process)) await current.stop();
    },
  };
}
