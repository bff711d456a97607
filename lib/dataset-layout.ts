// How a data set's files become labelled images: which archive entries are safe to extract, which files
// are clutter, where the class folders are, and which copies of the same bytes to keep. Pure decisions
// over paths and hashes; the reading, decoding and uploading is in activities/ingest.ts.
import { createHash } from 'node:crypto';
import { groupBy } from './group-by';
import { ImageRef, SkippedFile } from './manifest';

/** Why a file is not in the data set; the keys of IngestSummary.skippedByReason. */
export const SKIP = {
  hidden: 'hidden file',
  outsideClasses: 'not in a class folder',
  notImage: 'not an image',
  unreadable: 'unreadable image',
  tooLarge: 'too large',
  duplicate: 'duplicate',
  conflict: 'conflicting labels',
  linkedFolder: 'linked folder',
  brokenLink: 'broken link',
} as const;

export type SkipReason = (typeof SKIP)[keyof typeof SKIP];

export function skipped(source: string, reason: SkipReason, detail?: string): SkippedFile {
  return { source, reason: detail ? `${reason}: ${detail}` : reason };
}

/** The reason category of a SkippedFile (its reason up to the detail). */
export function skipReasonOf(file: SkippedFile): string {
  return file.reason.split(': ')[0];
}

/**
 * An archive entry name as a safe relative path ('/'-separated, no '.' parts), or why it is unsafe:
 * absolute paths, drive letters and '..' parts would write outside the extraction folder.
 */
export function safeEntryPath(name: string): { path: string } | { problem: string } {
  // Some Windows tools write '\' separators; read them as separators so '..\x' is caught too.
  const normalised = name.replace(/\\/g, '/');
  if (normalised.includes('\0')) return { problem: 'contains a NUL character' };
  if (normalised.startsWith('/') || /^[A-Za-z]:/.test(normalised)) return { problem: 'is an absolute path' };
  const parts = normalised.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { problem: 'climbs out of the archive with ".."' };
  return { path: parts.join('/') };
}

// Clutter that operating systems and archivers leave next to images.
const HIDDEN_NAMES = new Set(['__macosx', 'thumbs.db', 'desktop.ini']);

export function isHidden(path: string): boolean {
  return path.split('/').some((part) => part.startsWith('.') || HIDDEN_NAMES.has(part.toLowerCase()));
}

// Extensions of the formats decodeCheck accepts: a file named like this that does not decode is a
// broken image (counted against data.maxBadFraction); any other file that does not decode is not an image.
const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'jpe', 'jfif', 'png', 'webp', 'gif', 'tif', 'tiff', 'avif', 'heic', 'heif']);

