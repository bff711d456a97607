// The object store in a Map: for tests of activity logic without MinIO.
import { ObjectStore, ObjectVersion, PreconditionFailedError, PutOptions, StoredObject } from './object-store';

export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, { body: Buffer; contentType: string; etag: string }>();
  private writes = 0;

  async get(bucket: string, key: string, range?: string): Promise<ObjectVersion | undefined> {
    const object = this.objects.get(`${bucket}/${key}`);
    if (!object) return undefined;
    const match = range && /^bytes=(\d+)-(\d+)$/.exec(range);
    return { body: match ? object.body.subarray(Number(match[1]), Number(match[2]) + 1) : object.body, etag: object.etag };
  }

  async put(bucket: string, key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<string> {
    const current = this.objects.get(`${bucket}/${key}`);
    if ((options.ifNoneMatch && current) || (options.ifMatch !== undefined && current?.etag !== options.ifMatch)) throw new PreconditionFailedError(key);
    const etag = `"${++this.writes}"`;
    this.objects.set(`${bucket}/${key}`, { body: Buffer.from(body), contentType: options.contentType ?? 'application/octet-stream', etag });
    return etag;
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    return this.objects.has(`${bucket}/${key}`);
  }

  async *list(bucket: string, prefix: string): AsyncGenerator<StoredObject> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).sort();
    for (const k of keys) yield { key: k.slice(bucket.length + 1), size: this.objects.get(k)!.body.length };
  }

  async delete(bucket: string, key: string): Promise<void> {
    this.objects.delete(`${bucket}/${key}`);
  }
}
