// Artifact storage on S3 (MinIO locally). Thin helpers; every artifact key is built in artifact-keys.ts.
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, NotFound, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { storageConfig } from '../workers/config';

let client: S3Client | undefined;

export function s3(): S3Client {
  if (!client) {
    const config = storageConfig();
    // Credentials come from the AWS SDK's default chain (env, shared credentials file, ...).
    client = new S3Client({ region: config.region, endpoint: config.endpoint, forcePathStyle: config.forcePathStyle });
  }
  return client;
}

export function artifactBucket(): string {
  return storageConfig().bucket;
}

export interface S3Location {
  bucket: string;
  key: string;
}

/** Parses s3://bucket/key; a key-only form ("path/in/bucket") means the artifact bucket. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new Error(`not an s3:// URL: ${url}`);
  return { bucket: match[1], key: match[2] };
}

export function s3Url(key: string, bucket = artifactBucket()): string {
  return `s3://${bucket}/${key}`;
}

export async function putObject(key: string, body: Uint8Array | string, contentType = 'application/octet-stream', bucket = artifactBucket()): Promise<void> {
  await s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
}

export async function putJson(key: string, value: unknown, bucket = artifactBucket()): Promise<void> {
  await putObject(key, JSON.stringify(value, null, 1), 'application/json', bucket);
}

/**
 * An object that does not exist where it must. Waiting cannot make it appear, so activities fail
 * on it instead of retrying (workers/failure-interceptor.ts).
 */
export class MissingObjectError extends Error {
  constructor(readonly bucket: string, readonly key: string) {
    super(`s3://${bucket}/${key} does not exist`);
    this.name = 'MissingObjectError';
  }
}

/** A conditional write lost: the object changed (If-Match) or already existed (If-None-Match). */
export class PreconditionFailedError extends Error {
  constructor(readonly key: string) {
    super(`conditional write of ${key} lost: the object changed since it was read`);
    this.name = 'PreconditionFailedError';
  }
}

function isNoSuchKey(error: unknown): boolean {
  return error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey';
}

/** The object's bytes; `range` as in HTTP ("bytes=0-11") to read only part of it. */
export async function getObject(key: string, bucket = artifactBucket(), range?: string): Promise<Buffer> {
  return (await getObjectVersion(key, bucket, range)).body;
}

/** The object's bytes and ETag, the token a conditional write (If-Match) compares against. */
export async function getObjectVersion(key: string, bucket = artifactBucket(), range?: string): Promise<{ body: Buffer; etag: string }> {
  try {
    const response = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
    return { body: Buffer.from(await response.Body!.transformToByteArray()), etag: response.ETag ?? '' };
  } catch (error) {
    if (isNoSuchKey(error)) throw new MissingObjectError(bucket, key);
    throw error;
  }
}

/**
 * Writes only if the object is still the version read (`ifMatch`: its ETag) or does not exist yet
 * (`ifNoneMatch: '*'`); returns the new ETag. S3 and MinIO decide atomically (412, or 409 when two
 * conditional writes race), so of two writers holding the same ETag exactly one wins.
 */
export async function putObjectIf(key: string, body: Uint8Array | string, condition: { ifMatch: string } | { ifNoneMatch: '*' }, bucket = artifactBucket()): Promise<string> {
  try {
    const response = await s3().send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: body, ContentType: 'application/json',
      IfMatch: 'ifMatch' in condition ? condition.ifMatch : undefined,
      IfNoneMatch: 'ifNoneMatch' in condition ? condition.ifNoneMatch : undefined,
    }));
    return response.ETag ?? '';
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 412 || status === 409) throw new PreconditionFailedError(key);
    throw error;
  }
}

export async function getJson<T>(key: string, bucket = artifactBucket()): Promise<T> {
  return JSON.parse((await getObject(key, bucket)).toString('utf8')) as T;
}

/** The object, or undefined when it does not exist (other errors propagate so activities retry). */
export async function getJsonIfExists<T>(key: string, bucket = artifactBucket()): Promise<T | undefined> {
  try {
    return await getJson<T>(key, bucket);
  } catch (error) {
    if (error instanceof MissingObjectError) return undefined;
    throw error;
  }
}

export async function deleteObject(key: string, bucket = artifactBucket()): Promise<void> {
  await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

export async function objectExists(key: string, bucket = artifactBucket()): Promise<boolean> {
  try {
    await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return false;
    throw error;
  }
}

export async function* listKeys(prefix: string, bucket = artifactBucket()): AsyncGenerator<{ key: string; size: number }> {
  let token: string | undefined;
  do {
    const page = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const item of page.Contents ?? []) yield { key: item.Key!, size: item.Size ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}
