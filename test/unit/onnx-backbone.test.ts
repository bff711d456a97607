// The backbone on onnxruntime-node (model/onnx-backbone.ts) against the same LayersModel on TF.js:
// backbones/layers-to-onnx.mjs translates the demo CNN and the fetched EfficientNet-Lite0, and the
// features of both engines agree to 1e-4; the engine is picked only when its graph computes the
// spec's feature layer; unsupported layers fail with the layer's name. Skips without onnxruntime-node.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { DEMO_BACKBONE_FEATURE_LAYER, makeDemoBackbone } from '../../demo/make-demo-backbone';
import { BackboneSpec } from '../../lib/sweep-spec';
import { acquireBackbone } from '../../model/backbone';
import { saveHandler } from '../../model/model-io';
import { initTensorflow } from '../../model/tf-backend';
import { backbonesDir } from '../../platform/config';

const ROOT = path.resolve(__dirname, '../..');
const CONVERTER = path.join(ROOT, 'backbones', 'layers-to-onnx.mjs');
const LITE0 = path.join(backbonesDir(), 'efficientnet-lite0');
const hasOrt = (() => { try { require.resolve('onnxruntime-node'); return true; } catch { return false; } })();
const skip = hasOrt ? false : 'onnxruntime-node is not installed';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-backbone-'));
const engineBefore = process.env.SWEEP_BACKBONE_ENGINE;
after(() => {
  fs.rmSync(work, { recursive: true, force: true });
  if (engineBefore === undefined) delete process.env.SWEEP_BACKBONE_ENGINE;
  else process.env.SWEEP_BACKBONE_ENGINE = engineBefore;
});

function convert(dir: string, layer: string): string {
  return execFileSync(process.execPath, [CONVERTER, dir, layer], { cwd: ROOT, encoding: 'utf8' });
}

async function featuresWith(engine: 'tfjs' | 'onnx' | 'auto', spec: BackboneSpec, images: tf.Tensor4D) {
  process.env.SWEEP_BACKBONE_ENGINE = engine;
  const { backbone } = await acquireBackbone(spec);
  return { backbone, features: await backbone.embed(images) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

const spec = (uri: string, featureLayer: string): BackboneSpec => ({ uri, format: 'layers', featureLayer, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });

describe('ONNX backbone engine', { skip }, () => {
  let demoJson: string;
  before(async () => {
    await initTensorflow();
    demoJson = await makeDemoBackbone(path.join(work, 'demo'), 32);
    convert(path.dirname(demoJson), DEMO_BACKBONE_FEATURE_LAYER);
  });

  test('the demo CNN: ONNX features equal TF.js features within 1e-4, under their own cache key', async () => {
    const images = tf.randomUniform([5, 32, 32, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const onnx = await featuresWith('onnx', spec(demoJson, DEMO_BACKBONE_FEATURE_LAYER), images);
    const tfjs = await featuresWith('tfjs', spec(demoJson, DEMO_BACKBONE_FEATURE_LAYER), images);
    images.dispose();
    assert.equal(onnx.backbone.engine, 'onnxruntime');
    assert.equal(tfjs.backbone.engine, 'tfjs');
    assert.equal(onnx.backbone.inputSize, 32);
    assert.equal(onnx.features.length, 5 * 128);
    assert.ok(tfjs.features.some((v) => v > 0.01), 'the features are not all zero');
    const diff = maxAbsDiff(onnx.features, tfjs.features);
    assert.ok(diff < 1e-4, `max |onnx - tfjs| = ${diff}`);
    assert.notEqual(onnx.backbone.id, tfjs.backbone.id);
  });

  test('auto picks ONNX only for the layer its graph computes; forcing it without a graph says how to make one', async () => {
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    assert.equal((await featuresWith('auto', spec(demoJson, DEMO_BACKBONE_FEATURE_LAYER), images)).backbone.engine, 'onnxruntime');
    assert.equal((await featuresWith('auto', spec(demoJson, 'conv4'), images)).backbone.engine, 'tfjs');
    const bare = path.join(work, 'bare');
    fs.mkdirSync(bare);
    for (const file of fs.readdirSync(path.dirname(demoJson)).filter((f) => !f.endsWith('.onnx'))) fs.copyFileSync(path.join(path.dirname(demoJson), file), path.join(bare, file));
    const bareSpec = spec(path.join(bare, 'model.json'), DEMO_BACKBONE_FEATURE_LAYER);
    assert.equal((await featuresWith('auto', bareSpec, images)).backbone.engine, 'tfjs');
    process.env.SWEEP_BACKBONE_ENGINE = 'onnx';
    await assert.rejects(acquireBackbone(bareSpec), /no model\.onnx next to .*layers-to-onnx\.mjs/);
    images.dispose();
  });

  test('a model host that answers 403 for the missing model.onnx (S3 to a reader that may not list the bucket): auto uses TF.js', async () => {
    const folder = path.dirname(demoJson);
    const server = http.createServer((request, response) => {
      const file = path.join(folder, path.basename(request.url ?? ''));
      if (file.endsWith('.onnx') || !fs.existsSync(file)) response.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
      else response.writeHead(200).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`;
      const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
      assert.equal((await featuresWith('auto', spec(uri, DEMO_BACKBONE_FEATURE_LAYER), images)).backbone.engine, 'tfjs');
      images.dispose();
    } finally {
      server.close();
    }
  });

  test('a layer without an ONNX translation fails with its name', async () => {
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 4, kernelSize: 3, name: 'conv' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }));
    model.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
    const dir = path.join(work, 'pool');
    await model.save(saveHandler(dir));
    assert.throws(() => execFileSync(process.execPath, [CONVERTER, dir, 'gap'], { cwd: ROOT, stdio: 'pipe' }), /layer pool \(MaxPooling2D\) has no ONNX translation/);
  });

  test('EfficientNet-Lite0: ONNX and TF.js features agree within 1e-4', { skip: fs.existsSync(path.join(LITE0, 'model.onnx')) ? false : 'EfficientNet-Lite0 (with model.onnx) not fetched: bash backbones/fetch-efficientnet-lite0.sh' }, async () => {
    const images = tf.randomUniform([3, 96, 96, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
    const lite = spec(path.join(LITE0, 'model.json'), 'avg_pool');
    const onnx = await featuresWith('onnx', lite, images);
    const tfjs = await featuresWith('tfjs', lite, images);
    images.dispose();
    assert.equal(onnx.features.length, 3 * 1280);
    assert.ok(Math.max(...tfjs.features) > 1, 'real features, not near zero');
    const diff = maxAbsDiff(onnx.features, tfjs.features);
    assert.ok(diff < 1e-4, `max |onnx - tfjs| = ${diff}`);
  });
});
