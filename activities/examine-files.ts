// Which files of a data source are images a sweep can use: each read, hashed and decode-checked, as
// ingestion stores them and `sweep validate` surveys them. What is skipped must depend on the files
// alone: a data set that lost an image to a passing failure would get another id, for good.
import { sha256Of } from '../lib/content-id';
import { forEachBounded } from '../lib/bounded';
import { ClassLayout, SKIP, hasImageExtension, skipped } from '../lib/dataset-layout';
import { TransientError } from '../lib/errors';
import { ImageInPack, ImageRef, SkippedFile } from '../lib/manifest';
import { DecodeCheck, decodeCheck, isWantOfResources } from '../model/image-preprocessing';

export interface SourceFile {
  path: string;
  size: number;
  read(): Promise<Buffer>;
}

/** Far above any training image; guards the worker's memory against a mislabelled huge file. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

/** What stands for the bytes of a file too large to read, in an ingest's record. */
export function tooLarge(size: number): string {
  return `${size} bytes, not read`;
}

export interface ExaminedFiles {
  candidates: ImageRef[];
  skipped: SkippedFile[];
  /** Each file's sha256 (a file too large to read: tooLarge), what an ingest's record is keyed by. */
  read: Map<string, string>;
}

export interface ExamineOptions {
  /** Files read and decoded at once. */
  concurrency: number;
  /** Images an earlier ingest stored, by sha256: found there, an image needs no decode. */
  stored?: ReadonlyMap<string, ImageInPack>;
  /** Given each image that decoded and is not stored yet, to store. */
  keep?: (sha256: string, bytes: Buffer) => Promise<void>;
  /** Told as each file is done; may throw to stop (a cancelled ingest). */
  progress?: (done: number, total: number) => void;
  decode?: (bytes: Buffer) => Promise<DecodeCheck>;
}

/**
 * Reads, hashes and decode-checks every file of the layout. A file whose decode failed beside others is
 * decoded again alone once they are done: libvips shares its error buffer and memory between the decodes
 * in flight, so the failure may be theirs. Still failing alone, it is skipped as unreadable, unless it
 * failed for want of memory or threads: that fails the step (TransientError, retried), because skipped, a
 * good image would leave the data set, and a changed data set is another one for every later sweep.
 */
export async function examineFiles(layout: ClassLayout, files: ReadonlyMap<string, SourceFile>, options: ExamineOptions): Promise<ExaminedFiles> {
  const { stored, keep, decode = decodeCheck } = options;
  const examined: ExaminedFiles = { candidates: [], skipped: [], read: new Map() };
  const failedBesideOthers: Array<ClassLayout['files'][number]> = [];
  let done = 0;
  /** False when the decode failed beside others, to be tried again alone. */
  const examine = async ({ path: source, label }: ClassLayout['files'][number], alone: boolean): Promise<boolean> => {
    const file = files.get(source)!;
    if (file.size > MAX_FILE_BYTES) {
      examined.read.set(source, tooLarge(file.size));
      examined.skipped.push(skipped(source, SKIP.tooLarge, `${file.size} bytes, more than ${MAX_FILE_BYTES}`));
      return true;
    }
    const bytes = await file.read();
    const sha256 = sha256Of(bytes);
    examined.read.set(source, sha256);
    // Only images that decoded are stored, keyed by their bytes' hash: a stored one needs no second
    // decode (on a warm sweep, the decodes were most of ingest: docs/benchmark.md).
    const at = stored?.get(sha256);
    const check = at ? undefined : await decode(bytes);
    if (check && !check.ok) {
      if (!alone) return false;
      if (isWantOfResources(check.reason)) {
        throw new TransientError(`decoding ${source} failed for want of resources on this worker (${check.reason}); the step is retried`);
      }
      examined.skipped.push(skipped(source, hasImageExtension(source) ? SKIP.unreadable : SKIP.notImage, check.reason));
      return true;
    }
    examined.candidates.push({ sha256, label, source, ...(at ? { at } : {}) });
    // Content-addressed: one copy per distinct image, none if an earlier ingest stored it.
    // (Copies later dropped as conflicting are stored too; harmless, nothing references them.)
    if (!at) await keep?.(sha256, bytes);
    return true;
  };
  const total = layout.files.length;
  await forEachBounded(layout.files, options.concurrency, async (entry) => {
    if (await examine(entry, false)) options.progress?.(++done, total);
    else failedBesideOthers.push(entry);
  });
  for (const entry of failedBesideOthers) {
    await examine(entry, true);
    options.progress?.(++done, total);
  }
  return examined;
}
