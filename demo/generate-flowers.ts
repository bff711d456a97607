// Built-in demo data set: a synthetic look-alike of Kaggle's flowers-recognition
// (flowers/<class>/*.jpg; daisy 764, rose 784, sunflower 733, tulip 984; JPEG photos of mixed sizes).
//
//   npx tsx demo/generate-flowers.ts --out .data/demo/flowers [--scale 1.0] [--width 160 --height 120] [--seed 7]
//
// Deterministic: the same parameters give byte-identical files (every image is drawn from a random
// stream keyed by seed, class and index, and sharp's JPEG encoder is deterministic). Idempotent: a
// finished set carries a .complete.json marker, written last; when it matches the parameters and
// the expected files are all there, a rerun returns at once. Otherwise the set is (re)written:
// stale .jpg files in the class folders are removed, every image is written atomically.
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { drawFlower, FLOWER_CLASSES, FlowerClass, REFERENCE_CLASS_COUNTS } from './flower-drawing';
import { randomStream } from '../lib/random';

/** Bump when the drawing or the plan changes, so sets made by an older generator are regenerated. */
export const FLOWER_GENERATOR_VERSION = 1;
export const COMPLETE_MARKER = '.complete.json';

export interface FlowerDatasetOptions {
  /** Folder to write `<class>/<name>.jpg` into. */
  outDir: string;
  /** Fraction of the reference per-class counts (each class gets at least one image). Default 1. */
  scale?: number;
  /** Nominal image size; each image varies around it (about ±25%, some portrait). Default 160x120. */
  width?: number;
  height?: number;
  seed?: number;
  /** JPEG quality. Default 85. */
  quality?: number;
  /** Images drawn/encoded/written at once. Default: available parallelism + 2. */
  concurrency?: number;
  /** Regenerate even when a complete matching set is there. */
  force?: boolean;
  /** Progress lines; default silent. */
  log?: (line: string) => void;
}

export interface PlannedImage {
  className: FlowerClass;
  index: number;
  /** File name inside the class folder, Flickr-like: `<id>_<secret>[_n|_m].jpg`. */
  fileName: string;
  width: number;
  height: number;
}

export interface FlowerDatasetResult {
  outDir: string;
  /** True when a complete matching set was already there and nothing was written. */
  skipped: boolean;
  files: number;
  perClass: Record<FlowerClass, number>;
  /** Stale .jpg files removed from the class folders. */
  removed: number;
  elapsedMs: number;
}

interface Parameters {
  generator: 'flowers-demo';
  version: number;
  seed: number;
  scale: number;
  width: number;
  height: number;
  quality: number;
}

interface Marker extends Parameters {
  perClass: Record<FlowerClass, number>;
  files: number;
}

function parameters(options: FlowerDatasetOptions): Parameters {
  const p: Parameters = {
    generator: 'flowers-demo',
    version: FLOWER_GENERATOR_VERSION,
    seed: options.seed ?? 7,
    scale: options.scale ?? 1,
    width: options.width ?? 160,
    height: options.height ?? 120,
    quality: options.quality ?? 85,
  };
  if (!Number.isSafeInteger(p.seed)) throw new RangeError(`seed must be an integer, got ${p.seed}`);
  if (!Number.isFinite(p.scale) || p.scale <= 0 || p.scale > 100) throw new RangeError(`scale must be in (0, 100], got ${p.scale}`);
  for (const key of ['width', 'height'] as const) {
    if (!Number.isInteger(p[key]) || p[key] < 16 || p[key] > 2048) throw new RangeError(`${key} must be an integer in [16, 2048], got ${p[key]}`);
  }
  if (!Number.isInteger(p.quality) || p.quality < 1 || p.quality > 100) throw new RangeError(`quality must be an integer in [1, 100], got ${p.quality}`);
  return p;
}

/** Images per class: reference count × scale, rounded, at least one. */
export function flowerClassCounts(scale: number): Record<FlowerClass, number> {
  const out = {} as Record<FlowerClass, number>;
  for (const cls of FLOWER_CLASSES) out[cls] = Math.max(1, Math.round(REFERENCE_CLASS_COUNTS[cls] * scale));
  return out;
}

/** Which files the set holds and each one's size: a pure function of the parameters. */
export function planFlowerDataset(options: Omit<FlowerDatasetOptions, 'outDir'>): PlannedImage[] {
  const p = parameters({ ...options, outDir: '' });
  const counts = flowerClassCounts(p.scale);
  const plan: PlannedImage[] = [];
  for (const cls of FLOWER_CLASSES) {
    const used = new Set<string>();
    for (let index = 0; index < counts[cls]; index++) {
      const random = randomStream('flowers-demo', p.seed, cls, index, 'file');
      let fileName = flickrName(random);
      while (used.has(fileName)) fileName = flickrName(random);
      used.add(fileName);
      // Real photos: mostly landscape around the nominal size, some portrait, all a bit different.
      const portrait = random() < 0.2;
      const jitterW = 0.75 + 0.5 * random();
      const jitterH = Math.min(1.25, Math.max(0.75, jitterW * (0.9 + 0.2 * random())));
      const baseW = portrait ? p.height : p.width;
      const baseH = portrait ? p.width : p.height;
      plan.push({
        className: cls,
        index,
        fileName,
        width: Math.max(16, Math.round(baseW * jitterW)),
        height: Math.max(16, Math.round(baseH * jitterH)),
      });
    }
  }
  return plan;
}

function flickrName(random: () => number): string {
  const digits = 6 + Math.floor(random() * 6);
  let id = String(1 + Math.floor(random() * 9));
  for (let k = 1; k < digits; k++) id += String(Math.floor(random() * 10));
  let secret = '';
  for (let k = 0; k < 10; k++) secret += Math.floor(random() * 16).toString(16);
  const r = random();
  const suffix = r < 0.75 ? '_n' : r < 0.85 ? '_m' : '';
  return `${id}_${secret}${suffix}.jpg`;
}

