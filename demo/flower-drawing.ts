// Synthetic look-alike of Kaggle's flowers-recognition data set, for the built-in demo.
// Pure functions (no Node APIs, no I/O): one call draws one photo-like RGB image of a flower class
// from a random stream, so the same stream keys always give the same pixels.
//
// The four classes have distinct but overlapping looks, like the real photos:
//   daisy     - many thin white/cream (sometimes pale pink) petals around a small yellow disc
//   sunflower - yellow/orange pointed petals around a large brown seed disc
//   rose      - round layered blob with spiral petal rings; red, pink, white, yellow or peach
//   tulip     - cup on a stem seen from the side (sometimes an open star from above);
//               red, yellow, pink, purple, white or orange
// Position, scale, tilt, petal count, hue, background, lighting, blur and noise all vary; some images
// hold several flowers, a flower of another class, or an out-of-focus leaf in front. The point is a
// data set a transfer-learning head can learn but not trivially separate (colours overlap: yellow
// tulips vs sunflowers, white roses vs daisies, pink roses vs pink tulips).
//
// Shapes are analytic per-pixel tests (mostly polar coordinates around a centre) with soft edges,
// evaluated only inside each shape's bounding box: a 160x120 image takes about a millisecond.

export const FLOWER_CLASSES = ['daisy', 'rose', 'sunflower', 'tulip'] as const;
export type FlowerClass = (typeof FLOWER_CLASSES)[number];

/** Images per class in Kaggle's flowers-recognition (the four classes the product uses). */
export const REFERENCE_CLASS_COUNTS: Readonly<Record<FlowerClass, number>> = Object.freeze({
  daisy: 764,
  rose: 784,
  sunflower: 733,
  tulip: 984,
});

export function isFlowerClass(name: string): name is FlowerClass {
  return (FLOWER_CLASSES as readonly string[]).includes(name);
}

/**
 * Draw one synthetic flower photo: RGB, 3 bytes per pixel, row-major, length width*height*3.
 * Deterministic in (className, width, height, the numbers `random` returns).
 */
export function drawFlower(className: FlowerClass, width: number, height: number, random: () => number): Uint8Array {
  if (!isFlowerClass(className)) throw new Error(`unknown flower class: ${String(className)}`);
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 8 || value > 4096) {
      throw new RangeError(`${name} must be an integer in [8, 4096], got ${value}`);
    }
  }
  const canvas: Canvas = { width, height, px: new Float32Array(width * height * 3) };
  paintBackground(canvas, random);
  paintScene(canvas, className, random);
  if (random() < 0.12) boxBlur(canvas);
  return finish(canvas, random);
}

// ---------------------------------------------------------------------------------------------
// Small helpers

type Rgb = [number, number, number];

interface Canvas {
  width: number;
  height: number;
  /** Linear-ish working values, nominally 0..255 per channel. */
  px: Float32Array;
}

const TAU = Math.PI * 2;

function between(random: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * random();
}

function clamp01(x: number): number {
  return x <= 0 ? 0 : x >= 1 ? 1 : x;
}

function pickWeighted<T>(random: () => number, options: ReadonlyArray<readonly [T, number]>): T {
  let total = 0;
  for (const [, w] of options) total += w;
  let r = random() * total;
  for (const [value, w] of options) {
    r -= w;
    if (r < 0) return value;
  }
  return options[options.length - 1][0];
}

