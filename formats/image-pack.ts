// Image packs: a data set's images stored many to an object instead of one object each. A pack is
// the images' bytes end to end, named by their hash; its index, a small JSON beside it, says where
// each image lies, and so does the data-set manifest. One PUT and one GET per pack instead of per
// image: on the 1,797 digits the per-image requests were most of a cold sweep's ingest
// (docs/benchmark.md, cut 18).
import { createHash } from 'node:crypto';
import { ImageInPack } from '../lib/manifest';

/** What a pack holds, stored beside it: each image's sha256 and byte range. */
export interface ImagePackIndex {
  pack: string;
  images: Array<{ sha256: string; offset: number; length: number }>;
}

/** Collects images into one pack; `finish` names it by its bytes' hash. */
export class ImagePackBuilder {
  private readonly chunks: Uint8Array[] = [];
  private readonly images: ImagePackIndex['images'] = [];
  private bytes = 0;

  get size(): { images: number; bytes: number } {
    return { images: this.images.length, bytes: this.bytes };
  }

  add(sha256: string, image: Uint8Array): void {
    this.chunks.push(image);
    this.images.push({ sha256, offset: this.bytes, length: image.length });
    this.bytes += image.length;
  }

  finish(): { bytes: Buffer; index: ImagePackIndex } {
    const bytes = Buffer.concat(this.chunks, this.bytes);
    return { bytes, index: { pack: createHash('sha256').update(bytes).digest('hex'), images: this.images.slice() } };
  }
}

/** Every image of the indexes by sha256 (an image in several packs: the first one's). */
export function locateImages(indexes: Iterable<ImagePackIndex>): Map<string, ImageInPack> {
  const located = new Map<string, ImageInPack>();
  for (const { pack, images } of indexes) {
    for (const { sha256, offset, length } of images) if (!located.has(sha256)) located.set(sha256, { pack, offset, length });
  }
  return located;
}
