// A child process the launcher keeps running: started again whenever it ends other than by being
// stopped. The suggest worker is one (a Python process beside the TS workers): killed or crashed, it
// was gone for good while the launcher ran on, and bayesian sweeps waited for a suggestion for ever.
import { ChildProcess } from 'node:child_process';

export interface Child {
  process: ChildProcess;
  /** Asks the child to stop (it exits 0) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface KeepRunningOptions {
  /** Says what happened, and when the child starts again. */
  log: (message: string) => void;
  /** Wait before the first restart; each failed start doubles it, up to maxDelayMs; a start that serves resets it. */
  minDelayMs: number;
  maxDelayMs: number;
}

const DEFAULTS: KeepRunningOptions = { log: (message) => console.warn(message), minDelayMs: 1000, maxDelayMs: 30_000 };

/**
 * Starts `start()`'s child and starts it again after it exits with an error or a signal (kill -9, the
 * OOM killer). Exit 0 is the child stopping on a signal of its own (the whole process group gets
 * Ctrl-C), not a crash, so it is not restarted. Resolves once the first child serves; a first start
 * that fails rejects, as before (a missing venv, a bad setting: nothing to retry).
 */
export async function keepRunning(name: string, start: () => Promise<Child>, options: Partial<KeepRunningOptions> = {}): Promise<{ stop(): Promise<void> }> {
  const { log, minDelayMs, maxDelayMs } = { ...DEFAULTS, ...options };
  let stopping = false;
  let delay = minDelayMs;
  let timer: NodeJS.Timeout | undefined;
  let starting: Promise<Child | undefined> | undefined;
  let current: Child | undefined;

  const watch = (child: Child) => {
    current = child;
    child.process.once('exit', (code, signal) => {
      if (stopping || code === 0) return;
      log(`[worker] the ${name} exited (${signal ? `signal ${signal}` : `code ${code}`}); starting it again in ${delay / 1000} s`);
      restartLater();
    });
  };
  const restartLater = () => {
    timer = setTimeout(() => {
      timer = undefined;
      starting = start().then((child) => {
        delay = minDelayMs;
        if (stopping) return child;
        watch(child);
        return child;
      }, (error: unknown) => {
        delay = Math.min(delay * 2, maxDelayMs);
        if (!stopping) {
          log(`[worker] the ${name} did not start again (${(error as Error).message}); trying again in ${delay / 1000} s`);
          restartLater();
        }
        return undefined;
      });
    }, delay);
  };

  watch(await start());
  return {
    stop: async () => {
      stopping = true;
      clearTimeout(timer);
      // The child running, and one a restart was starting meanwhile (the same one once it served).
      const children = new Set([current, await starting]);
      const running = (c: Child | undefined): c is Child => !!c && c.process.exitCode === null && c.process.signalCode === null;
      await Promise.all([...children].filter(running).map((c) => c.stop()));
    },
  };
}
