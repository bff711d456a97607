import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { decodeCheck, isWantOfResources, preprocessImage } from '../../model/image-preprocessing';
import { AugmentParams, drawAugmentation, jitterColours } from '../../lib/augmentation';
import { randomStream } from '../../lib/random';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../lib/sweep-spec';

const NORM = { mean: IMAGENET_MEAN, std: IMAGENET_STD };
const AUG = { enabled: true, hflip: true, rotationDeg: 30, minScale: 0.5, colorJitter: 0.2, views: 0 };
const NO_CHANGE: AugmentParams = {
  crop: { left: 0, top: 0, width: 1, height: 1 }, flip: false, rotationDeg: 0, brightness: 1, contrast: 1, saturation: 1,
};

function solid(width: number, height: number, r: number, g: number, b: number, alpha?: number) {
  const background = alpha === undefined ? { r, g, b } : { r, g, b, alpha };
  return sharp({ create: { width, height, channels: alpha === undefined ? 3 : 4, background } });
}

/** What a pixel of (r, g, b) normalises to, as float32. */
function normalised(rgb: [number, number, number]): number[] {
  return rgb.map((v, c) => Math.fround((v / 255 - NORM.mean[c]) / NORM.std[c]));
}

function pixelAt(values: Float32Array, size: number, x: number, y: number): number[] {
  const i = (y * size + x) * 3;
  return [values[i], values[i + 1], values[i + 2]];
}

function assertAllPixels(values: Float32Array, expected: number[], tolerance = 0) {
  for (let i = 0; i < values.length; i++) {
    const diff = Math.abs(values[i] - expected[i % 3]);
    if (diff > tolerance) assert.fail(`value ${i} (channel ${i % 3}) is ${values[i]}, expected ${expected[i % 3]} ± ${tolerance}`);
  }
}

/** An asymmetric test card: four coloured quadrants, 16-pixel aligned so JPEG blocks do not straddle edges. */
function quadrants(width: number, height: number): Buffer {
  const colours = [[230, 30, 30], [30, 200, 30], [30, 30, 220], [240, 220, 40]];
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = colours[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)];
      data.set(colour, (y * width + x) * 3);
    }
  }
  return data;
}

function noise(width: number, height: number): Buffer {
  const random = randomStream('noise', width, height);
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
  return data;
}

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

