// Data-set manifests: what was ingested, balanced and split. Image bytes live once in S3 under
// their content hash; manifests only reference them, so balancing and splitting copy nothing.

export interface ImageRef {
  /** sha256 of the file's bytes; the S3 object is blobs/<sha256>. */
  sha256: string;
  /** Class name (folder). */
  label: string;
  /** Path inside the source, for people reading reports. */
  source: string;
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
