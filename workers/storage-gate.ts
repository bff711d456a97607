// A worker whose steps have lost S3 (a GPU worker, or a CPU process's step worker) takes no tasks
// until S3 answers again. Its steps need S3 for every input and output; cut off from S3 while it
// still reaches Temporal, it would take steps that can only wait (up to the S3 client's 60 s socket
// timeout each), and a step's retry could land on it again. The TypeScript SDK cannot pause a
// worker's polling, so the worker is shut down (its steps in progress are cancelled, as on a
// redeploy, and retried on other workers) and created again. A CPU process's workflow worker needs
// no S3 and runs on: the sweeps' workflows and their queries are served throughout.
import { setTimeout as sleep } from 'node:timers/promises';
import { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next, Worker } from '@temporalio/worker';
import { withStorageGate } from '../platform/s3-store';
import { StorageContact } from '../platform/storage-contact';

/**
 * Ties each step's S3 requests to the contact's gate as it is when the step starts: once S3 is lost,
 * the step's requests fail at once with a message that says so, instead of each waiting out its timeout.
 */
export class StorageGateInterceptor implements ActivityInboundCallsInterceptor {
  constructor(private readonly contact: StorageContact) {}

  execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    return withStorageGate({ signal: this.contact.signal }, () => next(input));
  }
}

/** The waits between tries to make a worker again: minDelayMs, doubling up to maxDelayMs. */
export interface RemakeDelays { minDelayMs: number; maxDelayMs: number }

/**
 * Runs `first`, and whenever the contact loses S3 shuts it down and, once S3 answers again, runs a
 * worker made by `create` in its place; `name` says which in the log ("the GPU worker"). Resolves when
 * a worker stops for another reason (a shutdown signal) or `stop` aborts while S3 is lost or while a
 * worker is made; rejects if a worker fails.
 */
export async function runWhileStorageAnswers(first: Worker, create: () => Promise<Worker>, name: string, contact: StorageContact, stop: AbortSignal, log: (message: string) => void,
  delays: RemakeDelays = { minDelayMs: 1000, maxDelayMs: 30_000 }): Promise<void> {
  for (let worker = first; ;) {
    let lost = false;
    const shutDownForLostStorage = () => {
      if (lost || worker.getState() !== 'RUNNING') return;
      lost = true;
      log(`[worker] ${(contact.signal.reason as Error).message}; shutting ${name} down until then`);
      worker.shutdown();
    };
    const removeListener = contact.onChange((reachable) => { if (!reachable) shutDownForLostStorage(); });
    const running = worker.run();
    // A stop may have been asked (the Runtime's signal handler knew nothing of this worker yet), or S3
    // lost again, while this worker was made.
    if (stop.aborted) worker.shutdown();
    else if (!contact.reachable) shutDownForLostStorage();
    try {
      await running;
    } finally {
      removeListener();
    }
    if (!lost || stop.aborted) return;
    // While no worker runs, nothing else need keep the process alive (the probes' timer does not): the
    // GPU worker process exited with code 0 here, and its node served no more.
    const keepAlive = setInterval(() => undefined, 60_000);
    try {
      await contact.whenReachable(stop);
    } catch {
      return; // asked to stop while S3 was lost
    } finally {
      clearInterval(keepAlive);
    }
    log(`[worker] S3 answers again: ${name} takes tasks again`);
    const next = await remake(create, name, stop, log, delays);
    if (!next) return;
    worker = next;
  }
}

/**
 * `create()` until it makes a worker, or undefined once `stop` aborts. The first worker was made with
 * the same settings, so a failure here is Temporal not answering at that moment (a server restarting,
 * a connection its client has not yet found dead), and the process must not exit over it: it did,
 * and its node served no more. (The cluster's bridge changing its address once silenced a node's
 * connections so: cluster-up.sh fixed that, and a server restart can still do it.)
 */
async function remake(create: () => Promise<Worker>, name: string, stop: AbortSignal, log: (message: string) => void, delays: RemakeDelays): Promise<Worker | undefined> {
  for (let delayMs = delays.minDelayMs; ; delayMs = Math.min(delayMs * 2, delays.maxDelayMs)) {
    try {
      return await create();
    } catch (error) {
      if (stop.aborted) return undefined;
      log(`[worker] could not make ${name} again (${(error as Error).message}); trying again in ${delayMs / 1000} s`);
    }
    try {
      await sleep(delayMs, undefined, { signal: stop });
    } catch {
      return undefined; // asked to stop while waiting
    }
  }
}
