import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { drawFlower, FLOWER_CLASSES, FlowerClass, isFlowerClass, REFERENCE_CLASS_COUNTS } from '../../demo/flower-drawing';
import { randomStream } from '../../lib/random';
import { COMPLETE_MARKER, flowerClassCounts, generateFlowerDataset, planFlowerDataset } from '../../demo/generate-flowers';

test('reference counts and class names match Kaggle flowers-recognition', () => {
  assert.deepEqual([...FLOWER_CLASSES], ['daisy', 'rose', 'sunflower', 'tulip']);
  assert.deepEqual({ ...REFERENCE_CLASS_COUNTS }, { daisy: 764, rose: 784, sunflower: 733, tulip: 984 });
  assert.ok(isFlowerClass('tulip'));
  assert.ok(!isFlowerClass('dandelion'));
});

test('images have the requested dimensions', () => {
  for (const cls of FLOWER_CLASSES) {
    for (const [w, h] of [
      [160, 120],
      [97, 131],
      [8, 8],
    ]) {
      const img = drawFlower(cls, w, h, randomStream('dims', cls, w, h));
      assert.ok(img instanceof Uint8Array);
      assert.equal(img.length, w * h * 3);
    }
  }
  assert.throws(() => drawFlower('daisy', 0, 10, randomStream('x')), RangeError);
  assert.throws(() => drawFlower('daisy', 10.5, 10, randomStream('x')), RangeError);
  assert.throws(() => drawFlower('dandelion' as FlowerClass, 10, 10, randomStream('x')), /unknown flower class/);
});

test('same stream keys give the same pixels; different keys differ', () => {
  for (const cls of FLOWER_CLASSES) {
    const a = drawFlower(cls, 160, 120, randomStream('det', 7, cls, 3));
    const b = drawFlower(cls, 160, 120, randomStream('det', 7, cls, 3));
    const c = drawFlower(cls, 160, 120, randomStream('det', 7, cls, 4));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  }
});

test('different classes draw different images, with different typical colours', () => {
  const images = FLOWER_CLASSES.map((cls) => drawFlower(cls, 160, 120, randomStream('same-keys')));
  for (let i = 0; i < images.length; i++) {
    for (let j = i + 1; j < images.length; j++) assert.notDeepEqual(images[i], images[j]);
  }
  // Over many images the flowers' own colours show: sunflowers yellow (red+green high, blue low),
  // daisies whitish (blue comparatively high), roses and tulips red-heavy.
  const means = classMeans(40, 80, 60);
  const yellowness = (m: number[]): number => (m[0] + m[1]) / 2 - m[2];
  assert.ok(yellowness(means.sunflower) > yellowness(means.daisy), JSON.stringify(means));
  assert.ok(means.rose[0] - means.rose[1] > means.daisy[0] - means.daisy[1], JSON.stringify(means));
});

test('classes are not trivially separable: nearest class mean on mean RGB is far from perfect', (t) => {
  // 60 images per class at 80x60; class means from half, accuracy on the other half.
  const perClass = 60;
  const features: Array<{ label: number; mean: number[]; train: boolean }> = [];
  FLOWER_CLASSES.forEach((cls, label) => {
    for (let k = 0; k < perClass; k++) {
      const mean = meanRgb(drawFlower(cls, 80, 60, randomStream('separable', cls, k)));
      features.push({ label, mean, train: k % 2 === 0 });
    }
  });
  const centroids = FLOWER_CLASSES.map((_, label) => {
    const rows = features.filter((f) => f.train && f.label === label);
    return [0, 1, 2].map((ch) => rows.reduce((s, f) => s + f.mean[ch], 0) / rows.length);
  });
  const held = features.filter((f) => !f.train);
  const correct = held.filter((f) => nearest(centroids, f.mean) === f.label).length;
  const accuracy = correct / held.length;
  t.diagnostic(`nearest-mean accuracy on mean RGB: ${accuracy.toFixed(3)} (chance 0.25)`);
  assert.ok(accuracy < 0.75, `nearest-mean accuracy on mean RGB ${accuracy.toFixed(2)} should be far from 1`);
});

test('plan: per-class counts at a scale, Flickr-like unique names, mixed sizes, deterministic', () => {
  assert.deepEqual(flowerClassCounts(1), { daisy: 764, rose: 784, sunflower: 733, tulip: 984 });
  assert.deepEqual(flowerClassCounts(0.02), { daisy: 15, rose: 16, sunflower: 15, tulip: 20 });
  assert.deepEqual(flowerClassCounts(0.0001), { daisy: 1, rose: 1, sunflower: 1, tulip: 1 });
  const plan = planFlowerDataset({ scale: 0.1, seed: 3 });
  assert.equal(plan.length, 76 + 78 + 73 + 98);
  assert.deepEqual(planFlowerDataset({ scale: 0.1, seed: 3 }), plan);
  assert.notDeepEqual(planFlowerDataset({ scale: 0.1, seed: 4 }), plan);
  for (const cls of FLOWER_CLASSES) {
    const names = plan.filter((p) => p.className === cls).map((p) => p.fileName);
    assert.equal(new Set(names).size, names.length);
  }
  for (const p of plan) {
    assert.match(p.fileName, /^[1-9]\d{5,10}_[0-9a-f]{10}(_n|_m)?\.jpg$/);
    assert.ok(p.width >= 90 && p.width <= 200 && p.height >= 90 && p.height <= 200, `${p.width}x${p.height}`);
  }
  assert.ok(plan.some((p) => p.height > p.width), 'some portrait images');
  assert.ok(new Set(plan.map((p) => `${p.width}x${p.height}`)).size > plan.length / 4, 'sizes vary');
  assert.throws(() => planFlowerDataset({ scale: 0 }), RangeError);
  assert.throws(() => planFlowerDataset({ width: 10 }), RangeError);
});

