// The sweep's deliverable on the real stack: the best trial exported as one TF.js model, which
// `sweep predict` (its own process, the model loaded fresh from S3) uses to classify the test
// images exactly as the evaluation step did; and the misclassified test images named by source file.
// Runs on the tiny test backbone, and on EfficientNet-Lite0 by catalogue name when it is fetched.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { imageReader } from '../../platform/image-store';
import { getJson, getObject, parseS3Url, putJson } from '../../platform/storage';
import { artifactKeys } from '../../lib/artifact-keys';
import { ExportedModelMetadata } from '../../formats/exported-model';
import { decodeProbabilities } from '../../formats/probabilities';
import { SplitManifest } from '../../lib/manifest';
import { MisclassifiedImage } from '../../lib/misclassified';
import { Evaluation, Leaderboard } from '../../lib/sweep-types';
import { backbonesDir } from '../../platform/config';
import type { PredictDocument } from '../../cli/predict';
import { TestWorkers, startTestWorkers, tinyFlowerDataset, tinySpec, uniqueId } from './harness';
import { sweepWorkflow } from '../../workflows';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);
const lite0Fetched = fs.existsSync(path.join(backbonesDir(), 'efficientnet-lite0', 'model.json'));

type EvaluationFile = Evaluation & { predictions: number[]; labels: number[]; probabilitiesFile: { url: string; rows: number; classes: number } };

