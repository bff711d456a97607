// The object store on S3 (MinIO locally). Credentials come from the AWS SDK's default chain.
import { AsyncLocalStorage } from 'node:async_hooks';
import https from 'node:https';
import {
  DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, NotFound, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StorageConfig, caBundleCertificates, storageConfig, storageRegion, storageUnreachableAfterS } from './config';
import { ObjectStore, ObjectVersion, PreconditionFailedError, PutOptions, StoredObject } from './object-store';
import { StorageContact, StorageProbe, StorageUnreachableError } from './storage-contact';
import { ChainedError, TransientError, findCause, rootMessage } from '../lib/errors';
import { tlsAdvice, tlsErrorCodeOf } from '../lib/tls-advice';

let client: S3Client | undefined;

/** Where the code running now finds its gate (withStorageGate), if it has one. */
const gates = new AsyncLocalStorage<StorageGate>();

/** A gate's signal as each request finds it: a StorageContact (its gate now), or one signal for good. */
export interface StorageGate {
  readonly signal: AbortSignal;
}

/**
 * Runs `work` with its S3 requests tied to `gate`: once its signal aborts, a request waiting for S3
 * fails at once and a new one is not sent, both with the signal's reason, instead of waiting out the
 * socket timeout. A worker's steps run so (workers/storage-gate.ts), each tied to the signal as it is
 * when the step starts; a CLI command runs so tied to the contact itself (cli/sweep.ts), so it can
 * read S3 again once S3 answers.
 */
export function withStorageGate<T>(gate: StorageGate, work: () => T): T {
  return gates.run(gate, work);
}

type HandleArguments = Parameters<NodeHttpHandler['handle']>;

/** The S3 client's HTTP handler, which ties each request to the gate of the code that sends it. */
class GatedHttpHandler extends NodeHttpHandler {
  override async handle(request: HandleArguments[0], options: HandleArguments[1] = {}): ReturnType<NodeHttpHandler['handle']> {
    const gate = gates.getStore()?.signal;
    const own = options.abortSignal;
    // A caller's signal of the SDK's older kind (not a DOM AbortSignal) cannot be combined: left ungated.
    if (!gate || (own && !(own instanceof AbortSignal))) return super.handle(request, options);
    if (gate.aborted) throw gate.reason;
    const abortSignal = own ? AbortSignal.any([own, gate]) : gate;
    try {
      return await super.handle(request, { ...options, abortSignal });
    } catch (error) {
      throw gateReason(error);
    }
  }
}

/** The gate's reason where the code running now has lost S3 (a response body cut off), else `error`. */
function gateReason(error: unknown): unknown {
  const gate = gates.getStore()?.signal;
  return gate?.aborted ? gate.reason : error;
}

/** Where and how a client reaches the store: every S3 client of the process is made with these. */
function storeAddress(config: StorageConfig) {
  return { region: storageRegion, endpoint: config.endpoint, forcePathStyle: config.forcePathStyle };
}

/**
 * The TLS trust of every S3 client of the process: AWS_CA_BUNDLE's CAs where it is set, else Node's.
 * An agent of our own, not agent options: for a request that expects 100-continue (a PUT of 2 MB or
 * more) the handler makes a fresh agent from no options of ours, which would trust Node's CAs only.
 */
function httpsTrust(config: StorageConfig): { httpsAgent?: https.Agent } {
  // keepAlive and maxSockets as the handler's own agent has them.
  return config.caBundle ? { httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 50, ca: caBundleCertificates(config.caBundle) }) } : {};
}

/** The shared S3 client, for the few S3-specific needs (streamed downloads, bulk deletes, test probes). */
export function s3(): S3Client {
  if (!client) {
    const config = storageConfig();
    client = new S3Client({
      ...storeAddress(config),
      // A connection that cannot be made, or a socket silent for a minute, fails the request (and so the
      // activity, which Temporal retries) instead of hanging it: CPU activities heartbeat while they
      // run (activities/heartbeat-while-running.ts), so a hung request would otherwise wait out the
      // 2-hour start-to-close timeout. Transfers that move bytes are not cut short.
      requestHandler: new GatedHttpHandler({ connectionTimeout: 10_000, socketTimeout: 60_000, ...httpsTrust(config) }),
    });
    client.middlewareStack.add((next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw artifactBucketNamed(error, (args.input as { Bucket?: string }).Bucket, config);
      }
    }, { step: 'initialize', name: 'artifactBucketNamed' });
  }
  return client;
}

/**
 * S3's "The specified bucket does not exist" for the artifact bucket, said with the bucket, the store and
 * the fix (`sweep status` shows it). Still the SDK's error (name, $metadata): steps that store artifacts
 * retry it as they do storage errors (a bucket may be made after the workers start).
 */
function artifactBucketNamed(error: unknown, bucket: string | undefined, config: StorageConfig): unknown {
  if (isMissingBucket(error) && bucket === config.bucket) {
    const named = error as Error;
    const said = named.message;
    named.message = missingArtifactBucket(config);
    // Temporal shows the stack, which begins with the message as it was.
    named.stack = named.stack?.replace(said, named.message);
  }
  return error;
}

const missingArtifactBucket = (config: StorageConfig) =>
  `the artifact bucket S3_BUCKET=${config.bucket} does not exist at ${storeName(config)}: create it (aws s3 mb s3://${config.bucket}, or mc mb), or set S3_BUCKET to one that does`;

/**
 * This process's contact with S3, probing every second; a probe gives up within half the silence that
 * makes S3 unreachable (at most 5 s).
 */
