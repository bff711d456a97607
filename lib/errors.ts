/** An error and its causes, each as a record of its fields. */
export type ChainedError = { cause?: unknown; $metadata?: unknown; code?: unknown; message?: unknown };

/** The first of `error` and its causes, outermost first, that passes `test` (a cause seen before ends the walk). */
export function findCause(error: unknown, test: (e: ChainedError) => boolean): ChainedError | undefined {
  const seen = new Set<unknown>();
  for (let e = error as ChainedError | undefined; e && !seen.has(e); e = e.cause as ChainedError | undefined) {
    seen.add(e);
    if (test(e)) return e;
  }
  return undefined;
}

/** The innermost cause's message: what actually went wrong under Temporal's failure wrappers. */
export function rootMessage(error: unknown): string {
  let e = error as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(error);
}

/** The failure types a sweep reports; workflows' retry policy names the ones no retry can fix. */
export const FailureType = {
  /** The spec asks for something impossible. */
  spec: 'SpecError',
  /** The workflow id cannot name a sweep's folder of artifacts. */
  sweepId: 'InvalidSweepId',
  /** The data cannot make a sweep (too many bad images, empty classes, ...). */
  data: 'DataError',
  /** data.source cannot be read. */
  source: 'SourceError',
  /** A catalogue backbone was not fetched on the worker. */
  backboneMissing: 'BackboneMissing',
  /** The backbone cannot be loaded as the spec gives it (no such file, not a model, a wrong format or feature layer). */
  backbone: 'BackboneError',
  /** GPU workers computed one sweep's features with different weights or engines for its backbone. */
  backboneMismatch: 'BackboneMismatch',
  /** The best trial cannot be exported as one model. */
  exportUnsupported: 'ExportUnsupported',
  /** Exporting the best trial failed for a reason other than storage or another transient error (which are retried). */
  exportFailed: 'ExportFailed',
  /** Writing the sweep's HTML report failed for a reason other than storage or another transient error (which are retried). */
  reportFailed: 'ReportFailed',
  /** An artifact a step needs does not exist (deleted from the bucket, say). */
  missingArtifact: 'MissingArtifact',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Codes of the operating system's errors that name a lasting problem with a path: a retry meets them again. */
const LASTING_PATH_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ENAMETOOLONG', 'ELOOP']);

/** What to do about a URL fetch cannot request (isUnfetchableUrl). */
export const URL_FIX = 'give an http(s) URL with no user name or password in it (a presigned link, or an s3:// URL read with the workers\' credentials) on a port fetch allows (not 6000, say)';

/** fetch()'s words (undici's, Node 24) for a request it will not make from its URL; matched in its causes. */
const FETCH_URL_REFUSALS = /^(Request cannot be constructed from a URL that includes credentials|bad port$|unknown scheme$)/;

/**
 * A fetch() rejection no retry changes: the request cannot be made from its URL (a user name or password
 * in it, a port fetch blocks, a scheme it does not speak). Matched by fetch's own words, so a wording
 * that changes makes these retried again, as every other fetch failure is (a bad answer, too many
 * redirects, the network).
 */
export function isUnfetchableUrl(error: unknown): boolean {
  return error instanceof TypeError && findCause(error, (e) => FETCH_URL_REFUSALS.test(String(e.message))) !== undefined;
}

/** An error of the operating system (Node's system errors name their system call): EMFILE, EIO, ENOENT, ... */
export function isSystemError(error: unknown): boolean {
  return typeof (error as { syscall?: unknown } | undefined)?.syscall === 'string';
}

/** A system error a retry may not meet again (too many open files, an I/O error, a full disk), not a path that names nothing usable. */
export function isPassingSystemError(error: unknown): boolean {
  return isSystemError(error) && !LASTING_PATH_ERRORS.has(String((error as { code?: unknown }).code));
}

/**
 * A failure a retry may well not meet again, raised where the error itself would not say so: a
 * connection cut while an answer's body was read (the S3 client marks only errors raised before it
 * returns), a remote server's 5xx. Steps that fail at once on unknown errors retry these.
 */
export class TransientError extends Error {
  override name = 'TransientError';
}

/**
 * A failure no retry can fix, raised by code that knows nothing of Temporal (model/, lib/).
 * Activities turn it into a non-retryable ApplicationFailure of the same type (activities/failures.ts).
 */
export class DomainError extends Error {
  constructor(message: string, readonly type: FailureType) {
    super(message);
    this.name = type;
  }
}