describe('preprocessImage', () => {
  test('returns size*size*3 floats, exactly (v/255 - mean)/std for a solid colour, in both views', async () => {
    const png = await solid(300, 200, 200, 100, 50).png().toBuffer();
    const evalView = await preprocessImage(png, { size: 64, resize: 73 }, undefined, NORM);
    assert.equal(evalView.length, 64 * 64 * 3);
    assertAllPixels(evalView, normalised([200, 100, 50]));
    const trainView = await preprocessImage(png, { size: 64, resize: 73 }, { ...NO_CHANGE, crop: { left: 0.1, top: 0.2, width: 0.5, height: 0.6 } }, NORM);
    assert.equal(trainView.length, 64 * 64 * 3);
    assertAllPixels(trainView, normalised([200, 100, 50]));
  });

  test('eval view resizes the shorter side and crops the centre', async () => {
    // 300x100: red | blue | green thirds; shorter side already 100, so the centre 100x100 is all blue.
    const data = Buffer.alloc(300 * 100 * 3);
    for (let y = 0; y < 100; y++) for (let x = 0; x < 300; x++) data.set(x < 100 ? [255, 0, 0] : x < 200 ? [0, 0, 255] : [0, 255, 0], (y * 300 + x) * 3);
    const png = await sharp(data, { raw: { width: 300, height: 100, channels: 3 } }).png().toBuffer();
    assertAllPixels(await preprocessImage(png, { size: 100, resize: 100 }, undefined, NORM), normalised([0, 0, 255]));
    // Resized to 600x200 first, the centre 100x100 is still well inside the blue third.
    assertAllPixels(await preprocessImage(png, { size: 100, resize: 200 }, undefined, NORM), normalised([0, 0, 255]), 1e-6);
  });

  for (const [orientation, rotateStoredBy] of [[3, 180], [6, 270], [8, 90]] as const) {
    test(`an EXIF orientation ${orientation} JPEG gives the same input as the upright one`, async () => {
      const raw = { raw: { width: 192, height: 128, channels: 3 as const } };
      // 4:4:4 so chroma subsampling does not blur the two encodings' edges differently.
      const upright = await sharp(quadrants(192, 128), raw).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
      const stored = await sharp(quadrants(192, 128), raw).rotate(rotateStoredBy).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
      const tagged = await sharp(stored).withMetadata({ orientation }).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
      assert.equal((await sharp(tagged).metadata()).orientation, orientation);

      const image = { size: 96, resize: 112 };
      const expected = await preprocessImage(upright, image, undefined, NORM);
      assert.ok(meanAbsDiff(await preprocessImage(tagged, image, undefined, NORM), expected) < 0.01, 'oriented image differs from upright');
      // Without honouring the tag the quadrants land elsewhere: the check above is not vacuous.
      assert.ok(meanAbsDiff(await preprocessImage(stored, image, undefined, NORM), expected) > 0.5);
      const view = { ...NO_CHANGE, crop: { left: 0.1, top: 0, width: 0.6, height: 0.9 }, flip: true };
      assert.ok(meanAbsDiff(await preprocessImage(tagged, image, view, NORM), await preprocessImage(upright, image, view, NORM)) < 0.01);
    });
  }

  test('grey, grey+alpha, RGBA, CMYK, 16-bit and palette images all decode to 3-channel sRGB', async () => {
    const image = { size: 16, resize: 18 };
    const grey = await solid(40, 30, 90, 90, 90).toColourspace('b-w').png().toBuffer();
    assert.equal((await sharp(grey).metadata()).channels, 1);
    assertAllPixels(await preprocessImage(grey, image, undefined, NORM), normalised([90, 90, 90]));

    const sixteenBit = await solid(40, 30, 200, 100, 50).toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(sixteenBit).metadata()).depth, 'ushort');
    assertAllPixels(await preprocessImage(sixteenBit, image, undefined, NORM), normalised([200, 100, 50]));

    const palette = await solid(40, 30, 200, 100, 50).png({ palette: true }).toBuffer();
    assert.equal((await sharp(palette).metadata()).isPalette, true);
    assertAllPixels(await preprocessImage(palette, image, undefined, NORM), normalised([200, 100, 50]));

    const cmyk = await solid(40, 30, 200, 100, 50).toColourspace('cmyk').jpeg().toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    // CMYK without an embedded profile round-trips through a generic one: close, not exact.
    assertAllPixels(await preprocessImage(cmyk, image, undefined, NORM), normalised([200, 100, 50]), 30 / 255 / 0.224);

    // Fully transparent pixels become the mean colour, which normalises to (nearly) 0.
    const transparent = await solid(40, 30, 255, 0, 0, 0).png().toBuffer();
    assertAllPixels(await preprocessImage(transparent, image, undefined, NORM), [0, 0, 0], 0.5 / 255 / 0.224);
    const opaque = await solid(40, 30, 200, 100, 50, 1).png().toBuffer();
    assert.equal((await sharp(opaque).metadata()).channels, 4);
    assertAllPixels(await preprocessImage(opaque, image, undefined, NORM), normalised([200, 100, 50]));

    const greyAlpha = await solid(40, 30, 90, 90, 90, 1).toColourspace('b-w').png().toBuffer();
    assert.equal((await sharp(greyAlpha).metadata()).channels, 2);
    assertAllPixels(await preprocessImage(greyAlpha, image, undefined, NORM), normalised([90, 90, 90]));
  });

  test('long, thin images rotate without error: the rotated canvas is padded where it is narrower than the image', async () => {
    // At 30 degrees a 600 x 120 image's bounding box is 579 wide: the crop ran off it ("bad extract area"),
    // and feature extraction retried the same image for ever.
    for (const [width, height] of [[600, 120], [120, 600], [1920, 300]]) {
      const png = await solid(width, height, 200, 100, 50).png().toBuffer();
      for (const rotationDeg of [-30, -17, 12, 30]) {
        const view = { ...NO_CHANGE, rotationDeg, crop: { left: 0, top: 0, width: 1, height: 1 } };
        const values = await preprocessImage(png, { size: 64, resize: 73 }, view, NORM);
        assert.equal(values.length, 64 * 64 * 3, `${width}x${height} at ${rotationDeg} degrees`);
        // Its centre is still the image.
        assert.deepEqual(pixelAt(values, 64, 32, 32).map((v) => Math.round(v * 100)), normalised([200, 100, 50]).map((v) => Math.round(v * 100)));
      }
      for (let i = 0; i < 40; i++) assert.equal((await preprocessImage(png, { size: 32, resize: 37 }, drawAugmentation(AUG, randomStream(3, 'thin', i)), NORM)).length, 32 * 32 * 3);
    }
  });

  test('same bytes and view give identical floats', async () => {
    const jpeg = await sharp(noise(257, 191), { raw: { width: 257, height: 191, channels: 3 } }).jpeg().toBuffer();
    const image = { size: 64, resize: 73 };
    for (let i = 0; i < 3; i++) {
      const view = drawAugmentation(AUG, randomStream(7, 'view', i));
      const [a, b] = await Promise.all([preprocessImage(jpeg, image, view, NORM), preprocessImage(Buffer.from(jpeg), image, view, NORM)]);
      assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer));
    }
    assert.deepEqual(
      Buffer.from((await preprocessImage(jpeg, image, undefined, NORM)).buffer),
      Buffer.from((await preprocessImage(jpeg, image, undefined, NORM)).buffer),
    );
  });

  test('the eval view crops the same bytes as a libvips extract of the resized image (cached features keep their ids)', async () => {
    const fill = { r: Math.round(NORM.mean[0] * 255), g: Math.round(NORM.mean[1] * 255), b: Math.round(NORM.mean[2] * 255) };
    for (const [width, height, size, resize] of [[257, 191, 64, 73], [120, 300, 32, 37], [32, 32, 32, 37], [50, 50, 48, 48]]) {
      const png = await sharp(noise(width, height), { raw: { width, height, channels: 3 } }).png().toBuffer();
      // What the eval view did before it cropped in JavaScript: the same decode and resize, then extract.
      const { data, info } = await sharp(png).autoOrient().flatten({ background: fill }).resize({ width: resize, height: resize, fit: 'outside' })
        .toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      const cropped = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
        .extract({ left: Math.round((info.width - size) / 2), top: Math.round((info.height - size) / 2), width: size, height: size }).raw().toBuffer();
      const expected = Float32Array.from(cropped, (v, i) => (v / 255 - NORM.mean[i % 3]) / NORM.std[i % 3]);
      assert.deepEqual(Buffer.from((await preprocessImage(png, { size, resize }, undefined, NORM)).buffer), Buffer.from(expected.buffer), `${width}x${height} to ${size}`);
    }
  });

  test('flip mirrors the image left-right', async () => {
    const png = await sharp(noise(32, 24), { raw: { width: 32, height: 24, channels: 3 } }).png().toBuffer();
    const image = { size: 32, resize: 32 };
    const plain = await preprocessImage(png, image, NO_CHANGE, NORM);
    const flipped = await preprocessImage(png, image, { ...NO_CHANGE, flip: true }, NORM);
    assert.ok(meanAbsDiff(plain, flipped) > 0.1);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) assert.deepEqual(pixelAt(flipped, 32, x, y), pixelAt(plain, 32, 31 - x, y));
    }
  });

  test('rotation keeps the size and fills the corners with the mean colour', async () => {
    const png = await solid(100, 100, 250, 250, 250).png().toBuffer();
    const rotated = await preprocessImage(png, { size: 100, resize: 100 }, { ...NO_CHANGE, rotationDeg: 45 }, NORM);
    assert.equal(rotated.length, 100 * 100 * 3);
    const corner = pixelAt(rotated, 100, 0, 0);
    for (const v of corner) assert.ok(Math.abs(v) < 0.01, `corner ${corner} is not the mean colour`);
    assert.deepEqual(pixelAt(rotated, 100, 50, 50), normalised([250, 250, 250]));
  });

  test('colour jitter changes the values the way its factors say', async () => {
    const png = await solid(20, 20, 100, 150, 200).png().toBuffer();
    const image = { size: 8, resize: 9 };
    assertAllPixels(await preprocessImage(png, image, { ...NO_CHANGE, brightness: 0.5 }, NORM), normalised([50, 75, 100]), 1e-6);
    // Saturation 0 is the grey level of the pixel.
    const grey = 0.299 * 100 + 0.587 * 150 + 0.114 * 200;
    assertAllPixels(await preprocessImage(png, image, { ...NO_CHANGE, saturation: 0 }, NORM), normalised([grey, grey, grey]), 1e-5);
  });
});