let env: TestWorkers;
let tmp: string;
before(async () => {
  env = await startTestWorkers('export');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'export-predict-'));
});
after(async () => {
  await env.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function sweepPredict(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(ROOT, 'bin', 'sweep.js'), 'predict', ...args], { cwd: ROOT, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const cases: Array<{ what: string; backbone?: Record<string, unknown>; skip?: string }> = [
  { what: 'the tiny test backbone' },
  { what: 'efficientnet-lite0 by catalogue name', backbone: { name: 'efficientnet-lite0' }, skip: lite0Fetched ? undefined : 'not fetched: run bash backbones/fetch-efficientnet-lite0.sh' },
];

for (const { what, backbone, skip } of cases) {
  describe(`the exported best model (${what})`, { skip }, () => {
    let board: Leaderboard;
    let metadata: ExportedModelMetadata;
    let evaluation: EvaluationFile;

    test('a sweep exports its best trial and the leaderboard points at it', async () => {
      // reuse: false: a trial trained before 2026-12-08 on this stack has its probabilities in the older evaluation-test.json.
      const spec = await tinySpec(env, { grid: { hidden_units: [16, 32], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [3] }, reuse: false });
      if (backbone) spec.backbone = backbone;
      board = await env.client.workflow.execute(sweepWorkflow, { taskQueue: env.cpuQueue, workflowId: uniqueId('it-export'), args: [spec], workflowExecutionTimeout: '10m' });
      assert.equal(board.modelError, undefined);
      assert.ok(board.model && board.best?.test);
      assert.equal(board.model.trialId, board.best.trialId);
      assert.equal(board.model.run, board.best.run);
      const stored = await getJson<Leaderboard>(parseS3Url(board.artifacts.leaderboardJson).key);
      assert.deepEqual(stored.model, board.model);

      metadata = await getJson<ExportedModelMetadata>(parseS3Url(board.model.metadata).key);
      assert.deepEqual(metadata.classes, spec.data.classes);
      assert.deepEqual({ size: metadata.input.size, resize: metadata.input.resize }, spec.image);
      assert.equal(metadata.trial.testAccuracy, board.best.test.accuracy);
      assert.equal(metadata.backbone.featureLayer, backbone ? 'avg_pool' : 'features');
      assert.ok(board.best.headKey, 'the summary names its head');
      evaluation = await getJson<EvaluationFile>(artifactKeys.headEvaluation(board.best.headKey, 'test'));
    });

    test('sweep predict, loading the model fresh, gives the evaluation\'s prediction for every test image', async () => {
      const split = await getJson<SplitManifest>(metadata.splitKey);
      assert.equal(split.test.length, evaluation.predictions.length);
      const readImage = await imageReader(split.datasetId);
      const files = await Promise.all(split.test.map(async (sample, row) => {
        const file = path.join(tmp, `${board.sweepId}-row-${String(row).padStart(3, '0')}`);
        fs.writeFileSync(file, await readImage(sample.sha256));
        return file;
      }));
      const { code, stdout, stderr } = await sweepPredict(board.sweepId, ...files, '--json');
      assert.equal(code, 0, stderr);
      const doc = JSON.parse(stdout) as PredictDocument;
      assert.equal(doc.run, board.best!.run);
      assert.deepEqual(doc.predictions.map((p) => p.image), files);
      const predicted = doc.predictions.map((p) => ('class' in p ? doc.classes.indexOf(p.class) : -1));
      assert.deepEqual(predicted, evaluation.predictions);
      const k = doc.classes.length;
      const { url, rows, classes } = evaluation.probabilitiesFile;
      assert.deepEqual([rows, classes], [split.test.length, k]);
      const probabilities = decodeProbabilities(await getObject(parseS3Url(url).key), rows, classes);
      doc.predictions.forEach((p, row) => {
        assert.ok('probabilities' in p);
        doc.classes.forEach((c, j) => {
          const diff = Math.abs(p.probabilities[c] - probabilities[row * k + j]);
          assert.ok(diff < 1e-4, `row ${row} ${c}: predict ${p.probabilities[c]} vs evaluation ${probabilities[row * k + j]}`);
        });
      });
    });

    test('the misclassified test images are listed by source file with true and predicted class', async () => {
      const scores = board.best!.test!;
      const wrongRows = evaluation.predictions.flatMap((p, row) => (p === evaluation.labels[row] ? [] : [row]));
      assert.equal(scores.misclassified.count, wrongRows.length);
      assert.equal(scores.misclassified.count, Math.round((1 - scores.accuracy) * evaluation.labels.length));
      const list = await getJson<{ count: number; of: number; images: MisclassifiedImage[] }>(parseS3Url(scores.misclassified.list).key);
      assert.equal(list.count, wrongRows.length);
      assert.equal(list.of, evaluation.labels.length);
      assert.deepEqual(list.images.map((m) => m.row).sort((a, b) => a - b), wrongRows);
      const dataDir = await tinyFlowerDataset();
      for (const m of list.images) {
        const bytes = fs.readFileSync(path.join(dataDir, m.source));
        assert.equal(createHash('sha256').update(bytes).digest('hex'), m.sha256);
        assert.equal(m.source.split('/').at(-2), m.trueClass);
        assert.equal(m.trueClass, metadata.classes[evaluation.labels[m.row]]);
        assert.equal(m.predictedClass, metadata.classes[evaluation.predictions[m.row]]);
        assert.notEqual(m.predictedClass, m.trueClass);
      }
    });

    test('an unreadable image is reported by name (exit 2); the readable ones are still classified', async () => {
      const image = path.join(tmp, `${board.sweepId}-row-000`);
      const { code, stdout, stderr } = await sweepPredict(board.sweepId, image, path.join(ROOT, 'package.json'));
      assert.equal(code, 2);
      assert.match(stdout, new RegExp(`row-000 +${metadata.classes[evaluation.predictions[0]]} \\d`));
      assert.match(stdout, /package\.json +cannot classify: /);
      assert.match(stderr, /1 of 2 images could not be read or decoded: .*package\.json/);
      // A file sharp opens but ingestion would skip as no image is named as such, not classified.
      const svg = path.join(tmp, 'drawing.svg');
      fs.writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="red"/></svg>');
      const drawn = await sweepPredict(board.sweepId, svg);
      assert.equal(drawn.code, 2);
      assert.match(drawn.stdout, /drawing\.svg +cannot classify: svg is not a supported image format/);
    });
  });
}

describe('sweep predict input errors', () => {
  test('a sweep without an exported model, or no image, is a usage error (exit 2) saying why', async () => {
    const missing = await sweepPredict('no-such-sweep', path.join(ROOT, 'package.json'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /sweep no-such-sweep has no exported model \(no s3:\/\/.*\/sweeps\/no-such-sweep\/model\/metadata\.json\)/);
    // An id started again after its sweep closed: the earlier sweep's model is not taken for the new one's.
    const reused = uniqueId('predict-reused-id');
    await putJson(artifactKeys.sweepModelFile(reused, 'metadata.json'), { trial: { sweepId: reused, trialId: 'earlier-trial', run: 3 } });
    await putJson(artifactKeys.sweepResults(reused, 'leaderboard.json'), { sweepId: reused, status: 'cancelled', ranked: [], failed: [] });
    const stale = await sweepPredict(reused, path.join(ROOT, 'package.json'));
    assert.equal(stale.code, 2, stale.stderr);
    assert.match(stale.stderr, new RegExp(`sweep ${reused}'s results name no exported model, but s3://.*/metadata\\.json is run 3's, of an earlier sweep under this id`));
    const none = await sweepPredict('no-such-sweep');
    assert.equal(none.code, 2);
    assert.match(none.stderr, /usage: sweep/);
  });
});
