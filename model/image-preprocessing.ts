// Image bytes -> normalised model input, with sharp (libvips). Every input mode (EXIF-rotated, grey,
// grey+alpha, RGBA, CMYK, 16-bit, palette) is first decoded to upright 8-bit sRGB RGB, so the
// geometry below only ever sees one pixel format. Same bytes and view, same floats.
import sharp, { CreateRaw, ResizeOptions, SharpOptions } from 'sharp';
import { AugmentParams, jitterColours } from '../lib/augmentation';

export interface ImageSize {
  /** Side of the square model input. */
  size: number;
  /** Eval view: shorter side resized to this before the centre crop. */
  resize: number;
}

export interface Normalisation {
  mean: [number, number, number];
  std: [number, number, number];
}

export type DecodeCheck = { ok: true; width: number; height: number; format: string } | { ok: false; reason: string };

// Formats a classifier data set may contain. Everything else sharp might open (svg, pdf, raw camera
// files, ...) is a document or a capture, not a training image.
const IMAGE_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

// 'error' fails on truncated and corrupt pixel data but not on the harmless warnings many real JPEGs carry.
const DECODE_OPTIONS: SharpOptions = { failOn: 'error' };

/**
 * Model input for one image: size*size*3 floats, NHWC, RGB, (v/255 - mean)/std.
 * Without a view: the eval view (shorter side to `resize`, centre crop `size`, like torchvision's
 * Resize + CenterCrop). With a view: rotate, random resized crop, resize to size x size, flip, colour jitter.
 */
export async function preprocessImage(bytes: Buffer, image: ImageSize, view: AugmentParams | undefined, norm: Normalisation): Promise<Float32Array> {
  // Transparent pixels and rotated-in corners get the mean colour, which normalises to 0 (no signal).
  const fill = { r: Math.round(norm.mean[0] * 255), g: Math.round(norm.mean[1] * 255), b: Math.round(norm.mean[2] * 255) };
  const pixels = view ? await trainView(bytes, image.size, view, fill) : await evalView(bytes, image, fill);
  const values = view ? jitterColours(pixels, view) : pixels;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = i % 3;
    out[i] = (values[i] / 255 - norm.mean[c]) / norm.std[c];
  }
  return out;
}

/** Fully decodes the image (so truncated or corrupt files fail here, not in training) and checks its format. */
export async function decodeCheck(bytes: Buffer): Promise<DecodeCheck> {
  let check = await decodeCheckOnce(bytes);
  // libvips keeps one error buffer for all threads, so while other decodes run a failure can lose its
  // message ("Unknown error"). Decoding again recovers the real reason for the user in practice.
  for (let retry = 0; retry < 3 && !check.ok && check.reason === VIPS_LOST_MESSAGE; retry++) check = await decodeCheckOnce(bytes);
  return check;
}

const VIPS_LOST_MESSAGE = 'Unknown error';

/**
 * Whether libvips' message says the machine, not the image, failed: memory or threads ran short (out of
 * memory, cannot allocate, thread creation, too many open files). A retry, later or elsewhere, may pass.
 */
export function isWantOfResources(message: string): boolean {
  return /out of memory|cannot allocate|unable to create thread|g_thread|resource temporarily unavailable|too many open files/i.test(message);
}

async function decodeCheckOnce(bytes: Buffer): Promise<DecodeCheck> {
  try {
    const meta = await sharp(bytes, DECODE_OPTIONS).metadata();
    if (!meta.format || !IMAGE_FORMATS.has(meta.format)) {
      return { ok: false, reason: `${meta.format ?? 'unknown'} is not a supported image format (use ${[...IMAGE_FORMATS].join(', ')})` };
    }
    // Decoding to a thumbnail reads every pixel but keeps little in memory. (Not stats(): with several
    // decodes in flight it sometimes misses a truncated JPEG.)
    await sharp(bytes, DECODE_OPTIONS).resize(32, 32, { fit: 'inside' }).raw().toBuffer();
    return { ok: true, width: meta.autoOrient.width, height: meta.autoOrient.height, format: meta.format };
  } catch (error) {
    return { ok: false, reason: (error as Error).message.split('\n')[0] };
  }
}

