// Artifact storage: the helpers activities, the CLI and the model loader use, on whichever object store
// is installed (S3 by default; tests install a MemoryObjectStore). Every artifact key is built in
// lib/artifact-keys.ts.
import { storageConfig } from './config';
import { MissingObjectError, ObjectStore, ObjectVersion, PreconditionFailedError, StoredObject } from './object-store';
import { S3ObjectStore } from './s3-store';

let store: ObjectStore | undefined;

export function objectStore(): ObjectStore {
  store ??= new S3ObjectStore();
  return store;
}

/** Replaces the store for this process (tests); returns the previous one. */
export function setObjectStore(next: ObjectStore): ObjectStore {
  const previous = objectStore();
  store = next;
  return previous;
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
  await objectStore().put(bucket, key, body, { contentType });
}

export async function putJson(key: string, value: unknown, bucket = artifactBucket()): Promise<void> {
  await putObject(key, jsonText(value), 'application/json', bucket);
}

const jsonText = (value: unknown) => JSON.stringify(value, null, 1);

/** The object's bytes; `range` as in HTTP ("bytes=0-11") to read only part of it. */
export async function getObject(key: string, bucket = artifactBucket(), range?: string): Promise<Buffer> {
  return (await getObjectVersion(key, bucket, range)).body;
}

/** The object's bytes and ETag, the token a conditional write (If-Match) compares against. */
export async function getObjectVersion(key: string, bucket = artifactBucket(), range?: string): Promise<ObjectVersion> {
  const version = await objectStore().get(bucket, key, range);
  if (!version) throw new MissingObjectError(bucket, key);
  return version;
}

/**
 * Writes only if the object is still the version read (`ifMatch`: its ETag) or does not exist yet
 * (`ifNoneMatch: '*'`); returns the new ETag. Of two writers holding the same ETag exactly one wins;
 * the other gets PreconditionFailedError.
 */
export async function putObjectIf(key: string, body: Uint8Array | string, condition: { ifMatch: string } | { ifNoneMatch: '*' }, bucket = artifactBucket()): Promise<string> {
  return objectStore().put(bucket, key, body, { contentType: 'application/json', ...condition });
}

/** putObjectIf for a JSON document, written as putJson writes it. */
export async function putJsonIf(key: string, value: unknown, condition: { ifMatch: string } | { ifNoneMatch: '*' }, bucket = artifactBucket()): Promise<string> {
  return putObjectIf(key, jsonText(value), condition, bucket);
}

/**
 * Writes `value` unless the stored document is to stay (`keep`), conditionally on the version read, so
 * a writer that read before another's write cannot undo it; reads again when another write came
 * between (a refusal of this writer's own write, sent twice by the S3 client when its answer was lost,
 * among them).
 */
export async function putJsonUnless<T>(key: string, value: T, keep: (stored: T) => boolean, bucket = artifactBucket()): Promise<void> {
  for (;;) {
    const stored = await getJsonVersionIfExists<T>(key, bucket);
    if (stored && keep(stored.value)) return;
    try {
      await putJsonIf(key, value, stored ? { ifMatch: stored.etag } : { ifNoneMatch: '*' }, bucket);
      return;
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
    }
  }
}

export async function getJson<T>(key: string, bucket = artifactBucket()): Promise<T> {
  return JSON.parse((await getObject(key, bucket)).toString('utf8')) as T;
}

/** The object, or undefined when it does not exist (other errors propagate so activities retry). */
export async function getJsonIfExists<T>(key: string, bucket = artifactBucket()): Promise<T | undefined> {
  return (await getJsonVersionIfExists<T>(key, bucket))?.value;
}

/** A stored JSON document with the ETag a conditional write (putJsonIf) compares against. */
export interface JsonVersion<T> {
  value: T;
  etag: string;
}

/** The object and its ETag, or undefined when it does not exist. */
export async function getJsonVersionIfExists<T>(key: string, bucket = artifactBucket()): Promise<JsonVersion<T> | undefined> {
  const version = await objectStore().get(bucket, key);
  return version && { value: JSON.parse(version.body.toString('utf8')) as T, etag: version.etag };
}

export async function deleteObject(key: string, bucket = artifactBucket()): Promise<void> {
  await objectStore().delete(bucket, key);
}

export async function objectExists(key: string, bucket = artifactBucket()): Promise<boolean> {
  return objectStore().exists(bucket, key);
}

export function listKeys(prefix: string, bucket = artifactBucket()): AsyncIterable<StoredObject> {
  return objectStore().list(bucket, prefix);
}
