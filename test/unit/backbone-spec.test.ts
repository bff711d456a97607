// Catalogue backbones in the spec ({"backbone": {"name": ...}}), where a worker finds their weights,
// cutting a LayersModel at its feature layer, and the misclassified-images list.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import * as tf from '@tensorflow/tfjs';
import { BACKBONE_CATALOGUE, catalogueNames } from '../../lib/backbone-catalogue';
import { misclassifiedImages } from '../../lib/misclassified';
import { IMAGENET_MEAN, SpecError, parseSweepSpec } from '../../lib/sweep-spec';
import { loadLayersFeatureModel, modelLocation } from '../../model/backbone';
import { saveHandler } from '../../model/model-io';
import { initTensorflow } from '../../model/tf-backend';
import { toFailure } from '../../activities/failures';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backbone-spec-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function spec(backbone: unknown, image?: unknown) {
  return { data: { source: 'd' }, backbone, ...(image ? { image } : {}), grid: { lr: [0.01] } };
}

function problemsOf(raw: unknown): string[] {
  try {
    parseSweepSpec(raw);
  } catch (error) {
    assert.ok(error instanceof SpecError);
    return error.problems;
  }
  assert.fail('spec was accepted');
}

describe('a catalogue backbone by name', () => {
  test('fills format, feature layer, normalisation, the worker-resolved uri and the default image size', () => {
    const s = parseSweepSpec(spec({ name: 'efficientnet-lite0' }));
    assert.deepEqual(s.backbone, {
      name: 'efficientnet-lite0', uri: 'catalogue:efficientnet-lite0', format: 'layers', featureLayer: 'avg_pool',
      mean: [127 / 255, 127 / 255, 127 / 255], std: [128 / 255, 128 / 255, 128 / 255],
    });
    assert.deepEqual(s.image, { size: 224, resize: 256 });
    assert.equal(parseSweepSpec(spec({ name: 'efficientnet-lite2' })).image.size, BACKBONE_CATALOGUE['efficientnet-lite2'].inputSize);
  });

  test('what the spec sets wins over the catalogue; a shared copy of the weights can be named by uri', () => {
    const s = parseSweepSpec(spec({ name: 'efficientnet-lite0', uri: 's3://models/lite0/model.json', featureLayer: 'head_relu6', mean: IMAGENET_MEAN }, { size: 96 }));
    assert.equal(s.backbone.uri, 's3://models/lite0/model.json');
    assert.equal(s.backbone.featureLayer, 'head_relu6');
    assert.deepEqual(s.backbone.mean, IMAGENET_MEAN);
    assert.deepEqual(s.backbone.std, [128 / 255, 128 / 255, 128 / 255]);
    assert.deepEqual(s.image, { size: 96, resize: 110 });
  });

  test('a parsed spec parses to itself (spec.json of a sweep can start another)', () => {
    const once = parseSweepSpec(spec({ name: 'efficientnet-lite1' }, { size: 128 }));
    assert.deepEqual(parseSweepSpec(JSON.parse(JSON.stringify(once))), once);
  });

  test('an unknown name is refused with the known names', () => {
    const [problem] = problemsOf(spec({ name: 'resnet50' }));
    assert.match(problem, /^backbone\.name: "resnet50" is not in the catalogue/);
    for (const name of catalogueNames()) assert.ok(problem.includes(name), `${problem} should list ${name}`);
  });

  test('an image size the network cannot take is refused before any work', () => {
    assert.deepEqual(problemsOf(spec({ name: 'efficientnet-lite0' }, { size: 16 })),
      ['image.size: 16 is too small for efficientnet-lite0, which needs at least 32 (it was trained at 224); raise image.size']);
    assert.equal(parseSweepSpec(spec({ name: 'efficientnet-lite0' }, { size: 32 })).image.size, 32);
  });

  test('a catalogue: uri is not a form users write, and a graph format contradicts the catalogue', () => {
    assert.match(problemsOf(spec({ uri: 'catalogue:efficientnet-lite0' }))[0], /^backbone\.uri: .*\{"name": "efficientnet-lite0"\}/);
    assert.match(problemsOf(spec({ name: 'efficientnet-lite0', uri: 'catalogue:efficientnet-lite1' }))[0], /^backbone\.uri:/);
    assert.match(problemsOf(spec({ name: 'efficientnet-lite0', format: 'graph' }))[0], /^backbone\.format: efficientnet-lite0 is a "layers" model/);
  });

  test('a user model by uri is unchanged: no name, project defaults', () => {
    for (const uri of ['file:///m/model.json', 'https://host/m/model.json', 's3://bucket/m/model.json', 'models/m.json']) {
      const s = parseSweepSpec(spec({ uri, format: 'graph' }));
      assert.deepEqual(s.backbone, { uri, format: 'graph', featureLayer: undefined, mean: IMAGENET_MEAN, std: s.backbone.std });
      assert.equal(s.image.size, 224);
    }
  });
});

