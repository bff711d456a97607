#!/usr/bin/env node
// Build a TF.js LayersModel (model.json + weight shards) for EfficientNet-Lite from the
// tensors written by pth_to_keras_tensors.py. Pure @tensorflow/tfjs (cpu backend), no tfjs-node.
//
// usage: node backbones/build-efficientnet-lite.mjs TENSOR_DIR OUT_DIR NAME
//
// Architecture (EfficientNet-Lite, Tan & Le 2019; lite = no squeeze-excite, ReLU6, fixed stem/head):
// stem 3x3/2 conv-BN-ReLU6, 7 stages of MBConv (1x1 expand-BN-ReLU6, kxk depthwise-BN-ReLU6,
// 1x1 project-BN, identity skip when stride 1 and in == out), head 1x1 conv-BN-ReLU6,
// global average pool ("avg_pool", the feature layer), Dense logits ("logits", 1000 ImageNet
// classes, linear). All convolutions use TF "same" padding, which is what the PyTorch port emulates
// with its static asymmetric padding. BN epsilon 1e-3. Input is NHWC, any spatial size >= 32.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs';

const [tensorDir, outDir, name] = process.argv.slice(2);
if (!tensorDir || !outDir || !name) {
  console.error('usage: build-efficientnet-lite.mjs TENSOR_DIR OUT_DIR NAME');
  process.exit(2);
}
// The cpu backend is deliberate for this one-off build; prod mode keeps tfjs from printing its
// "install our node backend" banner into setup's output. Results are the same.
tf.enableProdMode();
await tf.setBackend('cpu');

const manifest = JSON.parse(fs.readFileSync(path.join(tensorDir, 'tensors.json'), 'utf8'));
const blob = fs.readFileSync(path.join(tensorDir, 'tensors.f32'));
const T = new Map();
for (const e of manifest.tensors) {
  const f32 = new Float32Array(blob.buffer.slice(blob.byteOffset + e.offset, blob.byteOffset + e.offset + e.length));
  T.set(e.name, { shape: e.shape, data: f32 });
}
const used = new Set();
function take(key, shape) {
  const t = T.get(key);
  if (!t) throw new Error(`missing tensor ${key}`);
  if (shape && JSON.stringify(shape) !== JSON.stringify(t.shape)) {
    throw new Error(`${key}: shape ${JSON.stringify(t.shape)} != expected ${JSON.stringify(shape)}`);
  }
  used.add(key);
  return tf.tensor(t.data, t.shape, 'float32');
}
const bnWeights = (p) => ['weight', 'bias', 'running_mean', 'running_var'].map((s) => take(`${p}.${s}`));

const EPS = 1e-3;
const STAGE_STRIDES = [1, 2, 2, 2, 1, 2, 1];
const pending = []; // [layer, weights] assigned after the model is built

function convBn(x, prefix, torchConv, torchBn, { kernel, strides = 1, depthwise = false, act = true }) {
  const w = take(`${torchConv}.weight`);
  const conv = depthwise
    ? tf.layers.depthwiseConv2d({ name: `${prefix}_dwconv`, kernelSize: kernel, strides, padding: 'same', useBias: false, depthMultiplier: 1 })
    : tf.layers.conv2d({ name: `${prefix}_conv`, filters: w.shape[3], kernelSize: kernel, strides, padding: 'same', useBias: false });
  pending.push([conv, [w]]);
  const bn = tf.layers.batchNormalization({ name: `${prefix}_bn`, axis: -1, epsilon: EPS, momentum: 0.99 });
  pending.push([bn, bnWeights(torchBn)]);
  let y = bn.apply(conv.apply(x));
  if (act) y = tf.layers.reLU({ name: `${prefix}_relu6`, maxValue: 6 }).apply(y);
  return y;
}

const input = tf.input({ shape: [null, null, 3], name: 'image' });
let x = convBn(input, 'stem', '_conv_stem', '_bn0', { kernel: 3, strides: 2 });

let stage = -1;
let prevOut = -1;
for (let i = 0; T.has(`_blocks.${i}._depthwise_conv.weight`); i++) {
  const b = `_blocks.${i}`;
  const dwShape = T.get(`${b}._depthwise_conv.weight`).shape; // [k, k, C, 1]
  const outC = T.get(`${b}._project_conv.weight`).shape[3];
  const expand = T.has(`${b}._expand_conv.weight`);
  const inC = expand ? T.get(`${b}._expand_conv.weight`).shape[2] : dwShape[2];
  let stride = 1;
  if (outC !== prevOut) { stage++; stride = STAGE_STRIDES[stage]; }
  prevOut = outC;
  const p = `block${stage + 1}${String.fromCharCode(97 + i - firstOfStage(i))}`;
  const blockIn = x;
  let y = x;
  if (expand) y = convBn(y, `${p}_expand`, `${b}._expand_conv`, `${b}._bn0`, { kernel: 1 });
  y = convBn(y, `${p}_dw`, `${b}._depthwise_conv`, `${b}._bn1`, { kernel: dwShape[0], strides: stride, depthwise: true });
  y = convBn(y, `${p}_project`, `${b}._project_conv`, `${b}._bn2`, { kernel: 1, act: false });
  if (stride === 1 && inC === outC) y = tf.layers.add({ name: `${p}_add` }).apply([y, blockIn]);
  x = y;
}
function firstOfStage(i) {
  let j = i;
  const outOf = (k) => T.get(`_blocks.${k}._project_conv.weight`).shape[3];
  while (j > 0 && outOf(j - 1) === outOf(i)) j--;
  return j;
}
x = convBn(x, 'head', '_conv_head', '_bn1', { kernel: 1 });
const feature = tf.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x);
const fcW = take('_fc.weight');
const fc = tf.layers.dense({ name: 'logits', units: fcW.shape[1], activation: 'linear' });
pending.push([fc, [fcW, take('_fc.bias')]]);
const logits = fc.apply(feature);
const model = tf.model({ inputs: input, outputs: logits, name: name.replace(/[^A-Za-z0-9_]/g, '_') });

for (const [layer, weights] of pending) layer.setWeights(weights);
const unused = [...T.keys()].filter((k) => !used.has(k));
if (unused.length) throw new Error(`unused tensors: ${unused.join(', ')}`);

const featureDim = feature.shape[1];
const SHARD = 4 * 1024 * 1024;
fs.mkdirSync(outDir, { recursive: true });
const stale = fs.readdirSync(outDir).filter((f) => /^group1-shard\d+of\d+\.bin$/.test(f));
for (const f of stale) fs.rmSync(path.join(outDir, f));
await model.save(tf.io.withSaveHandler(async (art) => {
  const data = Buffer.from(art.weightData);
  const n = Math.ceil(data.length / SHARD);
  const paths = [];
  for (let s = 0; s < n; s++) {
    const p = `group1-shard${s + 1}of${n}.bin`;
    fs.writeFileSync(path.join(outDir, p), data.subarray(s * SHARD, (s + 1) * SHARD));
    paths.push(p);
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'backbones/build-efficientnet-lite.mjs',
    modelTopology: art.modelTopology,
    weightsManifest: [{ paths, weights: art.weightSpecs }],
  };
  fs.writeFileSync(path.join(outDir, 'model.json'), JSON.stringify(modelJson));
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  fs.writeFileSync(path.join(outDir, '.build.json'), JSON.stringify({ featureLayer: 'avg_pool', featureDim, weightsSha256: sha, shards: paths, params: model.countParams(), layers: model.layers.length }));
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
}));
console.log(`built ${name}: ${model.layers.length} layers, ${model.countParams()} params, feature avg_pool[${featureDim}] -> ${outDir}`);
