// The artifact store as the rest of the code sees it: five operations on (bucket, key). S3 implements
// it for real (platform/s3-store.ts), a Map for tests (platform/memory-store.ts).

export interface PutOptions {
  contentType?: string;
}

export interface StoredObject {
  key: string;
  size: number;
}

export interface ObjectStore {
  /** The object's bytes, or undefined when there is none; `range` as in HTTP ("bytes=0-11") reads part of it. */
  get(bucket: string, key: string, range?: string): Promise<Buffer | undefined>;
  put(bucket: string, key: string, body: Uint8Array | string, options?: PutOptions): Promise<void>;
  exists(bucket: string, key: string): Promise<boolean>;
  /** Every object under `prefix`, in key order. */
  list(bucket: string, prefix: string): AsyncIterable<StoredObject>;
  delete(bucket: string, key: string): Promise<void>;
}

/** A read of an object that does not exist. Named like S3's error, so callers that test the name keep working. */
export class ObjectNotFound extends Error {
  override readonly name = 'NoSuchKey';
  constructor(readonly bucket: string, readonly key: string) {
    super(`s3://${bucket}/${key} does not exist`);
  }
}