describe('where a worker finds a backbone', () => {
  const saved = process.env.SWEEP_BACKBONES_DIR;
  after(() => { if (saved === undefined) delete process.env.SWEEP_BACKBONES_DIR; else process.env.SWEEP_BACKBONES_DIR = saved; });

  test('a user uri is used as it is', () => {
    assert.equal(modelLocation({ uri: 's3://bucket/m/model.json' }), 's3://bucket/m/model.json');
  });

  test("a catalogue backbone is this worker's fetched copy", () => {
    process.env.SWEEP_BACKBONES_DIR = tmp;
    const file = path.join(tmp, 'efficientnet-lite1', 'model.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{}');
    assert.equal(modelLocation({ uri: 'catalogue:efficientnet-lite1' }), file);
  });

  test('a catalogue backbone not fetched on this worker fails at once, saying what to run', () => {
    process.env.SWEEP_BACKBONES_DIR = tmp;
    // model/ throws a DomainError; the activity boundary reports it as this ApplicationFailure.
    assert.throws(() => { try { modelLocation({ uri: 'catalogue:efficientnet-lite0' }); } catch (error) { throw toFailure(error); } }, (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.nonRetryable, true);
      assert.equal(error.type, 'BackboneMissing');
      assert.ok(error.message.includes('run `bash backbones/fetch-efficientnet-lite0.sh` in the repository on this worker'), error.message);
      assert.ok(error.message.includes(path.join(tmp, 'efficientnet-lite0', 'model.json')));
      return true;
    });
  });
});

describe('loadLayersFeatureModel', () => {
  test('cuts at the feature layer and still runs after the layers past it are freed', async () => {
    await initTensorflow();
    const model = tf.sequential({ layers: [
      tf.layers.dense({ inputShape: [3], units: 4, name: 'features', kernelInitializer: tf.initializers.ones() }),
      tf.layers.dense({ units: 2, name: 'logits' }),
    ] });
    const dir = path.join(tmp, 'dense');
    await model.save(saveHandler(dir));
    model.dispose();
    const before = tf.memory().numTensors;
    const cut = await loadLayersFeatureModel({ uri: path.join(dir, 'model.json'), format: 'layers', featureLayer: 'features', mean: [0, 0, 0], std: [1, 1, 1] });
    assert.equal(tf.memory().numTensors - before, 2, 'only the kept layer\'s kernel and bias stay');
    assert.deepEqual(cut.outputs[0].shape, [null, 4]);
    const y = cut.predict(tf.tensor2d([[1, 2, 3]])) as tf.Tensor;
    assert.deepEqual(Array.from(await y.data()), [6, 6, 6, 6]);
    const beforeTypo = tf.memory().numTensors;
    await assert.rejects(loadLayersFeatureModel({ uri: path.join(dir, 'model.json'), format: 'layers', featureLayer: 'pool', mean: [0, 0, 0], std: [1, 1, 1] }),
      /"pool" is not a layer .* its last layers are: .*features, logits/);
    assert.equal(tf.memory().numTensors, beforeTypo, 'a layer it lacks leaves none of the model\'s weights behind');
  });
});

describe('misclassifiedImages', () => {
  const classes = ['daisy', 'rose', 'tulip'];
  const rows = [
    { sha256: 'a', label: 0, copy: 0 },
    { sha256: 'b', label: 1, copy: 0 },
    { sha256: 'b', label: 1, copy: 1 },
    { sha256: 'c', label: 2, copy: 0 },
  ];
  const sources = new Map([['a', 'flowers/daisy/a.jpg'], ['b', 'flowers/rose/b.jpg'], ['c', 'flowers/tulip/c.png']]);
  const logProbs = (p: number[][]) => Float32Array.from(p.flat(), Math.log);

  test('lists each wrong row with its source, classes and probabilities, most confident first', () => {
    const probs = [[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]];
    const list = misclassifiedImages(rows, [0, 0, 1, 1], logProbs(probs), classes, sources);
    assert.deepEqual(list.map((m) => [m.row, m.source, m.copy, m.trueClass, m.predictedClass]), [
      [1, 'flowers/rose/b.jpg', 0, 'rose', 'daisy'],
      [3, 'flowers/tulip/c.png', 0, 'tulip', 'rose'],
    ]);
    assert.ok(Math.abs(list[0].predictedProbability - 0.6) < 1e-6 && Math.abs(list[0].trueProbability - 0.3) < 1e-6);
    assert.ok(Math.abs(list[1].predictedProbability - 0.2) < 1e-6 && Math.abs(list[1].trueProbability - 0.7) < 1e-6);
  });

  test('refuses rows that do not line up with the predictions or the data set', () => {
    const probs = logProbs([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]]);
    assert.throws(() => misclassifiedImages(rows.slice(1), [0, 0, 0, 0], probs, classes, sources), /3 split rows but 4 predictions/);
    assert.throws(() => misclassifiedImages(rows, [0, 0, 0, 0], probs, classes, new Map()), /image b of split row 1 is not in the data set manifest/);
  });
});
