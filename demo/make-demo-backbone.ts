// The demo's backbone: a small CNN the project makes itself (fixed seed, untrained), saved as a
// TF.js LayersModel exactly like a user's converted backbone. Random conv features are weak but
// real: they keep colour and texture statistics, enough for a head to learn something and not all.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { saveHandler } from '../model/model-io';
import { initTensorflow } from '../model/tf-backend';

export const DEMO_BACKBONE_FEATURE_LAYER = 'features';

export async function makeDemoBackbone(outDir: string, inputSize: number, seed = 1): Promise<string> {
  const modelJson = path.join(outDir, 'model.json');
  if (fs.existsSync(modelJson)) return modelJson;
  await initTensorflow();
  const conv = (filters: number, i: number) => tf.layers.conv2d({
    filters, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: `conv${i}`,
    kernelInitializer: tf.initializers.heNormal({ seed: seed * 100 + i }), biasInitializer: 'zeros',
  });
  const model = tf.sequential({ name: 'demo_cnn' });
  model.add(tf.layers.inputLayer({ inputShape: [inputSize, inputSize, 3] }));
  [32, 64, 96, 128].forEach((filters, i) => model.add(conv(filters, i + 1)));
  model.add(tf.layers.globalAveragePooling2d({ name: DEMO_BACKBONE_FEATURE_LAYER }));
  await model.save(saveHandler(outDir));
  model.dispose();
  return modelJson;
}

if (require.main === module) {
  const [outDir = '.data/backbones/demo-cnn', size = '64'] = process.argv.slice(2);
  makeDemoBackbone(outDir, Number(size)).then((file) => console.log(`demo backbone: ${file}`));
}