export function startStorageContact(sayMissingBucket?: (message: string) => void): StorageContact {
  const config = storageConfig();
  const unreachableAfterMs = storageUnreachableAfterS() * 1000;
  return new StorageContact(storageProbe(config, sayMissingBucket), {
    intervalMs: 1000,
    probeTimeoutMs: Math.min(5000, unreachableAfterMs / 2),
    unreachableAfterMs,
    name: storeName(config),
  }).start();
}

/** The store as messages name it. */
export const storeName = (config: StorageConfig) => config.endpoint ?? 'its AWS endpoint';

/**
 * A StorageContact's probe: HEAD of the artifact bucket on a client of its own (so it never waits
 * behind the steps' transfers), sent once (no retries within a probe). Any HTTP answer counts. A
 * missing bucket is an answer (S3 is reachable), told to `sayMissingBucket` (a worker's log) once, and
 * again if it goes missing after it was found.
 */
export function storageProbe(config = storageConfig(), sayMissingBucket: (message: string) => void = () => undefined): StorageProbe {
  const probeClient = new S3Client({ ...storeAddress(config), maxAttempts: 1, requestHandler: new NodeHttpHandler(httpsTrust(config)) });
  let missingSaid = false;
  return async (signal) => {
    try {
      await probeClient.send(new HeadBucketCommand({ Bucket: config.bucket }), { abortSignal: signal });
      missingSaid = false;
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 && !missingSaid) sayMissingBucket(`${missingArtifactBucket(config)}; steps that store artifacts are retried until it exists`);
      missingSaid ||= status === 404;
      if (status !== undefined || hasNoStorageCredentials(error)) return true;
      // Not an answer; why, for the contact's message (a certificate this process does not trust, above all).
      throw new Error(storageTlsAdvice(error, config) ?? rootMessage(error));
    }
  };
}

/** What a TLS failure of an S3 request means and which setting fixes it; undefined for other errors. */
export function storageTlsAdvice(error: unknown, config = storageConfig()): string | undefined {
  const failure = tlsErrorCodeOf(error);
  if (!failure) return undefined;
  return tlsAdvice({ kind: 'failed', ...failure }, {
    server: `S3 at ${storeName(config)}`, tlsOn: 'an https:// S3_ENDPOINT', tlsOff: 'an http:// S3_ENDPOINT', ca: 'AWS_CA_BUNDLE', caNow: config.caBundle,
  }, false);
}

const named = (error: unknown, name: string) => (error as { name?: string }).name === name;

/** Whether `test` holds for the error or any error in its chain of causes. */
const someCause = (error: unknown, test: (e: ChainedError) => boolean) => findCause(error, test) !== undefined;

/** Whether an error is the S3 client failing to reach the store (the SDK marks its errors with `$metadata`). */
export function isStorageUnreachable(error: unknown): boolean {
  return someCause(error, (e) => e.$metadata !== undefined && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH)$/.test(String(e.code ?? '')));
}

/** Whether a request failed because this process has lost S3 (a StorageContact's gate: withStorageGate). */
export const isStorageLost = (error: unknown) => someCause(error, (e) => e instanceof StorageUnreachableError);

/** Whether an error comes from the S3 client (a response, a connection, credentials, a lost S3): what steps retry. */
export function isStorageError(error: unknown): boolean {
  return someCause(error, (e) => e.$metadata !== undefined || hasNoStorageCredentials(e) || e instanceof StorageUnreachableError);
}

/** Whether S3 answered that the request's bucket does not exist: a URL's typo, which no retry fixes. */
export const isMissingBucket = (error: unknown) => named(error, 'NoSuchBucket');

/** Whether the AWS credential chain found no credentials (no stack.env, no AWS_* variables, no profile). */
export const hasNoStorageCredentials = (error: unknown) => named(error, 'CredentialsProviderError');

export class S3ObjectStore implements ObjectStore {
  async get(bucket: string, key: string, range?: string): Promise<ObjectVersion | undefined> {
    try {
      const response = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
      const body = await response.Body!.transformToByteArray().catch((error: unknown) => {
        throw new TransientError(`reading s3://${bucket}/${key}: ${rootMessage(error)}`, { cause: error });
      });
      return { body: Buffer.from(body), etag: response.ETag ?? '' };
    } catch (error) {
      // Other errors propagate, so activities retry them.
      if (error instanceof NoSuchKey || named(error, 'NoSuchKey')) return undefined;
      throw gateReason(error);
    }
  }

  async put(bucket: string, key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<string> {
    try {
      const response = await s3().send(new PutObjectCommand({
        Bucket: bucket, Key: key, Body: body, ContentType: options.contentType ?? 'application/octet-stream',
        IfMatch: options.ifMatch, IfNoneMatch: options.ifNoneMatch,
      }));
      return response.ETag ?? '';
    } catch (error) {
      // S3 and MinIO decide conditions atomically: 412, or 409 when two conditional writes race.
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((options.ifMatch || options.ifNoneMatch) && (status === 412 || status === 409)) throw new PreconditionFailedError(key);
      throw error;
    }
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (error) {
      if (error instanceof NotFound || named(error, 'NotFound')) return false;
      throw error;
    }
  }

  async *list(bucket: string, prefix: string): AsyncGenerator<StoredObject> {
    let token: string | undefined;
    do {
      const page = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const item of page.Contents ?? []) yield { key: item.Key!, size: item.Size ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(bucket: string, key: string): Promise<void> {
    await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
}
