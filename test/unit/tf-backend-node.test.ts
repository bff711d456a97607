// The native TensorFlow backend on the project's Node (24): model/tf-backend.ts must load tfjs-node
// 4.22 there (not fall back to wasm), run ops whose attributes go through util.isNullOrUndefined
// (removed in Node 23) or util.isArray (deprecated), and print no deprecation warnings. Each case runs in a fresh process, the
// way a worker starts. Needs the addon infra/setup.sh builds (npm test runs setup first).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';

const REPO_ROOT = path.join(__dirname, '..', '..');

function run(script: string) {
  const env = { ...process.env };
  delete env.SWEEP_TF_BACKEND;
  return spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 120_000 });
}

describe('tfjs-node on the project Node', () => {
  test('runs on Node 24 or newer', () => {
    assert.ok(Number(process.versions.node.split('.')[0]) >= 24, `tests run on Node ${process.version}; run them with npm test (infra/node.sh)`);
  });

  test('the backend chooser takes the native backend, and ops (matMul, topk, concat) and model.fit run without warnings', () => {
    const result = run(`
      const tf = require('@tensorflow/tfjs');
      const { initTensorflow } = require('./model/tf-backend.ts');
      (async () => {
        const chosen = await initTensorflow();
        const product = await tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).data();
        const top = await tf.topk(tf.tensor1d([3, 1, 2]), 2).indices.data();
        const joined = await tf.concat([tf.ones([1]), tf.zeros([1])]).data();
        const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
        model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
        const fit = await model.fit(tf.ones([8, 3]), tf.zeros([8, 2]), { epochs: 2, verbose: 0 });
        console.log(JSON.stringify({ chosen, backend: tf.getBackend(), product: Array.from(product), top: Array.from(top), joined: Array.from(joined), epochs: fit.history.loss.length }));
      })().catch((e) => { console.error(e.stack); process.exit(1); });
    `);
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout.trim().split('\n').pop()!);
    assert.equal(out.chosen.name, 'tensorflow', JSON.stringify(out.chosen.notes));
    assert.equal(out.backend, 'tensorflow');
    assert.deepEqual(out.product, [3, 3, 3, 3]);
    assert.deepEqual(out.top, [0, 2]);
    assert.deepEqual(out.joined, [1, 0]);
    assert.equal(out.epochs, 2);
    assert.doesNotMatch(result.stderr, /Warning|deprecated|node backend/i);
  });

  // The reason for the shim in model/tf-backend.ts. When a tfjs-node release stops calling
  // util.isNullOrUndefined this fails: then drop the shim and this test.
  test('without the shim, tfjs-node 4.22 fails on this Node at its first op', () => {
    const result = run(`
      const tf = require('@tensorflow/tfjs');
      require('@tensorflow/tfjs-node');
      tf.setBackend('tensorflow').then(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).data())
        .then(() => console.log('ran'), (e) => console.log(e.message));
    `);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /isNullOrUndefined\)? is not a function/);
  });
});