type Rgb = { r: number; g: number; b: number };
interface RawImage { data: Buffer; width: number; height: number }

async function evalView(bytes: Buffer, image: ImageSize, fill: Rgb): Promise<Buffer> {
  // fit 'outside' scales so the shorter side is exactly `resize`.
  const resized = await decodeRgb(bytes, fill, { width: image.resize, height: image.resize, fit: 'outside' });
  const left = Math.round((resized.width - image.size) / 2);
  const top = Math.round((resized.height - image.size) / 2);
  return cropSquare(resized, left, top, image.size);
}

/**
 * The size x size square at (left, top), row by row: the bytes sharp's extract gives, without a
 * second libvips pipeline (its fixed cost was 16% of a 32 px image's preprocessing, 10% at 224 px).
 */
function cropSquare(image: RawImage, left: number, top: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size * size * 3);
  for (let y = 0; y < size; y++) {
    const from = ((top + y) * image.width + left) * 3;
    image.data.copy(out, y * size * 3, from, from + size * 3);
  }
  return out;
}

async function trainView(bytes: Buffer, size: number, view: AugmentParams, fill: Rgb): Promise<Buffer> {
  // Large photos are shrunk first to just enough pixels for the crop to still cover size x size.
  const enough = Math.ceil(size / Math.min(view.crop.width, view.crop.height));
  let image = await decodeRgb(bytes, fill, { width: enough, height: enough, fit: 'outside', withoutEnlargement: true });
  const { width, height } = image;
  let offsetX = 0;
  let offsetY = 0;
  if (view.rotationDeg !== 0) {
    // sharp rotates clockwise onto the rotated image's bounding box; keeping the centre width x height is
    // torchvision's expand=False. For a long, thin image that box is narrower than the image along its
    // long side (600 x 120 at 30 degrees: 579 wide), so it is padded with the fill to cover it.
    const { data, info } = await sharp(image.data, { raw: rawInfo(image) })
      .rotate(-view.rotationDeg, { background: fill })
      .raw()
      .toBuffer({ resolveWithObject: true });
    image = { data, width: info.width, height: info.height };
    if (info.width < width || info.height < height) image = await padCentred(image, width, height, fill);
    offsetX = Math.floor((image.width - width) / 2);
    offsetY = Math.floor((image.height - height) / 2);
  }
  const cropWidth = clamp(Math.round(view.crop.width * width), 1, width);
  const cropHeight = clamp(Math.round(view.crop.height * height), 1, height);
  const region = {
    left: offsetX + clamp(Math.round(view.crop.left * width), 0, width - cropWidth),
    top: offsetY + clamp(Math.round(view.crop.top * height), 0, height - cropHeight),
    width: cropWidth,
    height: cropHeight,
  };
  return sharp(image.data, { raw: rawInfo(image) })
    .extract(region)
    .resize(size, size, { fit: 'fill' })
    .flop(view.flip)
    .raw()
    .toBuffer();
}

/** `image` centred on a canvas of `fill` at least `width` x `height`. */
async function padCentred(image: RawImage, width: number, height: number, fill: Rgb): Promise<RawImage> {
  const [padX, padY] = [Math.max(0, width - image.width), Math.max(0, height - image.height)];
  const { data, info } = await sharp(image.data, { raw: rawInfo(image) })
    .extend({ left: Math.floor(padX / 2), right: Math.ceil(padX / 2), top: Math.floor(padY / 2), bottom: Math.ceil(padY / 2), background: fill })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Upright, 8-bit sRGB, 3 channels, alpha flattened onto `fill`, resized as asked. */
async function decodeRgb(bytes: Buffer, fill: Rgb, resize: ResizeOptions): Promise<RawImage> {
  const { data, info } = await sharp(bytes, DECODE_OPTIONS)
    .autoOrient()
    .flatten({ background: fill })
    .resize(resize)
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function rawInfo(image: RawImage): CreateRaw {
  return { width: image.width, height: image.height, channels: 3 };
}

function clamp(v: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, v));
}
