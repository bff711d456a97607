// The artifact store as the rest of the code sees it: five operations on (bucket, key). S3 implements
// it for real (platform/s3-store.ts), a Map for tests (platform/memory-store.ts).

export interface PutOptions {
  contentType?: string;
  /** Write only if the object is still this version (its ETag, from `get`). */
  ifMatch?: string;
  /** '*': write only if the object does not exist yet. */
  ifNoneMatch?: '*';
}

export interface StoredObject {
  key: string;
  size: number;
}

export interface ObjectVersion {
  body: Buffer;
  /** The token a conditional write (`ifMatch`) compares against. */
  etag: string;
}

export interface ObjectStore {
  /** The object and its ETag, or undefined when there is none; `range` as in HTTP ("bytes=0-11") reads part of it. */
  get(bucket: string, key: string, range?: string): Promise<ObjectVersion | undefined>;
  /**
   * Stores the object and returns its new ETag. With `ifMatch` / `ifNoneMatch` the store decides
   * atomically; a write whose condition does not hold throws PreconditionFailedError.
   */
  put(bucket: string, key: string, body: Uint8Array | string, options?: PutOptions): Promise<string>;
  exists(bucket: string, key: string): Promise<boolean>;
  /** Every object under `prefix`, in key order. */
  list(bucket: string, prefix: string): AsyncIterable<StoredObject>;
  delete(bucket: string, key: string): Promise<void>;
}

/**
 * An object that does not exist where it must. Waiting cannot make it appear, so activities fail
 * on it instead of retrying (activities/failures.ts).
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