test('generator writes the per-class counts, skips a complete set, and is byte-identical per seed', async () => {
  const root = await mkdtemp(join(tmpdir(), 'flowers-'));
  try {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const options = { scale: 0.02, width: 64, height: 48, seed: 11 };
    const first = await generateFlowerDataset({ ...options, outDir: a });
    assert.equal(first.skipped, false);
    assert.equal(first.files, 66);
    assert.deepEqual(first.perClass, { daisy: 15, rose: 16, sunflower: 15, tulip: 20 });
    for (const cls of FLOWER_CLASSES) {
      const names = (await readdir(join(a, cls))).sort();
      assert.equal(names.length, first.perClass[cls]);
      assert.ok(names.every((n) => n.endsWith('.jpg')));
    }
    const marker = JSON.parse(await readFile(join(a, COMPLETE_MARKER), 'utf8'));
    assert.equal(marker.files, 66);
    assert.equal(marker.seed, 11);

    // Files are real JPEGs of the planned sizes.
    const plan = planFlowerDataset(options);
    for (const p of plan.slice(0, 6)) {
      const meta = await sharp(join(a, p.className, p.fileName)).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, p.width);
      assert.equal(meta.height, p.height);
      assert.equal(meta.channels, 3);
    }

    // A second run finds the complete set and writes nothing.
    const again = await generateFlowerDataset({ ...options, outDir: a });
    assert.equal(again.skipped, true);

    // Same seed elsewhere, different concurrency: byte-identical files.
    const second = await generateFlowerDataset({ ...options, outDir: b, concurrency: 1 });
    assert.equal(second.skipped, false);
    const filesA = await snapshot(a);
    const filesB = await snapshot(b);
    assert.deepEqual([...filesA.keys()], [...filesB.keys()]);
    for (const [name, bytes] of filesA) assert.ok(bytes.equals(filesB.get(name)!), `${name} differs`);

    // A damaged set (a file missing, a stray file added) is regenerated and cleaned up.
    await rm(join(b, plan[0].className, plan[0].fileName));
    await writeFile(join(b, 'rose', 'stray.jpg'), 'x');
    const repaired = await generateFlowerDataset({ ...options, outDir: b });
    assert.equal(repaired.skipped, false);
    assert.equal(repaired.removed, 1);
    const filesRepaired = await snapshot(b);
    assert.deepEqual([...filesRepaired.keys()], [...filesA.keys()]);
    for (const [name, bytes] of filesA) assert.ok(bytes.equals(filesRepaired.get(name)!), `${name} differs after repair`);

    // Other parameters: the old set is replaced, not merged.
    const other = await generateFlowerDataset({ ...options, seed: 12, outDir: b });
    assert.equal(other.skipped, false);
    assert.equal(other.removed, 66);
    for (const cls of FLOWER_CLASSES) assert.equal((await readdir(join(b, cls))).length, other.perClass[cls]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------

function meanRgb(img: Uint8Array): number[] {
  const sum = [0, 0, 0];
  for (let i = 0; i < img.length; i += 3) {
    sum[0] += img[i];
    sum[1] += img[i + 1];
    sum[2] += img[i + 2];
  }
  const n = img.length / 3;
  return sum.map((s) => s / n);
}

function classMeans(perClass: number, width: number, height: number): Record<FlowerClass, number[]> {
  const out = {} as Record<FlowerClass, number[]>;
  for (const cls of FLOWER_CLASSES) {
    const sum = [0, 0, 0];
    for (let k = 0; k < perClass; k++) {
      const m = meanRgb(drawFlower(cls, width, height, randomStream('class-means', cls, k)));
      for (let ch = 0; ch < 3; ch++) sum[ch] += m[ch] / perClass;
    }
    out[cls] = sum;
  }
  return out;
}

function nearest(centroids: number[][], x: number[]): number {
  let best = 0;
  let bestDistance = Infinity;
  centroids.forEach((c, label) => {
    const d = (c[0] - x[0]) ** 2 + (c[1] - x[1]) ** 2 + (c[2] - x[2]) ** 2;
    if (d < bestDistance) {
      bestDistance = d;
      best = label;
    }
  });
  return best;
}

async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const cls of FLOWER_CLASSES) {
    for (const name of (await readdir(join(dir, cls))).sort()) out.set(`${cls}/${name}`, await readFile(join(dir, cls, name)));
  }
  out.set(COMPLETE_MARKER, await readFile(join(dir, COMPLETE_MARKER)));
  return out;
}
