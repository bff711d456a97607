// The suggest worker serves bayesian sweeps' suggestTrials (Optuna TPE). It is Python
// (search/optuna/suggest_worker.py, in the venv infra/setup-search.sh makes), so the TS launcher
// runs it as a child process, pointed at the same Temporal and queue as the TS workers.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MetricsAddress, REPO_ROOT, SettingError, searchPython } from '../platform/config';
import { temporalAddress, temporalNamespace, temporalTlsProblem } from '../platform/temporal-connection';
import type { Child } from './keep-running';
import { metricsEnv } from './metrics';

/** The Python worker: its process, and stop() (SIGTERM, then wait for it to exit). */
export type SuggestWorker = Child;

/** Why a spawn fails that is the python's own (its path), not the machine's for now. */
const UNRUNNABLE = new Set(['EACCES', 'ENOENT', 'ENOTDIR', 'EISDIR', 'ENOEXEC', 'ELOOP']);

/** The suggest worker's exit status for a setting it refuses (suggest_worker.py), its reason on stderr as "error: ...". */
const SETTING_REFUSED_EXIT = 2;

/** Why the suggest worker cannot start here (no search venv), or undefined when it can. */
export function suggestWorkerMissing(): string | undefined {
  return fs.existsSync(searchPython()) ? undefined : `no search venv python at ${searchPython()}: run infra/setup-search.sh (bayesian sweeps wait for a suggest worker until one runs)`;
}

export interface SuggestWorkerOptions {
  /** Aborted before the worker polls (the launcher stopping while Temporal is down, say): it is stopped, and the start rejects. */
  signal?: AbortSignal;
  /** Where it serves its metrics for Prometheus (never the launcher's own address, which its environment may hold); none by default. */
  metrics?: MetricsAddress;
}

/** Starts the Python worker on `queue`; resolves once it polls (it prints a line when it does). */
export async function startSuggestWorker(queue: string, { signal, metrics }: SuggestWorkerOptions = {}): Promise<SuggestWorker> {
  const missing = suggestWorkerMissing();
  if (missing) throw new Error(missing);
  // Its stdin is a pipe from this process, which it stops on once closed: if this process dies (kill -9),
  // the worker stops too instead of serving on as an orphan.
  const { SWEEP_METRICS_ADDRESS: _launchers, ...env } = process.env;
  const child = spawn(searchPython(), [path.join(REPO_ROOT, 'search', 'optuna', 'suggest_worker.py'), '--stop-when-stdin-closes'], {
    env: {
      ...env, TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_NAMESPACE: temporalNamespace(), SWEEP_SUGGEST_QUEUE: queue, PYTHONUNBUFFERED: '1', ...metricsEnv(metrics),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Its errors go where the launcher's go; the last "error: " line is a setting it refused (it exits 2 then).
  let refused: string | undefined;
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    refused = /^error: (.+)$/m.exec(chunk.toString())?.[1] ?? refused;
  });
  // A spawn that fails (the python not executable, a folder: existsSync passed) emits 'error' and never
  // 'exit'; with no listener the error was thrown in the launcher, taking every worker of the process down.
  // One after the spawn (a signal that cannot be sent) is only said: the child runs on.
  const spawnFailed = new Promise<NodeJS.ErrnoException>((resolve) => child.on('error', (error) => {
    if (child.pid === undefined) resolve(error);
    else console.warn(`[worker] the suggest worker: ${error.message}`);
  }));
  const exited = Promise.race([new Promise<void>((resolve) => child.once('exit', () => resolve())), spawnFailed.then(() => undefined)]);
  const giveUp = () => child.kill('SIGTERM');
  signal?.addEventListener('abort', giveUp, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        process.stdout.write(chunk);
        if (chunk.toString().includes('serving suggestTrials')) resolve();
      });
      child.once('exit', (code) => reject(code === SETTING_REFUSED_EXIT && refused
        ? new SettingError(`the suggest worker: ${refused}`)
        : new Error(`the suggest worker exited (code ${code}) before serving ${queue}`)));
      // The python itself (not there, not runnable) is a setting; a passing failure (EAGAIN, EMFILE) is not.
      void spawnFailed.then((error) => reject(UNRUNNABLE.has(error.code ?? '')
        ? new SettingError(`the suggest worker could not be started (${error.message}); make SWEEP_SEARCH_PYTHON an executable python, or run infra/setup-search.sh for the default one`)
        : new Error(`the suggest worker could not be started (${error.message})`)));
    });
  } catch (error) {
    // Not TLS: aborted, a setting refused, or a process that never ran.
    if (signal?.aborted || error instanceof SettingError || child.pid === undefined) throw error;
    // Python's SDK says only "transport error" when TLS keeps it out: ask as the TS workers do.
    const tls = await temporalTlsProblem();
    throw tls ? new SettingError(`the suggest worker could not connect: ${tls}`) : error;
  } finally {
    signal?.removeEventListener('abort', giveUp);
  }
  return {
    process: child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