/** Draw one planned image (RGB pixels), exactly as the generator does. */
export function drawPlannedImage(image: PlannedImage, seed: number): Uint8Array {
  return drawFlower(image.className, image.width, image.height, randomStream('flowers-demo', seed, image.className, image.index, 'pixels'));
}

async function readMarker(outDir: string): Promise<Marker | null> {
  try {
    return JSON.parse(await readFile(join(outDir, COMPLETE_MARKER), 'utf8')) as Marker;
  } catch {
    return null;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function sameParameters(marker: Marker, p: Parameters): boolean {
  return (Object.keys(p) as Array<keyof Parameters>).every((key) => marker[key] === p[key]);
}

/** Whether every class folder holds exactly the planned .jpg files. */
async function isComplete(outDir: string, plan: readonly PlannedImage[]): Promise<boolean> {
  for (const cls of FLOWER_CLASSES) {
    const expected = new Set(plan.filter((img) => img.className === cls).map((img) => img.fileName));
    const present = (await listDir(join(outDir, cls))).filter((name) => name.endsWith('.jpg'));
    if (present.length !== expected.size || !present.every((name) => expected.has(name))) return false;
  }
  return true;
}

export async function generateFlowerDataset(options: FlowerDatasetOptions): Promise<FlowerDatasetResult> {
  const started = performance.now();
  const p = parameters(options);
  const outDir = resolve(options.outDir);
  const log = options.log ?? (() => undefined);
  const plan = planFlowerDataset(p);
  const perClass = flowerClassCounts(p.scale);

  const marker = await readMarker(outDir);
  if (!options.force && marker && sameParameters(marker, p) && (await isComplete(outDir, plan))) {
    return { outDir, skipped: true, files: plan.length, perClass, removed: 0, elapsedMs: performance.now() - started };
  }

  // Not complete (or forced): drop the marker first so an interrupted run never looks finished.
  await mkdir(outDir, { recursive: true });
  await rm(join(outDir, COMPLETE_MARKER), { force: true });
  let removed = 0;
  for (const cls of FLOWER_CLASSES) {
    const dir = join(outDir, cls);
    await mkdir(dir, { recursive: true });
    const expected = new Set(plan.filter((img) => img.className === cls).map((img) => img.fileName));
    for (const name of await listDir(dir)) {
      const stale = name.endsWith('.jpg') && !expected.has(name);
      const partial = name.startsWith('.') && name.includes('.tmp-');
      if (stale || partial) {
        await unlink(join(dir, name));
        if (stale) removed++;
      }
    }
  }

  const concurrency = Math.max(1, Math.floor(options.concurrency ?? availableParallelism() + 2));
  let next = 0;
  let done = 0;
  const step = Math.max(1, Math.ceil(plan.length / 10));
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const image = plan[next++];
      // Drawing is synchronous JS on this thread; sharp encodes on libuv's pool meanwhile.
      const pixels = drawPlannedImage(image, p.seed);
      const jpeg = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
        raw: { width: image.width, height: image.height, channels: 3 },
      })
        .jpeg({ quality: p.quality })
        .toBuffer();
      const target = join(outDir, image.className, image.fileName);
      const temp = join(outDir, image.className, `.${image.fileName}.tmp-${process.pid}`);
      await writeFile(temp, jpeg);
      await rename(temp, target);
      done++;
      if (done % step === 0 && done < plan.length) log(`  ${done}/${plan.length} images`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, plan.length) }, worker));

  const complete: Marker = { ...p, perClass, files: plan.length };
  const markerPath = join(outDir, COMPLETE_MARKER);
  await writeFile(`${markerPath}.tmp-${process.pid}`, JSON.stringify(complete, null, 2) + '\n');
  await rename(`${markerPath}.tmp-${process.pid}`, markerPath);
  return { outDir, skipped: false, files: plan.length, perClass, removed, elapsedMs: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage: npx tsx demo/generate-flowers.ts [--out .data/demo/flowers] [--scale 1.0] [--width 160 --height 120]
                                       [--seed 7] [--quality 85] [--concurrency N] [--force]`;

function parseArgs(argv: readonly string[]): FlowerDatasetOptions {
  const options: FlowerDatasetOptions = { outDir: '.data/demo/flowers' };
  const numeric = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} needs a number\n${USAGE}`);
    return n;
  };
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++k];
    switch (flag) {
      case '--out': {
        const v = value();
        if (!v) throw new Error(`--out needs a folder\n${USAGE}`);
        options.outDir = v;
        break;
      }
      case '--scale':
        options.scale = numeric(flag, value());
        break;
      case '--width':
        options.width = numeric(flag, value());
        break;
      case '--height':
        options.height = numeric(flag, value());
        break;
      case '--seed':
        options.seed = numeric(flag, value());
        break;
      case '--quality':
        options.quality = numeric(flag, value());
        break;
      case '--concurrency':
        options.concurrency = numeric(flag, value());
        break;
      case '--force':
        options.force = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  return options;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  options.log = (line) => console.log(line);
  const result = await generateFlowerDataset(options);
  const counts = FLOWER_CLASSES.map((cls) => `${cls} ${result.perClass[cls]}`).join(', ');
  const seconds = (result.elapsedMs / 1000).toFixed(2);
  if (result.skipped) {
    console.log(`${result.outDir}: complete set of ${result.files} images already there (${counts}); nothing to do (${seconds} s)`);
  } else {
    const removed = result.removed ? `, removed ${result.removed} stale` : '';
    console.log(`wrote ${result.files} images (${counts}) to ${result.outDir} in ${seconds} s${removed}`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
