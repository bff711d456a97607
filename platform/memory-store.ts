// The object store in a Map: for tests of activity logic without MinIO.
import { ObjectStore, PutOptions, StoredObject } from './object-store';

export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, { body: Buffer; contentType: string }>();

  async get(bucket: string, key: string, range?: string): Promise<Buffer | undefined> {
    const body = this.objects.get(`${bucket}/${key}`)?.body;
    const match = range && /^bytes=(\d+)-(\d+)$/.exec(range);
    return body && match ? body.subarray(Number(match[1]), Number(match[2]) + 1) : body;
  }

  async put(bucket: string, key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    this.objects.set(`${bucket}/${key}`, { body: Buffer.from(body), contentType: options.contentType ?? 'application/octet-stream' });
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
