// Waiting in tests, unit and integration alike: a duration as the messages write it, and polling for
// a condition with a deadline that names what was awaited. (A pause is Node's own: `setTimeout` of
// node:timers/promises.)
import { setTimeout as sleep } from 'node:timers/promises';

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Polls `probe` until it returns something truthy, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds(timeoutMs)} waiting for ${what}`);
    await sleep(intervalMs);
  }
}
