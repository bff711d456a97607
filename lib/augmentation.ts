// Training-time augmentation: the random draw of one view, and the colour arithmetic that applies it.
// A view is plain numbers drawn from a seeded stream, so the same (seed, image, epoch) always gives the
// same view, on any worker, before or after a retry. Geometry is applied by image-preprocessing.ts.
import type { SweepSpec } from './sweep-spec';

export interface AugmentParams {
  /** Random resized crop, as fractions of the (rotated) image's width and height. */
  crop: { left: number; top: number; width: number; height: number };
  /** Mirror left-right. */
  flip: boolean;
  /** Counter-clockwise rotation in degrees about the centre; the image keeps its size. */
  rotationDeg: number;
  /** Colour jitter factors; 1 leaves the image as it is. Applied in this order: brightness, contrast, saturation. */
  brightness: number;
  contrast: number;
  saturation: number;
}

// torchvision's RandomResizedCrop defaults.
const LOG_RATIO_MIN = Math.log(3 / 4);
const LOG_RATIO_MAX = Math.log(4 / 3);
const CROP_ATTEMPTS = 10;

/**
 * Draws one augmented view. The crop follows torchvision's RandomResizedCrop (area in [minScale, 1],
 * log-uniform aspect ratio in [3/4, 4/3], ten tries then the whole image), except that the aspect ratio
 * is relative to the image's own, so the draw needs no image size. With augmentation disabled this is
 * the identity view; callers normally use the eval view (no params) then.
 */
export function drawAugmentation(aug: SweepSpec['augmentation'], random: () => number): AugmentParams {
  const identity: AugmentParams = {
    crop: { left: 0, top: 0, width: 1, height: 1 }, flip: false, rotationDeg: 0, brightness: 1, contrast: 1, saturation: 1,
  };
  if (!aug.enabled) return identity;
  const params = { ...identity };
  for (let attempt = 0; attempt < CROP_ATTEMPTS; attempt++) {
    const area = uniform(random, aug.minScale, 1);
    const ratio = Math.exp(uniform(random, LOG_RATIO_MIN, LOG_RATIO_MAX));
    const width = Math.sqrt(area * ratio);
    const height = Math.sqrt(area / ratio);
    if (width <= 1 && height <= 1) {
      params.crop = { left: random() * (1 - width), top: random() * (1 - height), width, height };
      break;
    }
  }
  params.flip = aug.hflip && random() < 0.5;
  params.rotationDeg = uniform(random, -aug.rotationDeg, aug.rotationDeg);
  const j = aug.colorJitter;
  params.brightness = uniform(random, Math.max(0, 1 - j), 1 + j);
  params.contrast = uniform(random, Math.max(0, 1 - j), 1 + j);
  params.saturation = uniform(random, Math.max(0, 1 - j), 1 + j);
  return params;
}

// ITU-R 601 luma, as torchvision's rgb_to_grayscale.
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * Colour jitter on interleaved RGB values in [0, 255], with torchvision's semantics: brightness scales,
 * contrast blends with the image's mean grey, saturation blends with each pixel's grey; clamped after each.
 */
export function jitterColours(rgb: Uint8Array, view: Pick<AugmentParams, 'brightness' | 'contrast' | 'saturation'>): Float32Array {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) out[i] = clamp255(rgb[i] * view.brightness);
  if (view.contrast !== 1) {
    let sum = 0;
    for (let i = 0; i < out.length; i += 3) sum += grey(out, i);
    const meanGrey = sum / (out.length / 3);
    for (let i = 0; i < out.length; i++) out[i] = clamp255(view.contrast * out[i] + (1 - view.contrast) * meanGrey);
  }
  if (view.saturation !== 1) {
    for (let i = 0; i < out.length; i += 3) {
      const g = grey(out, i);
      for (let c = 0; c < 3; c++) out[i + c] = clamp255(view.saturation * out[i + c] + (1 - view.saturation) * g);
    }
  }
  return out;
}

function grey(rgb: Float32Array, i: number): number {
  return LUMA[0] * rgb[i] + LUMA[1] * rgb[i + 1] + LUMA[2] * rgb[i + 2];
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function uniform(random: () => number, low: number, high: number): number {
  return low + (high - low) * random();
}