describe('decodeCheck', () => {
  test('tells a machine short of memory or threads from an image that does not decode (the first is retried, the second skipped)', async () => {
    const truncated = await decodeCheck((await solid(40, 30, 1, 2, 3).jpeg().toBuffer()).subarray(0, 200));
    const notImage = await decodeCheck(Buffer.from('daisy,rose\n'));
    for (const check of [truncated, notImage]) {
      assert.ok(!check.ok);
      assert.equal(isWantOfResources(check.reason), false, check.reason);
    }
    // libvips' and GLib's words when memory or threads run short.
    for (const message of ['vips_malloc: out of memory --- size == 96MB', 'VipsImage: Cannot allocate memory', 'unable to create thread', 'GLib: g_thread_new: Resource temporarily unavailable']) {
      assert.equal(isWantOfResources(message), true, message);
    }
  });

  test('accepts real images and reports their upright size', async () => {
    const jpeg = await solid(40, 30, 1, 2, 3).jpeg().toBuffer();
    assert.deepEqual(await decodeCheck(jpeg), { ok: true, width: 40, height: 30, format: 'jpeg' });
    const rotated = await sharp(jpeg).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    assert.deepEqual(await decodeCheck(rotated), { ok: true, width: 30, height: 40, format: 'jpeg' });
    for (const format of ['png', 'webp', 'gif', 'tiff'] as const) {
      const check = await decodeCheck(await solid(40, 30, 1, 2, 3).toFormat(format).toBuffer());
      assert.deepEqual(check, { ok: true, width: 40, height: 30, format });
    }
  });

  test('rejects truncated, empty and non-image files with a reason', async () => {
    const jpeg = await sharp(noise(300, 200), { raw: { width: 300, height: 200, channels: 3 } }).jpeg().toBuffer();
    const truncated = await decodeCheck(jpeg.subarray(0, jpeg.length / 2));
    assert.equal(truncated.ok, false);
    assert.match((truncated as { reason: string }).reason, /premature end/i);

    // Several at once, good and broken mixed, as ingestion runs them: every broken one keeps its real
    // reason (libvips shares one error buffer between threads, which can lose it).
    const good = await sharp(noise(300, 200), { raw: { width: 300, height: 200, channels: 3 } }).png().toBuffer();
    for (let round = 0; round < 20; round++) {
      const inputs = Array.from({ length: 8 }, (_, i) => (i % 2 ? good : Buffer.from(jpeg.subarray(0, jpeg.length / 2))));
      const checks = await Promise.all(inputs.map(decodeCheck));
      assert.deepEqual(checks.map((c) => (c.ok ? 'ok' : /premature end/i.test(c.reason) ? 'truncated' : c.reason)),
        inputs.map((_, i) => (i % 2 ? 'ok' : 'truncated')));
    }

    const png = await sharp(noise(300, 200), { raw: { width: 300, height: 200, channels: 3 } }).png().toBuffer();
    assert.equal((await decodeCheck(png.subarray(0, png.length - 1000))).ok, false);

    const empty = await decodeCheck(Buffer.alloc(0));
    assert.equal(empty.ok, false);
    assert.match((empty as { reason: string }).reason, /empty/i);

    const text = await decodeCheck(Buffer.from('daisy,rose\n1,2\n'));
    assert.equal(text.ok, false);
    assert.match((text as { reason: string }).reason, /unsupported image format/);

    const svg = await decodeCheck(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'));
    assert.equal(svg.ok, false);
    assert.match((svg as { reason: string }).reason, /svg is not a supported image format/);
  });
});

describe('drawAugmentation', () => {
  test('draws views within the configured ranges, reproducibly', () => {
    for (let i = 0; i < 500; i++) {
      const view = drawAugmentation(AUG, randomStream(1, i));
      assert.deepEqual(drawAugmentation(AUG, randomStream(1, i)), view);
      const { left, top, width, height } = view.crop;
      assert.ok(left >= 0 && top >= 0 && left + width <= 1 + 1e-12 && top + height <= 1 + 1e-12, JSON.stringify(view.crop));
      assert.ok(width * height >= AUG.minScale - 1e-12, `crop area ${width * height}`);
      assert.ok(width / height >= 3 / 4 - 1e-9 && width / height <= 4 / 3 + 1e-9, `aspect ${width / height}`);
      assert.ok(Math.abs(view.rotationDeg) <= AUG.rotationDeg);
      for (const factor of [view.brightness, view.contrast, view.saturation]) assert.ok(factor >= 0.8 && factor <= 1.2);
    }
    const flips = Array.from({ length: 1000 }, (_, i) => drawAugmentation(AUG, randomStream(2, i)).flip).filter(Boolean).length;
    assert.ok(flips > 400 && flips < 600, `${flips} of 1000 views flipped`);
    assert.ok(Array.from({ length: 100 }, (_, i) => drawAugmentation({ ...AUG, hflip: false }, randomStream(3, i))).every((v) => !v.flip));
  });

  test('disabled augmentation is the identity view', () => {
    assert.deepEqual(drawAugmentation({ ...AUG, enabled: false }, randomStream(1)), NO_CHANGE);
    const rgb = Uint8Array.from([0, 17, 255, 128, 64, 32]);
    assert.deepEqual([...jitterColours(rgb, NO_CHANGE)], [...rgb]);
  });
});
