// Data-set manifests: what was ingested, balanced and split. Image bytes are stored once, in image
// packs (formats/image-pack.ts); manifests only reference them, so balancing and splitting copy nothing.

/** Where an image's bytes lie: its pack (named by the sha256 of the pack's bytes) and the byte range. */
export interface ImageInPack {
  pack: string;
  offset: number;
  length: number;
}

export interface ImageRef {
  /** sha256 of the file's bytes. */
  sha256: string;
  /** Class name (folder). */
  label: string;
  /** Path inside the source, for people reading reports. */
  source: string;
  /** Absent in data sets ingested before image packs, which stored each image as blobs/<sha256>. */
  at?: ImageInPack;
}

export interface SkippedFile {
  source: string;
  reason: string;
}

export interface DatasetManifest {
  /** Hash of the sorted (label, sha256) pairs: same images and labels, same id. */
  datasetId: string;
  source: string;
  classes: string[];
  images: ImageRef[];
  skipped: SkippedFile[];
}

/** One sample after balancing: an image and which copy of it (oversampled copies get their own augmentation). */
export interface Sample {
  sha256: string;
  label: number;
  copy: number;
}

export type SplitName = 'train' | 'val' | 'test';

export interface SplitManifest {
  splitId: string;
  datasetId: string;
  classes: string[];
  train: Sample[];
  val: Sample[];
  test: Sample[];
}
