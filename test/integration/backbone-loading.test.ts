// A backbone loads the same from a path, file://, http:// and s3://: same content id, same features.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { s3Url } from '../../platform/storage';
import { acquireBackbone, loadedBackbones } from '../../model/backbone';
import { BackboneSpec } from '../../lib/sweep-spec';
import { Backbone } from '../../model/backbone-types';
import { loadHandler, saveHandler } from '../../model/model-io';
import { initTensorflow } from '../../model/tf-backend';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../lib/sweep-spec';
import { layersToGraphModel } from './graph-model-fixture';
import { TEST_IMAGE_SIZE, tinyBackbone, uniqueId } from './harness';

test('path, file://, http:// and s3:// give the same backbone', async () => {
  await initTensorflow();
  const modelJson = await tinyBackbone();
  const folder = path.dirname(modelJson);
  const s3Prefix = `test-backbones/${uniqueId('bb')}`;
  const model = await tf.loadLayersModel(loadHandler(modelJson));
  await model.save(saveHandler(s3Url(s3Prefix)));
  const server = http.createServer((req, res) => {
    const file = path.join(folder, path.basename(req.url ?? ''));
    if (!fs.existsSync(file)) { res.statusCode = 404; res.end(); return; }
    res.end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const uris = [modelJson, pathToFileURL(modelJson).href, `http://127.0.0.1:${port}/model.json`, s3Url(`${s3Prefix}/model.json`)];
    const input = tf.randomUniform([2, TEST_IMAGE_SIZE, TEST_IMAGE_SIZE, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const loaded = await Promise.all(uris.map((uri) => loadBackbone({ uri, format: 'layers', featureLayer: 'features', mean: IMAGENET_MEAN, std: IMAGENET_STD })));
    const features = await Promise.all(loaded.map((b) => b.embed(input)));
    for (const [i, backbone] of loaded.entries()) {
      assert.equal(backbone.id, loaded[0].id, `${uris[i]} has the same content id`);
      assert.equal(backbone.inputSize, TEST_IMAGE_SIZE);
      assert.deepEqual(features[i], features[0], `${uris[i]} gives the same features`);
    }
    assert.equal(features[0].length, 2 * 128);
    input.dispose();
  } finally {
    server.close();
  }
});

/** A backbone kept for the test's life (never released). */
const loadBackbone = async (spec: BackboneSpec): Promise<Backbone> => (await acquireBackbone(spec)).backbone;

test('a backbone no step uses is freed once another is used after it; one in use never is', async () => {
  await initTensorflow();
  // Three copies of one small model: three backbones to this process (the cache is keyed by where a model is).
  const spec = async (): Promise<BackboneSpec> => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'backbone-copy-'));
    fs.cpSync(path.dirname(await tinyBackbone()), copy, { recursive: true });
    return { uri: path.join(copy, 'model.json'), format: 'layers', featureLayer: 'features', mean: IMAGENET_MEAN, std: IMAGENET_STD };
  };
  const [a, b, c] = [await spec(), await spec(), await spec()];
  const held = loadedBackbones();
  const before = tf.memory().numTensors;
  const first = await acquireBackbone(a);
  const perBackbone = tf.memory().numTensors - before;
  assert.ok(perBackbone > 0);
  first.release();
  // A step on b while a is unused: a is the one kept unused, until b is released after it.
  const second = await acquireBackbone(b);
  assert.equal(loadedBackbones(), held + 2);
  // Meanwhile a step takes c and gives it back: b is in use, so it stays; a and c are unused, c the newer.
  (await acquireBackbone(c)).release();
  assert.equal(loadedBackbones(), held + 2, 'b (in use) and c (the most recent unused); a freed');
  const input = tf.zeros([1, TEST_IMAGE_SIZE, TEST_IMAGE_SIZE, 3]) as tf.Tensor4D;
  assert.equal((await second.backbone.embed(input)).length, 128, 'b still embeds');
  input.dispose();
  second.release();
  assert.equal(loadedBackbones(), held + 1, 'one kept unused: b');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(tf.memory().numTensors - before, perBackbone, 'only one backbone\'s weights are held');
});

test('an unknown feature layer names the layers there are', async () => {
  await assert.rejects(
    loadBackbone({ uri: await tinyBackbone(), format: 'layers', featureLayer: 'no_such_layer', mean: IMAGENET_MEAN, std: IMAGENET_STD }),
    /featureLayer "no_such_layer" is not a layer of .*conv4, features/,
  );
});

test('a GraphModel backbone computes the same features as the LayersModel it was converted from', async () => {
  await initTensorflow();
  const layersJson = await tinyBackbone();
  const graphJson = await layersToGraphModel(layersJson, fs.mkdtempSync(path.join(os.tmpdir(), 'graph-backbone-')));
  const common = { featureLayer: 'features', mean: IMAGENET_MEAN, std: IMAGENET_STD };
  const [layers, graph] = await Promise.all([
    loadBackbone({ uri: layersJson, format: 'layers', ...common }),
    loadBackbone({ uri: graphJson, format: 'graph', ...common }),
  ]);
  assert.equal(graph.engine, 'tfjs');
  assert.equal(graph.inputSize, TEST_IMAGE_SIZE);
  assert.notEqual(graph.id, layers.id, 'another model file is another cache id');
  const input = tf.randomUniform([3, TEST_IMAGE_SIZE, TEST_IMAGE_SIZE, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
  const [expected, actual] = [await layers.embed(input), await graph.embed(input)];
  input.dispose();
  assert.equal(actual.length, expected.length);
  const worst = Math.max(...Array.from(actual, (v, i) => Math.abs(v - expected[i])));
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
  // An intermediate node is a feature layer too.
  const relu = await loadBackbone({ uri: graphJson, format: 'graph', ...common, featureLayer: 'conv2/Relu' });
  const small = tf.zeros([1, TEST_IMAGE_SIZE, TEST_IMAGE_SIZE, 3]) as tf.Tensor4D;
  assert.equal((await relu.embed(small)).length, (TEST_IMAGE_SIZE / 4) ** 2 * 64);
  small.dispose();
});