/** HSV to RGB (0..255); hue in degrees (any value, wrapped), saturation and value in 0..1. */
function hsv(hue: number, saturation: number, value: number): Rgb {
  const h = (((hue % 360) + 360) % 360) / 60;
  const s = clamp01(saturation);
  const v = clamp01(value) * 255;
  const i = Math.floor(h);
  const f = h - i;
  const p = v * (1 - s);
  const q = v * (1 - s * f);
  const t = v * (1 - s * (1 - f));
  switch (i) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

function scaled(c: Rgb, k: number): Rgb {
  return [c[0] * k, c[1] * k, c[2] * k];
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Integer pixel bounds of a box, clipped to the canvas; null when nothing is visible. */
function bounds(c: Canvas, x0: number, y0: number, x1: number, y1: number): [number, number, number, number] | null {
  const ax = Math.max(0, Math.floor(x0));
  const ay = Math.max(0, Math.floor(y0));
  const bx = Math.min(c.width - 1, Math.ceil(x1));
  const by = Math.min(c.height - 1, Math.ceil(y1));
  return ax > bx || ay > by ? null : [ax, ay, bx, by];
}

function blend(px: Float32Array, i: number, r: number, g: number, b: number, a: number): void {
  px[i] += (r - px[i]) * a;
  px[i + 1] += (g - px[i + 1]) * a;
  px[i + 2] += (b - px[i + 2]) * a;
}

// ---------------------------------------------------------------------------------------------
// Generic shapes

/** Soft-edged ellipse whose opacity falls off smoothly from the centre (out-of-focus blobs). */
function paintBlob(c: Canvas, cx: number, cy: number, rx: number, ry: number, angle: number, colour: Rgb, alpha: number): void {
  const reach = Math.max(rx, ry);
  const box = bounds(c, cx - reach, cy - reach, cx + reach, cy + reach);
  if (!box) return;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const { px, width } = c;
  for (let y = box[1]; y <= box[3]; y++) {
    for (let x = box[0]; x <= box[2]; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const u = (dx * cos + dy * sin) / rx;
      const v = (-dx * sin + dy * cos) / ry;
      const q = u * u + v * v;
      if (q >= 1) continue;
      const f = 1 - q;
      blend(px, (y * width + x) * 3, colour[0], colour[1], colour[2], alpha * f * f);
    }
  }
}

interface LeafStyle {
  /** Edge softness in pixels (large = out of focus). */
  soft: number;
  /** Sideways bend of the midline at its middle, in pixels. */
  bend: number;
  alpha: number;
  /** Draw a lighter midrib. */
  midrib: boolean;
}

/** A leaf (or grass blade): pointed lens from (x0,y0) along `angle`, widest a third of the way out. */
function paintLeaf(c: Canvas, x0: number, y0: number, angle: number, length: number, halfWidth: number, colour: Rgb, style: LeafStyle): void {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const x1 = x0 + cos * length;
  const y1 = y0 + sin * length;
  const pad = halfWidth + Math.abs(style.bend) + style.soft + 1;
  const box = bounds(c, Math.min(x0, x1) - pad, Math.min(y0, y1) - pad, Math.max(x0, x1) + pad, Math.max(y0, y1) + pad);
  if (!box) return;
  const { px, width } = c;
  const invSoft = 1 / style.soft;
  for (let y = box[1]; y <= box[3]; y++) {
    for (let x = box[0]; x <= box[2]; x++) {
      const dx = x - x0;
      const dy = y - y0;
      const along = dx * cos + dy * sin;
      if (along <= 0 || along >= length) continue;
      const s = along / length;
      const across = -dx * sin + dy * cos - style.bend * 4 * s * (1 - s);
      const hw = halfWidth * 2.6 * Math.sqrt(s) * (1 - s);
      const dist = Math.abs(across);
      const a = clamp01((hw - dist) * invSoft + 0.5) * style.alpha;
      if (a <= 0) continue;
      let shade = across > 0 ? 0.8 : 1;
      if (style.midrib && dist < 0.7 && hw > 3) shade = 1.18;
      shade *= 0.85 + 0.25 * s;
      blend(px, (y * width + x) * 3, colour[0] * shade, colour[1] * shade, colour[2] * shade, a);
    }
  }
}

/** A stem: a slightly bent rod with cylindrical shading. */
function paintStem(c: Canvas, x0: number, y0: number, angle: number, length: number, thickness: number, colour: Rgb, bend: number): void {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const x1 = x0 + cos * length;
  const y1 = y0 + sin * length;
  const half = thickness / 2;
  const pad = half + Math.abs(bend) + 1;
  const box = bounds(c, Math.min(x0, x1) - pad, Math.min(y0, y1) - pad, Math.max(x0, x1) + pad, Math.max(y0, y1) + pad);
  if (!box) return;
  const { px, width } = c;
  for (let y = box[1]; y <= box[3]; y++) {
    for (let x = box[0]; x <= box[2]; x++) {
      const dx = x - x0;
      const dy = y - y0;
      const along = dx * cos + dy * sin;
      if (along < 0 || along > length) continue;
      const s = along / length;
      const across = -dx * sin + dy * cos - bend * s * s;
      const dist = Math.abs(across);
      const a = clamp01(half - dist + 0.5);
      if (a <= 0) continue;
      const t = half > 0 ? across / half : 0;
      const shade = 0.7 + 0.4 * clamp01(1 - t * t) - 0.1 * t;
      blend(px, (y * width + x) * 3, colour[0] * shade, colour[1] * shade, colour[2] * shade, a);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Backgrounds: gradients, out-of-focus blobs and leaves

type BackgroundKind = 'foliage' | 'soil' | 'sky' | 'grass' | 'neutral';

function leafGreen(random: () => number): Rgb {
  return hsv(between(random, 75, 135), between(random, 0.35, 0.75), between(random, 0.2, 0.6));
}

function paintBackground(c: Canvas, random: () => number): void {
  const kind = pickWeighted<BackgroundKind>(random, [
    ['foliage', 0.34],
    ['grass', 0.16],
    ['sky', 0.2],
    ['soil', 0.14],
    ['neutral', 0.16],
  ]);
  let top: Rgb;
  let bottom: Rgb;
  let blobColour: () => Rgb;
  let leaves: number;
  let blobsLowOnly = false;
  switch (kind) {
    case 'foliage':
      top = hsv(between(random, 80, 130), between(random, 0.35, 0.7), between(random, 0.25, 0.55));
      bottom = hsv(between(random, 70, 120), between(random, 0.4, 0.75), between(random, 0.12, 0.4));
      blobColour = () =>
        random() < 0.8 ? leafGreen(random) : hsv(between(random, 50, 75), between(random, 0.3, 0.6), between(random, 0.4, 0.8));
      leaves = 2 + Math.floor(random() * 5);
      break;
    case 'grass':
      top = hsv(between(random, 65, 110), between(random, 0.4, 0.8), between(random, 0.35, 0.7));
      bottom = hsv(between(random, 70, 115), between(random, 0.45, 0.85), between(random, 0.25, 0.55));
      blobColour = () =>
        random() < 0.7 ? leafGreen(random) : hsv(between(random, 45, 70), between(random, 0.4, 0.7), between(random, 0.5, 0.85));
      leaves = 3 + Math.floor(random() * 6);
      break;
    case 'sky':
      top = hsv(between(random, 195, 222), between(random, 0.3, 0.65), between(random, 0.7, 0.95));
      bottom = hsv(between(random, 195, 225), between(random, 0.05, 0.3), between(random, 0.8, 0.98));
      blobColour = () =>
        random() < 0.6 ? leafGreen(random) : hsv(between(random, 0, 360), between(random, 0, 0.1), between(random, 0.85, 1));
      leaves = Math.floor(random() * 3);
      blobsLowOnly = true;
      break;
    case 'soil':
      top = hsv(between(random, 18, 42), between(random, 0.3, 0.6), between(random, 0.25, 0.55));
      bottom = hsv(between(random, 15, 40), between(random, 0.3, 0.65), between(random, 0.15, 0.4));
      blobColour = () =>
        random() < 0.7
          ? hsv(between(random, 15, 45), between(random, 0.2, 0.6), between(random, 0.15, 0.6))
          : leafGreen(random);
      leaves = Math.floor(random() * 3);
      break;
    default: {
      const hue = between(random, 0, 360);
      top = hsv(hue, between(random, 0, 0.18), between(random, 0.35, 0.9));
      bottom = hsv(hue + between(random, -30, 30), between(random, 0, 0.2), between(random, 0.25, 0.8));
      blobColour = () => hsv(hue + between(random, -40, 40), between(random, 0, 0.25), between(random, 0.2, 0.95));
      leaves = random() < 0.4 ? 1 : 0;
    }
  }

  const { px, width, height } = c;
  const slant = between(random, -0.4, 0.4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = clamp01(y / height + slant * (x / width - 0.5));
      const i = (y * width + x) * 3;
      px[i] = top[0] + (bottom[0] - top[0]) * t;
      px[i + 1] = top[1] + (bottom[1] - top[1]) * t;
      px[i + 2] = top[2] + (bottom[2] - top[2]) * t;
    }
  }

  const size = Math.max(width, height);
  const blobs = 3 + Math.floor(random() * 7);
  for (let b = 0; b < blobs; b++) {
    const cx = random() * width;
    const cy = blobsLowOnly && random() < 0.8 ? height * between(random, 0.6, 1.05) : random() * height;
    paintBlob(
      c,
      cx,
      cy,
      size * between(random, 0.08, 0.35),
      size * between(random, 0.06, 0.3),
      random() * Math.PI,
      blobColour(),
      between(random, 0.3, 0.8),
    );
  }
  for (let l = 0; l < leaves; l++) {
    const blade = kind === 'grass' && random() < 0.6;
    const x0 = random() * width;
    const y0 = blade ? height * between(random, 0.7, 1.1) : random() * height;
    const angle = blade ? -Math.PI / 2 + between(random, -0.5, 0.5) : random() * TAU;
    const length = size * (blade ? between(random, 0.3, 0.7) : between(random, 0.15, 0.4));
    paintLeaf(c, x0, y0, angle, length, length * (blade ? between(random, 0.03, 0.07) : between(random, 0.15, 0.3)), leafGreen(random), {
      soft: between(random, 1.2, 4),
      bend: length * between(random, -0.15, 0.15),
      alpha: between(random, 0.5, 0.95),
      midrib: false,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Scene: which flowers go where

function paintScene(c: Canvas, cls: FlowerClass, random: () => number): void {
  const { width, height } = c;
  const m = Math.min(width, height);
  const others = FLOWER_CLASSES.filter((k) => k !== cls);

  // Now and then a small flower of another class in the background, as in real photos.
  if (random() < 0.06) {
    const other = others[Math.floor(random() * others.length)];
    paintInstance(c, other, random() * width, random() * height, m * between(random, 0.08, 0.18), random);
  }

  const fieldChance = cls === 'tulip' ? 0.2 : cls === 'daisy' ? 0.15 : cls === 'sunflower' ? 0.1 : 0.05;
  if (random() < fieldChance) {
    // A field: many small flowers, smaller further up the frame.
    const n = 5 + Math.floor(random() * 8);
    const spots: Array<[number, number]> = [];
    for (let k = 0; k < n; k++) spots.push([random() * width, height * between(random, 0.15, 1)]);
    spots.sort((a, b) => a[1] - b[1]);
    for (const [x, y] of spots) paintInstance(c, cls, x, y, m * (0.06 + 0.14 * (y / height)) * between(random, 0.8, 1.2), random);
  } else {
    const closeUp = random() < 0.15;
    const R = m * (closeUp ? between(random, 0.55, 0.85) : between(random, 0.2, 0.46));
    const cx = width * (0.5 + between(random, -0.25, 0.25));
    const cy = height * (0.5 + between(random, -0.22, 0.22));
    const companionChance = cls === 'tulip' ? 0.4 : cls === 'daisy' ? 0.3 : cls === 'rose' ? 0.2 : 0.25;
    const companions: Array<[number, number, number, boolean]> = [];
    if (random() < companionChance) {
      const n = 1 + Math.floor(random() * 2);
      for (let k = 0; k < n; k++) {
        const r = R * between(random, 0.45, 1);
        const angle = random() * TAU;
        const dist = (R + r) * between(random, 0.75, 1.4);
        companions.push([cx + Math.cos(angle) * dist, cy + Math.sin(angle) * dist, r, random() < 0.3]);
      }
    }
    for (const [x, y, r, front] of companions) if (!front) paintInstance(c, cls, x, y, r, random);
    paintInstance(c, cls, cx, cy, R, random);
    for (const [x, y, r, front] of companions) if (front) paintInstance(c, cls, x, y, r, random);
  }

  // Partial occlusion: an out-of-focus leaf or twig in front.
  if (random() < 0.15) {
    const size = Math.max(width, height);
    const twig = random() < 0.3;
    const colour = twig ? hsv(between(random, 20, 40), between(random, 0.3, 0.6), between(random, 0.15, 0.4)) : leafGreen(random);
    const length = size * between(random, 0.35, 0.8);
    paintLeaf(c, random() * width, random() * height, random() * TAU, length, length * (twig ? 0.04 : between(random, 0.12, 0.25)), colour, {
      soft: between(random, 2, 6),
      bend: length * between(random, -0.1, 0.1),
      alpha: between(random, 0.7, 1),
      midrib: false,
    });
  }
}

function paintInstance(c: Canvas, cls: FlowerClass, cx: number, cy: number, R: number, random: () => number): void {
  switch (cls) {
    case 'daisy':
      return paintDaisy(c, cx, cy, R, random);
    case 'sunflower':
      return paintSunflower(c, cx, cy, R, random);
    case 'rose':
      return paintRose(c, cx, cy, R, random);
    case 'tulip':
      return random() < 0.2 ? paintOpenTulip(c, cx, cy, R, random) : paintTulip(c, cx, cy, R, random);
  }
}

// ---------------------------------------------------------------------------------------------
// Radial flowers: petals arranged around a disc (daisy, sunflower, open tulip)

/** Where a flower sits and how it is turned: facing the camera, or tilted (squashed along one axis). */
interface Frame {
  cx: number;
  cy: number;
  cos: number;
  sin: number;
  /** 1 = facing the camera; smaller = tilted away. */
  squash: number;
}

function randomFrame(cx: number, cy: number, random: () => number): Frame {
  const angle = random() * Math.PI;
  const squash = random() < 0.4 ? between(random, 0.45, 0.85) : between(random, 0.85, 1);
  return { cx, cy, cos: Math.cos(angle), sin: Math.sin(angle), squash };
}

interface PetalLayer {
  count: number;
  phase: number;
  /** Radius where petals start (px). */
  inner: number;
  /** Outer radius per petal (px). */
  lengths: Float32Array;
  /** Half width at the widest point (px). */
  halfWidth: number;
  /** Pointed (lens) petals rather than rounded (ellipse) ones. */
  pointed: boolean;
  /** RGB per petal. */
  colours: Float32Array;
}

type DiscStyle = 'plain' | 'seeds';

interface Disc {
  radius: number;
  colour: Rgb;
  /** Colour of the inner part of the disc (a sunflower's young florets, a tulip's pistil). */
  innerColour: Rgb;
  innerFraction: number;
  style: DiscStyle;
}

function petalLayer(
  random: () => number,
  count: number,
  inner: number,
  outer: number,
  lengthJitter: number,
  widthFraction: number,
  pointed: boolean,
  colour: Rgb,
  colourJitter: number,
): PetalLayer {
  const lengths = new Float32Array(count);
  const colours = new Float32Array(count * 3);
  for (let k = 0; k < count; k++) {
    lengths[k] = Math.max(inner + 2, outer * (1 - lengthJitter * random()));
    const shade = 1 + colourJitter * (random() * 2 - 1);
    colours[k * 3] = colour[0] * shade;
    colours[k * 3 + 1] = colour[1] * shade;
    colours[k * 3 + 2] = colour[2] * shade;
  }
  const mid = (inner + outer) / 2;
  return { count, phase: random() * TAU, inner, lengths, halfWidth: ((Math.PI * mid) / count) * widthFraction, pointed, colours };
}

function paintRadial(c: Canvas, f: Frame, outer: number, layers: readonly PetalLayer[], disc: Disc, random: () => number): void {
  const box = bounds(c, f.cx - outer - 1, f.cy - outer - 1, f.cx + outer + 1, f.cy + outer + 1);
  if (!box) return;
  const { px, width } = c;
  const reach2 = (outer + 1) * (outer + 1);
  const rc = disc.radius;
  const innerR = rc * disc.innerFraction;
  // Seed spiral texture of a sunflower disc: two families of spirals (Fibonacci counts).
  const k1 = TAU / between(random, 3, 5);
  const spiralA = 13 + Math.floor(random() * 3) * 8;
  const spiralB = spiralA + 8;
  const highlight = between(random, 0.15, 0.35);
  for (let y = box[1]; y <= box[3]; y++) {
    for (let x = box[0]; x <= box[2]; x++) {
      const dx = x - f.cx;
      const dy = y - f.cy;
      const u = dx * f.cos + dy * f.sin;
      const v = (-dx * f.sin + dy * f.cos) / f.squash;
      const r2 = u * u + v * v;
      if (r2 > reach2) continue;
      const r = Math.sqrt(r2);
      const theta = Math.atan2(v, u);
      const i = (y * width + x) * 3;
      for (const layer of layers) {
        const t = ((theta - layer.phase) * layer.count) / TAU;
        const k = Math.round(t);
        const d = Math.abs(t - k);
        const index = ((k % layer.count) + layer.count) % layer.count;
        const a = (layer.lengths[index] - layer.inner) / 2;
        const xs = (r - layer.inner - a) / a;
        const q = 1 - xs * xs;
        if (q <= 0) continue;
        const hw = layer.halfWidth * (layer.pointed ? q : Math.sqrt(q));
        const across = (d * TAU * r) / layer.count;
        const alpha = hw - across + 0.5;
        if (alpha <= 0) continue;
        const side = across / (hw + 0.5);
        const shade = (0.78 + 0.22 * (1 - side * side)) * (0.72 + 0.28 * clamp01((r - layer.inner) / a));
        const ci = index * 3;
        blend(px, i, layer.colours[ci] * shade, layer.colours[ci + 1] * shade, layer.colours[ci + 2] * shade, alpha >= 1 ? 1 : alpha);
      }
      if (r < rc + 0.5) {
        const alpha = clamp01(rc - r + 0.5);
        let shade = 1.05 - 0.35 * (r / rc) * (r / rc) - (highlight * (dx + dy)) / (rc * 1.4);
        let col = disc.colour;
        if (disc.style === 'seeds') {
          shade *= 0.78 + 0.22 * Math.sin(r * k1 + theta * spiralA) * Math.sin(r * k1 - theta * spiralB);
          if (r > rc * 0.86) shade *= 1.25;
        } else {
          shade *= 0.88 + 0.12 * Math.sin(r * 2.4 + theta * 13) * Math.sin(r * 2.4 - theta * 21);
        }
        if (r < innerR) col = disc.innerColour;
        blend(px, i, col[0] * shade, col[1] * shade, col[2] * shade, alpha);
      }
    }
  }
}

function paintDaisy(c: Canvas, cx: number, cy: number, R: number, random: () => number): void {
  if (random() < 0.3) {
    const stemColour = hsv(between(random, 85, 125), between(random, 0.4, 0.7), between(random, 0.3, 0.55));
    paintStem(c, cx, cy, Math.PI / 2 + between(random, -0.4, 0.4), R * between(random, 2, 4), Math.max(1.5, R * 0.08), stemColour, R * between(random, -0.3, 0.3));
  }
  const petal = pickWeighted<Rgb>(random, [
    [hsv(between(random, 0, 360), between(random, 0, 0.08), between(random, 0.85, 0.98)), 0.68],
    [hsv(between(random, 40, 58), between(random, 0.1, 0.28), between(random, 0.85, 0.97)), 0.17],
    [hsv(between(random, 290, 345), between(random, 0.15, 0.45), between(random, 0.8, 0.96)), 0.15],
  ]);
  const centre = hsv(between(random, 34, 56), between(random, 0.7, 0.95), between(random, 0.72, 0.95));
  const rc = R * between(random, 0.16, 0.28);
  const count = 14 + Math.floor(random() * 18);
  const frame = randomFrame(cx, cy, random);
  const back = petalLayer(random, count, rc * 0.7, R * 0.97, 0.15, between(random, 0.5, 0.85), false, scaled(petal, 0.82), 0.06);
  const front = petalLayer(random, count, rc * 0.7, R, 0.2, between(random, 0.45, 0.8), false, petal, 0.06);
  front.phase = back.phase + Math.PI / count;
  const layers = random() < 0.7 ? [back, front] : [front];
  paintRadial(c, frame, R, layers, { radius: rc, colour: centre, innerColour: centre, innerFraction: 0, style: 'plain' }, random);
}

function paintSunflower(c: Canvas, cx: number, cy: number, R: number, random: () => number): void {
  if (random() < 0.35) {
    // Big leaves behind the head.
    const leaves = 1 + Math.floor(random() * 2);
    for (let l = 0; l < leaves; l++) {
      const angle = between(random, 0.2, Math.PI - 0.2);
      paintLeaf(c, cx, cy, angle, R * between(random, 1.3, 2), R * between(random, 0.4, 0.6), leafGreen(random), {
        soft: 1,
        bend: R * between(random, -0.3, 0.3),
        alpha: 1,
        midrib: true,
      });
    }
  }
  const petal = pickWeighted<Rgb>(random, [
    [hsv(between(random, 40, 52), between(random, 0.8, 1), between(random, 0.85, 1)), 0.8],
    [hsv(between(random, 28, 40), between(random, 0.8, 1), between(random, 0.8, 0.98)), 0.15],
    [hsv(between(random, 45, 55), between(random, 0.5, 0.75), between(random, 0.8, 0.95)), 0.05],
  ]);
  const brown = hsv(between(random, 18, 38), between(random, 0.5, 0.85), between(random, 0.12, 0.38));
  const innerColour = random() < 0.4 ? hsv(between(random, 40, 80), between(random, 0.4, 0.7), between(random, 0.2, 0.4)) : scaled(brown, 0.8);
  const rc = R * between(random, 0.34, 0.55);
  const count = 18 + Math.floor(random() * 17);
  const frame = randomFrame(cx, cy, random);
  const back = petalLayer(random, count, rc * 0.9, R * 0.95, 0.25, between(random, 0.8, 1.1), true, scaled(petal, 0.8), 0.08);
  const front = petalLayer(random, count, rc * 0.9, R, 0.3, between(random, 0.7, 1.05), true, petal, 0.08);
  front.phase = back.phase + Math.PI / count;
  paintRadial(c, frame, R, [back, front], { radius: rc, colour: brown, innerColour, innerFraction: between(random, 0, 0.5), style: 'seeds' }, random);
}

// ---------------------------------------------------------------------------------------------
// Tulips

function tulipColours(random: () => number): Rgb {
  return pickWeighted<Rgb>(random, [
    [hsv(between(random, -8, 8), between(random, 0.7, 0.95), between(random, 0.6, 0.9)), 0.35],
    [hsv(between(random, 42, 56), between(random, 0.65, 0.95), between(random, 0.8, 0.98)), 0.2],
    [hsv(between(random, 325, 350), between(random, 0.35, 0.7), between(random, 0.75, 0.95)), 0.18],
    [hsv(between(random, 270, 310), between(random, 0.4, 0.75), between(random, 0.35, 0.7)), 0.12],
    [hsv(between(random, 40, 60), between(random, 0.03, 0.15), between(random, 0.85, 0.97)), 0.08],
    [hsv(between(random, 18, 32), between(random, 0.7, 0.95), between(random, 0.8, 0.98)), 0.07],
  ]);
}

function paintOpenTulip(c: Canvas, cx: number, cy: number, R: number, random: () => number): void {
  const colour = tulipColours(random);
  const frame = randomFrame(cx, cy, random);
  const back = petalLayer(random, 3, R * 0.05, R * 0.95, 0.1, between(random, 0.9, 1.2), true, scaled(colour, 0.85), 0.05);
  const front = petalLayer(random, 3, R * 0.05, R, 0.1, between(random, 0.9, 1.2), true, colour, 0.05);
  front.phase = back.phase + Math.PI / 3;
  const dark = random() < 0.6;
  const disc: Disc = {
    radius: R * between(random, 0.1, 0.2),
    colour: dark ? hsv(between(random, 240, 300), 0.4, 0.12) : hsv(between(random, 45, 60), 0.8, 0.9),
    innerColour: hsv(between(random, 60, 90), 0.5, 0.5),
    innerFraction: between(random, 0.3, 0.6),
    style: 'plain',
  };
  paintRadial(c, frame, R, [back, front], disc, random);
}

/** Tulip from the side: a cup with three petal tips, on a stem, often with long leaves. */
function paintTulip(c: Canvas, cx: number, cy: number, R: number, random: () => number): void {
  const colour = tulipColours(random);
  const edge = random() < 0.2 ? hsv(between(random, 40, 60), between(random, 0, 0.8), between(random, 0.85, 1)) : null;
  const H = R;
  const W = R * between(random, 0.5, 0.78);
  const tilt = between(random, -0.35, 0.35);
  const down = Math.PI / 2 + tilt;
  const green = hsv(between(random, 85, 140), between(random, 0.3, 0.6), between(random, 0.3, 0.55));
  const bottom = H * between(random, 0.5, 0.62);
  const baseX = cx + Math.cos(down) * bottom * 0.9;
  const baseY = cy + Math.sin(down) * bottom * 0.9;
  const stemLength = c.height * 1.5;
  paintStem(c, baseX, baseY, down, stemLength, Math.max(1.5, W * between(random, 0.16, 0.28)), green, W * between(random, -1, 1));
  const leaves = Math.floor(random() * 3);
  for (let l = 0; l < leaves; l++) {
    const along = H * between(random, 1, 2.5);
    const side = random() < 0.5 ? -1 : 1;
    const lx = baseX + Math.cos(down) * along;
    const ly = baseY + Math.sin(down) * along;
    const angle = -Math.PI / 2 + side * between(random, 0.15, 0.6);
    paintLeaf(c, lx, ly, angle, H * between(random, 1.5, 3), W * between(random, 0.35, 0.6), scaled(green, between(random, 0.9, 1.2)), {
      soft: 1,
      bend: side * H * between(random, 0, 0.5),
      alpha: 1,
      midrib: false,
    });
  }

  const cos = Math.cos(tilt);
  const sin = Math.sin(tilt);
  const topBase = -H * between(random, 0.42, 0.6);
  const tipHeight = H * between(random, 0.18, 0.4);
  const flare = between(random, -0.15, 0.25);
  const tipFreq = (1.5 * Math.PI) / W;
  const seam = W / 3;
  const seamWidth = W * 0.08;
  const lightSide = between(random, -0.25, 0.25);
  const reach = H * 1.2 + W;
  const box = bounds(c, cx - reach, cy - reach, cx + reach, cy + reach);
  if (!box) return;
  const { px, width } = c;
  for (let y = box[1]; y <= box[3]; y++) {
    for (let x = box[0]; x <= box[2]; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const u = dx * cos + dy * sin;
      const v = -dx * sin + dy * cos;
      if (v > bottom + 1) continue;
      let hw: number;
      if (v > 0) {
        const t = v / bottom;
        hw = W * Math.sqrt(Math.max(0, 1 - t * t));
      } else {
        hw = W * (1 + (flare * -v) / H);
      }
      const au = Math.abs(u);
      const sideAlpha = hw - au + 0.5;
      if (sideAlpha <= 0) continue;
      const top = topBase - tipHeight * Math.abs(Math.cos(u * tipFreq));
      const topAlpha = v - top + 0.5;
      if (topAlpha <= 0) continue;
      const alpha = Math.min(1, sideAlpha, topAlpha);
      const across = hw > 0 ? au / hw : 1;
      let shade = 0.62 + 0.38 * Math.sqrt(Math.max(0, 1 - across * across)) + (lightSide * u) / W;
      const seamDist = Math.abs(au - seam) / seamWidth;
      if (seamDist < 1) shade *= 0.75 + 0.25 * seamDist;
      shade *= 0.8 + 0.2 * clamp01(1 - v / bottom);
      let col = colour;
      if (edge) col = mix(colour, edge, clamp01((topBase * 0.2 - v) / (H * 0.45)));
      blend(px, (y * width + x) * 3, col[0] * shade, col[1] * shade, col[2] * shade, alpha);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Roses: a round, slightly lobed blob with spiral petal rings, darker in the heart

function paintRose(c: Canvas, cx: number, cy: number, R: number, random: () => number): void {
  const colour = pickWeighted<Rgb>(random, [
    [hsv(between(random, -12, 6), between(random, 0.72, 0.95), between(random, 0.5, 0.85)), 0.4],
    [hsv(between(random, 325, 350), between(random, 0.3, 0.65), between(random, 0.78, 0.96)), 0.27],
    [hsv(between(random, 35, 60), between(random, 0.04, 0.2), between(random, 0.85, 0.97)), 0.12],
    [hsv(between(random, 44, 56), between(random, 0.5, 0.85), between(random, 0.85, 0.97)), 0.1],
    [hsv(between(random, 12, 30), between(random, 0.45, 0.75), between(random, 0.85, 0.97)), 0.08],
    [hsv(between(random, 300, 325), between(random, 0.35, 0.65), between(random, 0.5, 0.8)), 0.03],
  ]);
  if (random() < 0.3) {
    const green = hsv(between(random, 85, 130), between(random, 0.4, 0.7), between(random, 0.25, 0.5));
    paintStem(c, cx, cy, Math.PI / 2 + between(random, -0.5, 0.5), R * between(random, 2, 4), Math.max(1.5, R * 0.1), green, R * between(random, -0.3, 0.3));
  }
  if (random() < 0.55) {
    const leaves = 1 + Math.floor(random() * 3);
    for (let l = 0; l < leaves; l++) {
      const angle = random() * TAU;
      paintLeaf(c, cx + Math.cos(angle) * R * 0.5, cy + Math.sin(angle) * R * 0.5, angle, R * between(random, 0.8, 1.3), R * between(random, 0.25, 0.4), leafGreen(random), {
        soft: 1,
        bend: R * between(random, -0.2, 0.2),
        alpha: 1,
        midrib: true,
      });
    }
  }
  const frame = randomFrame(cx, cy, random);
  const rings = between(random, 2.2, 4.5);
  const turn = random() < 0.5 ? -1 : 1;
  const lobes = 4 + Math.floor(random() * 4);
  const lobeAmp = between(random, 0.03, 0.09);
  const p1 = random() * TAU;
  const p2 = random() * TAU;
  const p3 = random() * TAU;
  const wobble = between(random, 0.05, 0.2);
  const lightAngle = random() * TAU;
  const lx = Math.cos(lightAngle) * between(random, 0.1, 0.25);
  const ly = Math.sin(lightAngle) * between(random, 0.1, 0.25);
  const heart = between(random, 0.4, 0.65);
  const outer = R * (1 + lobeAmp + 0.04) + 1;
  const box = bounds(c, cx - outer, cy - outer, cx + outer, cy + outer);
  if (!box) return;
  const { px, width } = c;
  for (let y = box[1]; y <= box[3]; y++) {
    for (let x = box[0]; x <= box[2]; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const u = dx * frame.cos + dy * frame.sin;
      const v = (-dx * frame.sin + dy * frame.cos) / frame.squash;
      const r2 = u * u + v * v;
      if (r2 > outer * outer) continue;
      const r = Math.sqrt(r2);
      const theta = Math.atan2(v, u);
      const rb = R * (1 + lobeAmp * Math.sin(lobes * theta + p1) + 0.04 * Math.sin(3 * theta + p2));
      const alpha = rb - r + 0.5;
      if (alpha <= 0) continue;
      const uu = r / rb;
      const s = Math.sqrt(uu) * rings + (turn * theta) / TAU + wobble * Math.sin(3 * theta + p3) * uu + 0.6 * (rb / R - 1);
      const frac = s - Math.floor(s);
      let shade = 0.6 + 0.5 * frac * frac;
      shade *= heart + (1 - heart) * clamp01(uu * 1.6);
      shade *= 1 - (dx * lx + dy * ly) / R;
      blend(px, (y * width + x) * 3, colour[0] * shade, colour[1] * shade, colour[2] * shade, alpha >= 1 ? 1 : alpha);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Camera: defocus, exposure, light fall-off, white balance, gamma, sensor noise

function boxBlur(c: Canvas): void {
  const { px, width, height } = c;
  const tmp = new Float32Array(px.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = x > 0 ? x - 1 : x;
      const r = x < width - 1 ? x + 1 : x;
      const row = y * width;
      for (let ch = 0; ch < 3; ch++) {
        tmp[(row + x) * 3 + ch] = (px[(row + l) * 3 + ch] + px[(row + x) * 3 + ch] + px[(row + r) * 3 + ch]) / 3;
      }
    }
  }
  for (let y = 0; y < height; y++) {
    const up = (y > 0 ? y - 1 : y) * width;
    const dn = (y < height - 1 ? y + 1 : y) * width;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < 3; ch++) {
        px[(row + x) * 3 + ch] = (tmp[(up + x) * 3 + ch] + tmp[(row + x) * 3 + ch] + tmp[(dn + x) * 3 + ch]) / 3;
      }
    }
  }
}

function finish(c: Canvas, random: () => number): Uint8Array {
  const { px, width, height } = c;
  const gain = between(random, 0.72, 1.18);
  const lightAngle = random() * TAU;
  const lightAmp = between(random, 0, 0.3);
  const gx = Math.cos(lightAngle) * lightAmp;
  const gy = Math.sin(lightAngle) * lightAmp;
  const vignette = random() < 0.35 ? between(random, 0.1, 0.4) : 0;
  const gamma = between(random, 0.85, 1.18);
  const casts = [between(random, 0.92, 1.08), between(random, 0.94, 1.06), between(random, 0.9, 1.1)];
  const lumaNoise = between(random, 1, 7);
  const chromaNoise = between(random, 0.5, 3);
  // Tone curve per channel (white balance + gamma) as a lookup table over 0..255.
  const lut = new Uint8Array(3 * 256);
  for (let ch = 0; ch < 3; ch++) {
    for (let v = 0; v < 256; v++) {
      lut[ch * 256 + v] = Math.max(0, Math.min(255, Math.round(255 * Math.pow(Math.min(1, (v / 255) * casts[ch]), gamma))));
    }
  }
  const out = new Uint8Array(width * height * 3);
  // Sensor noise from an inline xorshift32 seeded by the stream: one closure call per pixel would
  // dominate the drawing time.
  let state = (Math.floor(random() * 4294967296) | 1) >>> 0;
  const lumaScale = (lumaNoise * 1.7) / 65536;
  const chromaScale = (chromaNoise * 3.4) / 1024;
  for (let y = 0; y < height; y++) {
    const yn = y / height - 0.5;
    for (let x = 0; x < width; x++) {
      const xn = x / width - 0.5;
      const light = gain * (1 + gx * xn * 2 + gy * yn * 2) * (1 - vignette * (xn * xn + yn * yn) * 2);
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const luma = ((state & 0xffff) + ((state >>> 16) & 0xffff) - 65535) * lumaScale;
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const i = (y * width + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const chroma = (((state >>> (ch * 10)) & 1023) - 511.5) * chromaScale;
        const value = px[i + ch] * light + luma + chroma;
        const index = value <= 0 ? 0 : value >= 255 ? 255 : (value + 0.5) | 0;
        out[i + ch] = lut[ch * 256 + index];
      }
    }
  }
  return out;
}