export function hasImageExtension(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') && IMAGE_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

export interface ClassLayout {
  /** Classes in label order. */
  classes: string[];
  /** Every class folder found, sorted (for error messages). */
  found: string[];
  /** Files to read, with their class. */
  files: Array<{ path: string; label: string }>;
  /** Files skipped without reading them (hidden, outside the class folders). */
  skipped: SkippedFile[];
}

export class LayoutError extends Error {}

/**
 * Finds the class folders among the source's file paths: `<class>/<file>`, below any number of single
 * wrapping folders (an archive of `flowers/` holding the class folders). Files under class folders that
 * are not used are ignored entirely; files in subfolders of a class folder belong to that class.
 */
export function layOutClasses(paths: readonly string[], wantedAsGiven?: readonly string[]): ClassLayout {
  const wanted = wantedAsGiven?.map(className);
  // The spec refuses a name listed twice as written; once composed and once decomposed, it is one class.
  const twice = wanted?.find((c, i) => wanted.indexOf(c) !== i);
  if (twice !== undefined) throw new LayoutError(`data.classes lists "${twice}" twice (in composed and decomposed Unicode, which look the same); list it once`);
  const visible = paths.filter((p) => !isHidden(p));
  let prefix = '';
  for (;;) {
    const rest = visible.map((p) => p.slice(prefix.length).split('/'));
    const tops = new Set(rest.map((parts) => parts[0]));
    // Unwrap a lone folder only while it holds folders: a lone folder of files is a single class.
    const lone = tops.size === 1 && rest.every((parts) => parts.length >= 2) && rest.some((parts) => parts.length >= 3);
    if (!lone) break;
    prefix += `${[...tops][0]}/`;
  }

  const classOf = (p: string): string | undefined => {
    if (!p.startsWith(prefix)) return undefined;
    const parts = p.slice(prefix.length).split('/');
    return parts.length >= 2 ? className(parts[0]) : undefined;
  };
  const found = [...new Set(visible.map(classOf).filter((c): c is string => c !== undefined))].sort();
  const where = prefix ? ` (in ${prefix.slice(0, -1)}/)` : '';
  if (wanted) {
    const missing = wanted.filter((c) => !found.includes(c));
    if (missing.length) {
      throw new LayoutError(`data.classes lists ${missing.map((c) => `"${c}"`).join(', ')}, but the source has no such class folder${missing.length > 1 ? 's' : ''}${where}; it has: ${found.join(', ') || 'no class folders'}. Fix data.classes or the source`);
    }
  } else if (found.length < 2) {
    throw new LayoutError(`found ${found.length ? `only one class folder (${found[0]})` : 'no class folders'}${where}; a classifier needs at least two. Put each class's images in its own folder: <source>/<class>/<image>`);
  }
  const classes = wanted ? [...wanted] : found;

  const layout: ClassLayout = { classes, found, files: [], skipped: [] };
  for (const p of [...paths].sort()) {
    const label = classOf(p);
    if (label !== undefined && found.includes(label) && !classes.includes(label)) continue;
    if (isHidden(p)) layout.skipped.push(skipped(p, SKIP.hidden));
    else if (label === undefined) layout.skipped.push(skipped(p, SKIP.outsideClasses));
    else layout.files.push({ path: p, label });
  }
  return layout;
}

/**
 * A class folder's name as a class: in Unicode's composed form (NFC). macOS often stores names
 * decomposed (NFD), and the same class must get the same name, label and data set id everywhere.
 */
function className(folder: string): string {
  return folder.normalize('NFC');
}

/**
 * Keeps one copy of each distinct image. The same bytes twice in one class is a duplicate (kept once);
 * the same bytes in two classes cannot be labelled, so every copy is dropped.
 */
export function dropDuplicates(candidates: readonly ImageRef[], classes: readonly string[]): { images: ImageRef[]; skipped: SkippedFile[] } {
  const bySha = groupBy(candidates, (image) => image.sha256);
  const images: ImageRef[] = [];
  const dropped: SkippedFile[] = [];
  for (const copies of bySha.values()) {
    copies.sort((a, b) => compare(a.source, b.source));
    const labels = [...new Set(copies.map((c) => c.label))];
    if (labels.length > 1) {
      for (const c of copies) dropped.push(skipped(c.source, SKIP.conflict, `same bytes as ${copies.filter((o) => o !== c).map((o) => o.source).join(', ')} (classes ${labels.join(', ')})`));
      continue;
    }
    images.push(copies[0]);
    for (const c of copies.slice(1)) dropped.push(skipped(c.source, SKIP.duplicate, `same bytes as ${copies[0].source}`));
  }
  const labelOf = new Map(classes.map((c, i) => [c, i]));
  images.sort((a, b) => (labelOf.get(a.label) ?? -1) - (labelOf.get(b.label) ?? -1) || compare(a.source, b.source));
  dropped.sort((a, b) => compare(a.source, b.source));
  return { images, skipped: dropped };
}

/** How many images each class has, in class order. */
export function imagesPerClass(images: readonly ImageRef[], classes: readonly string[]): Record<string, number> {
  const byClass = groupBy(images, (i) => i.label);
  return Object.fromEntries(classes.map((c) => [c, byClass.get(c)?.length ?? 0]));
}

/**
 * Same classes (in label order) and the same images with the same labels, same id, whatever the source's
 * form (folder, zip, tar) or file names. The class order is part of it because labels are its indices.
 */
export function datasetIdOf(classes: readonly string[], images: readonly ImageRef[]): string {
  const lines = images.map((i) => `${i.label}\t${i.sha256}`).sort();
  return createHash('sha256').update(`${classes.join('\t')}\n${lines.join('\n')}\n`).digest('hex').slice(0, 32);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
