// Load a TF.js LayersModel (model.json + shards) from a local folder with plain @tensorflow/tfjs
// (no tfjs-node, so no file:// handler): read the files and hand them to tf.io.fromMemory.
import fs from 'node:fs';
import path from 'node:path';

export async function loadLayersModelFromDir(tf, dir) {
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const weightSpecs = [];
  const parts = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) parts.push(fs.readFileSync(path.join(dir, p)));
  }
  const buf = Buffer.concat(parts);
  const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }));
}

/** A model with the same input whose output is layer `featureLayer` (e.g. "avg_pool"). */
export function featureModel(tf, model, featureLayer) {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer(featureLayer).output });
}
