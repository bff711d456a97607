// The image store: ingestion writes a data set's images into packs (formats/image-pack.ts), feature
// extraction and the benchmarks read them back by sha256. Data sets ingested before packs keep their
// images one object each (blobs/<sha256>), read as before.
import fs from 'node:fs/promises';
import { artifactKeys } from '../lib/artifact-keys';
import { sha256Of } from '../lib/content-id';
import { DatasetManifest, ImageInPack } from '../lib/manifest';
import { ImagePackBuilder, ImagePackIndex, locateImages } from '../formats/image-pack';
import { mapBounded } from '../lib/bounded';
import { keepLast } from '../lib/keep-last';
import { readLocalCopy } from './local-copy';
import { getJson, getObject, listKeys, putJson, putObject } from './storage';

/**
 * A pack is stored once it holds this many bytes or images: large enough that its requests cost
 * little per image, small enough that ingestion holds only a few in memory (one filling, one waiting,
 * one being stored) and that a worker reading a few images of it downloads little in vain.
 */
export const PACK_BYTES = 8 * 2 ** 20;
export const PACK_IMAGES = 4096;

/** Writes images into packs as they come, each pack with its index, one pack stored at a time. */
export class ImagePackWriter {
  private filling = new ImagePackBuilder();
  private storing: Promise<void> = Promise.resolve();
  private readonly located = new Map<string, ImageInPack>();
  /** Each image goes into one pack, however many files hold it. */
  private readonly added = new Set<string>();

  constructor(private readonly limits = { bytes: PACK_BYTES, images: PACK_IMAGES }) {}

  /** Adds the image to the pack filling; when that is full, waits while the pack before it is stored (memory stays bounded). */
  async add(sha256: string, bytes: Uint8Array): Promise<void> {
    if (this.added.has(sha256)) return;
    this.added.add(sha256);
    this.filling.add(sha256, bytes);
    const { images, bytes: size } = this.filling.size;
    if (size >= this.limits.bytes || images >= this.limits.images) await this.seal();
  }

  /** Stores the last pack; then every image added has its place. */
  async close(): Promise<Map<string, ImageInPack>> {
    await this.seal();
    await this.storing;
    return this.located;
  }

  /** Queues the filled pack to be stored after the one before it; resolves when that one is stored. */
  private seal(): Promise<void> {
    const full = this.filling;
    this.filling = new ImagePackBuilder();
    const before = this.storing;
    const stored = before.then(() => (full.size.images ? this.store(full) : undefined));
    // Awaited by the next seal or by close; marked handled so a failure in between cannot crash the worker.
    stored.catch(() => undefined);
    this.storing = stored;
    return before;
  }

  private async store(pack: ImagePackBuilder): Promise<void> {
    const { bytes, index } = pack.finish();
    // The index goes second: a listed index names a pack stored whole.
    await putObject(artifactKeys.imagePack(index.pack), bytes);
    await putJson(artifactKeys.imagePackIndex(index.pack), index);
    for (const [sha256, at] of locateImages([index])) this.located.set(sha256, at);
  }
}

/**
 * Where the bucket's packs hold each image, when their indexes are small beside the data set being
 * ingested (at most about twice its files' entries), else undefined: a bucket holding many other
 * data sets is not read whole for one ingest, whose images are then decoded and packed again.
 */
export async function storedImages(files: number): Promise<Map<string, ImageInPack> | undefined> {
  const indexKeys: string[] = [];
  let bytes = 0;
  for await (const { key, size } of listKeys(artifactKeys.imagePackPrefix)) {
    if (!key.endsWith('.json')) continue;
    indexKeys.push(key);
    bytes += size;
    if (bytes > INDEX_ENTRY_BYTES * 2 * files + 64 * 1024) return undefined;
  }
  return locateImages(await mapBounded(indexKeys, 8, (key) => getJson<ImagePackIndex>(key)));
}

/** An index entry's size in JSON, rounded up: {"sha256":"<64 hex>","offset":12345678,"length":1234567}, */
const INDEX_ENTRY_BYTES = 128;

/** The data set's images by sha256, from its packs (or, ingested before packs, from their own objects). */
export async function imageReader(datasetId: string): Promise<(sha256: string) => Promise<Buffer>> {
  const places = await placesOf(datasetId);
  return (sha256) => {
    const at = places.get(sha256);
    return at ? readFromPack(at, sha256) : getObject(artifactKeys.blob(sha256));
  };
}

/** The last data set's places, kept: a manifest's key is its content's hash, so a kept copy is never stale. */
const placesOf = keepLast((datasetId: string) => getJson<DatasetManifest>(artifactKeys.dataset(datasetId))
  .then((manifest) => new Map(manifest.images.flatMap((image) => (image.at ? [[image.sha256, image.at] as const] : [])))));

/**
 * One image's bytes, read from this node's copy of its pack (downloaded once) and checked against the
 * image's hash: a copy cut short or damaged on disk is downloaded again, once, instead of failing every
 * retry on this node or feeding the backbone wrong bytes.
 */
function readFromPack(at: ImageInPack, sha256: string): Promise<Buffer> {
  return readLocalCopy<Buffer>(artifactKeys.imagePack(at.pack), async (file) => {
    const handle = await fs.open(file, 'r');
    try {
      const bytes = Buffer.alloc(at.length);
      const { bytesRead } = await handle.read(bytes, 0, at.length, at.offset);
      if (bytesRead === at.length && sha256Of(bytes) === sha256) return { value: bytes };
      return { damaged: `${bytesRead === at.length ? 'other bytes' : `the file ends before byte ${at.offset + at.length}`} where the manifest places image ${sha256}` };
    } finally {
      await handle.close();
    }
  });
}
