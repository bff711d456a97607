// The native TensorFlow backend on the project's Node (24): model/tf-backend.ts must load tfjs-node
// 4.22 there (not fall back to wasm), run ops whose attributes go through util.isNullOrUndefined
// (removed in Node 23) or util.isArray (deprecated), and print no deprecation warnings. Each case runs in a fresh process, the
// way a worker starts. Needs the addon infra/setup.sh builds (npm test runs setup first).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';

const REPO_ROOT = path.join(__dirname, '..', '..');

function run(script: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const env = { ...process.env };
  delete env.SWEEP_TF_BACKEND;
  delete env.SWEEP_TF_THREADS;
  Object.assign(env, extraEnv);
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

  // SWEEP_TF_THREADS defaults to one thread because that is faster for heads (platform/config.ts); that is
  // safe only because a trial's bits do not depend on the count, so a trial resumed on a worker with
  // another setting still ends as an uninterrupted one would.
  test('TensorFlow runs on SWEEP_TF_THREADS intra-op threads (default 1), and a head trains to the same bits on 1 and 3', () => {
    const script = `
      const { createHash } = require('node:crypto');
      const { initTensorflow } = require('./model/tf-backend.ts');
      const { HeadTrainer, dropoutMask, initHeadArrays, zeroAdamState } = require('./model/head.ts');
      const tf = require('@tensorflow/tfjs');
      (async () => {
        await initTensorflow();
        const shape = { inputDim: 640, hiddenUnits: 96, numClasses: 5 };
        const trainer = new HeadTrainer(shape, 1e-2, initHeadArrays(shape, 1, 't'), zeroAdamState(shape));
        const x = tf.tensor2d(Float32Array.from({ length: 64 * 640 }, (_, i) => Math.sin(i)), [64, 640]);
        const labels = Int32Array.from({ length: 64 }, (_, i) => i % 5);
        for (let b = 0; b < 20; b++) await trainer.trainBatch(x, labels, tf.tensor2d(dropoutMask(64, 96, 0.3, 1, 't', 0, b), [64, 96]));
        const hash = createHash('sha256');
        for (const w of await trainer.weights()) hash.update(Buffer.from(w.buffer));
        console.log(JSON.stringify({ threads: process.env.TF_NUM_INTRAOP_THREADS, hash: hash.digest('hex') }));
      })().catch((e) => { console.error(e.stack); process.exit(1); });
    `;
    const results = [run(script), run(script, { SWEEP_TF_THREADS: '3' })].map((result) => {
      assert.equal(result.status, 0, result.stderr);
      return JSON.parse(result.stdout.trim().split('\n').pop()!) as { threads: string; hash: string };
    });
    assert.deepEqual(results.map((r) => r.threads), ['1', '3']);
    assert.equal(results[0].hash, results[1].hash);
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
