#!/usr/bin/env node
// Forward-pass speed of a local TF.js LayersModel backbone's feature layer.
// usage: node backbones/bench-backbone.mjs MODEL_DIR [--backend wasm|cpu] [--layer avg_pool]
//          [--sizes 224,128] [--batches 8,32] [--seconds 10]
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { loadLayersModelFromDir, featureModel } from './load-layers-model.mjs';

const args = process.argv.slice(2);
const dir = args[0];
const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const backend = opt('backend', 'wasm');
const layer = opt('layer', 'avg_pool');
const sizes = opt('sizes', '224,128').split(',').map(Number);
const batches = opt('batches', '8,32').split(',').map(Number);
const seconds = Number(opt('seconds', '10'));
if (!dir) { console.error('usage: bench-backbone.mjs MODEL_DIR [options]'); process.exit(2); }

await tf.setBackend(backend);
await tf.ready();
const info = { backend: tf.getBackend(), tfjs: tf.version.tfjs };
if (backend === 'wasm') {
  Object.assign(info, { simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), threadsSupported: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'), threads: getThreadsCount() });
}
console.log(JSON.stringify(info));
const model = featureModel(tf, await loadLayersModelFromDir(tf, dir), layer);
for (const size of sizes) {
  for (const batch of batches) {
    const x = tf.randomUniform([batch, size, size, 3], -1, 1, 'float32', 1);
    tf.tidy(() => model.predict(x).dataSync()); // warm-up (kernel setup, memory)
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000 || n < 2) {
      tf.tidy(() => model.predict(x).dataSync());
      n++;
    }
    const ms = (performance.now() - t0) / n;
    console.log(JSON.stringify({ size, batch, runs: n, msPerBatch: +ms.toFixed(1), imagesPerSec: +(batch * 1000 / ms).toFixed(1) }));
    x.dispose();
  }
}
