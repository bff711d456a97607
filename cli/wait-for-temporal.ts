// Waiting on a sweep through Temporal outages of any length. The SDK retries a failed call for a
// while and then gives up, but the sweep itself carries on (its state is in Temporal's store), so a
// command that waits on it retries with backoff, says once that Temporal is unreachable and where,
// and goes on when it is back. Ctrl-C stops the waiting, never the sweep.
import { setTimeout as sleep } from 'node:timers/promises';
import { isGrpcServiceError } from '@temporalio/client';
import { findCause, rootMessage } from '../lib/errors';
import { SettingError } from '../platform/config';
import { isStorageUnreachable } from '../platform/s3-store';

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** Errors that mean "Temporal is not answering right now", not "the request is wrong". */
export function isTemporalUnreachable(error: unknown): boolean {
  // The S3 client's connection errors say ECONNREFUSED too; a TLS setting that keeps the client out
  // (platform/temporal-connection.ts) is no outage to wait out.
  if (isStorageUnreachable(error) || error instanceof SettingError) return false;
  return findCause(error, (e) => (isGrpcServiceError(e) && [UNAVAILABLE, DEADLINE_EXCEEDED].includes(e.code))
    || /\b(UNAVAILABLE|ECONNREFUSED|ECONNRESET|Failed to connect)\b/.test(String(e.message ?? ''))) !== undefined;
}

export interface WaitNotices {
  address: string;
  /** Where the notices go (stderr by default, so --json output on stdout stays a document). */
  write?: (line: string) => void;
  /** Backoff cap in ms. */
  maxDelayMs?: number;
}

/** Calls `call` until it answers, retrying while Temporal is unreachable; other errors propagate. */
export async function untilTemporalAnswers<T>(call: () => Promise<T>, notices: WaitNotices): Promise<T> {
  const write = notices.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  let downSince: number | undefined;
  const maxDelayMs = notices.maxDelayMs ?? 10_000;
  for (let delay = Math.min(1000, maxDelayMs); ; delay = Math.min(maxDelayMs, delay * 2)) {
    try {
      const answer = await call();
      if (downSince !== undefined) write(`Temporal at ${notices.address} is back after ${Math.round((Date.now() - downSince) / 1000)} s`);
      return answer;
    } catch (error) {
      if (!isTemporalUnreachable(error)) throw error;
      if (downSince === undefined) {
        downSince = Date.now();
        write(`Temporal at ${notices.address} is unreachable (${rootMessage(error).split('\n')[0]}); waiting for it to come back ` +
          '(if it is not running: npm run stack:up, or check TEMPORAL_ADDRESS). A sweep\'s state is safe in Temporal\'s store; Ctrl-C stops waiting, not the sweep.');
      }
      await sleep(delay);
    }
  }
}

/** On Ctrl-C while waiting: say that the sweep goes on and how to follow it, then exit 130. */
export function stopWaitingOnInterrupt(sweepId: string): () => void {
  const onInterrupt = () => {
    process.stderr.write(`\nstopped waiting; sweep ${sweepId} goes on (follow it with: sweep watch ${sweepId}, or stop it with: sweep cancel ${sweepId})\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  return () => process.off('SIGINT', onInterrupt);
}
