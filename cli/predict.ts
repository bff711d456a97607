// `sweep predict <id> <image...> [--json]`: classifies image files with the sweep's exported model
// (sweeps/<id>/model/), loaded from S3 and fed exactly as evaluation fed the backbone: the eval view
// of model/image-preprocessing.ts with the model's own size and normalisation. Needs only S3.
import fs from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { artifactKeys } from '../lib/artifact-keys';
import { ExportedModelMetadata, rankedClasses } from '../formats/exported-model';
import { decodeCheck, preprocessImage } from '../model/image-preprocessing';
import { getJsonIfExists, s3Url } from '../platform/storage';
import { loadHandler } from '../model/model-io';
import { initTensorflow } from '../model/tf-backend';
import { UsageError } from './commands';
import { storedLeaderboard } from './full-leaderboard';
import { visible } from '../lib/visible-text';

const BATCH = 16;

export type Prediction =
  | { image: string; class: string; probability: number; probabilities: Record<string, number> }
  | { image: string; error: string };

/** The stable `sweep predict --json` document. */
export interface PredictDocument {
  sweepId: string;
  model: string;
  run: number;
  trialId: string;
  classes: string[];
  predictions: Prediction[];
}

export async function predictImages(sweepId: string, files: string[]): Promise<PredictDocument> {
  const prefix = artifactKeys.sweepModel(sweepId);
  const metadataKey = artifactKeys.sweepModelFile(sweepId, 'metadata.json');
  const metadata = await getJsonIfExists<ExportedModelMetadata>(metadataKey);
  if (!metadata) {
    throw new UsageError(`sweep ${sweepId} has no exported model (no ${s3Url(metadataKey)}): a sweep exports its best trial when it completes; see \`sweep results ${sweepId}\``);
  }
  // A sweep id started again (after the first sweep closed) leaves the first sweep's model in place
  // until the new one exports: its leaderboard says which model is the sweep's, if any.
  const board = await storedLeaderboard(sweepId);
  if (board && board.model?.trialId !== metadata.trial.trialId) {
    throw new UsageError(`sweep ${sweepId}'s results name ${board.model ? `run ${board.model.run}'s model` : 'no exported model'}${board.modelError ? ` (${board.modelError})` : ''}, ` +
      `but ${s3Url(metadataKey)} is run ${metadata.trial.run}'s, of an earlier sweep under this id; see \`sweep results ${sweepId}\``);
  }
  await initTensorflow();
  const modelJson = s3Url(`${prefix}/${metadata.modelJson}`);
  const model = await tf.loadLayersModel(loadHandler(modelJson));
  const { size, resize, mean, std } = metadata.input;
  const predictions: Prediction[] = [];
  try {
    for (let start = 0; start < files.length; start += BATCH) {
      const batch = files.slice(start, start + BATCH);
      const inputs = await Promise.all(batch.map(async (image) => {
        try {
          const bytes = await fs.readFile(image);
          // As ingestion checks a file: a format it would skip (svg, pdf, ...) or a broken file is named as such.
          const check = await decodeCheck(bytes);
          return check.ok ? await preprocessImage(bytes, { size, resize }, undefined, { mean, std }) : check.reason;
        } catch (error) {
          return (error as Error).message.split('\n')[0];
        }
      }));
      const good = inputs.flatMap((x, i) => (typeof x === 'string' ? [] : [{ image: batch[i], pixels: x }]));
      const probabilities = good.length ? await classify(model, good.map((g) => g.pixels), size, metadata.classes.length) : [];
      let next = 0;
      inputs.forEach((x, i) => {
        if (typeof x === 'string') {
          predictions.push({ image: batch[i], error: x });
          return;
        }
        const p = probabilities[next++];
        const [top, probability] = rankedClasses(metadata.classes, p)[0];
        predictions.push({ image: batch[i], class: top, probability, probabilities: Object.fromEntries(metadata.classes.map((c, k) => [c, p[k]])) });
      });
    }
  } finally {
    model.dispose();
  }
  return { sweepId, model: modelJson, run: metadata.trial.run, trialId: metadata.trial.trialId, classes: metadata.classes, predictions };
}

async function classify(model: tf.LayersModel, images: Float32Array[], size: number, numClasses: number): Promise<Float32Array[]> {
  const pixels = size * size * 3;
  const input = new Float32Array(images.length * pixels);
  images.forEach((image, i) => input.set(image, i * pixels));
  const x = tf.tensor4d(input, [images.length, size, size, 3]);
  const y = model.predict(x) as tf.Tensor;
  const data = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return images.map((_, i) => data.slice(i * numClasses, (i + 1) * numClasses));
}

export async function predict(sweepId: string, images: string[], json: boolean): Promise<void> {
  if (images.length === 0) throw new UsageError('usage: sweep predict <id> <image...> [--json]: give at least one image file');
  // Before the model is fetched: a path that is not a file is the command line's mistake, not an image's.
  const notFiles = (await Promise.all(images.map((image) => fs.stat(image).then(
    (stat) => (stat.isDirectory() ? `${image} is a directory` : ''),
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' || error.code === 'ENOTDIR' ? `${image} does not exist` : `${image} cannot be looked at (${error.message})`),
  )))).filter(Boolean);
  if (notFiles.length) throw new UsageError(`sweep predict: ${notFiles.join('; ')}; give image files (a folder's: sweep predict ${sweepId} folder/*.jpg)`);
  const doc = await predictImages(sweepId, images);
  if (json) {
    console.log(JSON.stringify(doc, null, 2));
  } else {
    console.log(`model: run ${doc.run} of sweep ${sweepId} (${doc.model})`);
    const shown = doc.predictions.map((p) => visible(p.image));
    const width = Math.max(...shown.map((name) => name.length));
    for (const [i, p] of doc.predictions.entries()) {
      const line = 'error' in p
        ? `cannot classify: ${visible(p.error)}`
        : `${visible(p.class)} ${pct(p.probability)}  (${rankedClasses(doc.classes, doc.classes.map((c) => p.probabilities[c])).slice(1).map(([c, v]) => `${visible(c)} ${pct(v)}`).join(', ')})`;
      console.log(`${shown[i].padEnd(width)}  ${line}`);
    }
  }
  const failed = doc.predictions.filter((p) => 'error' in p);
  if (failed.length) throw new UsageError(`${failed.length} of ${images.length} images could not be read or decoded: ${failed.map((p) => visible(p.image)).join(', ')}`);
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
