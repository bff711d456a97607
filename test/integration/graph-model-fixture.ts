// A TF.js GraphModel of the test backbone, for the tests of GraphModel backbones. tensorflowjs_converter
// (which makes GraphModels from TensorFlow SavedModels) needs TensorFlow in Python, so this writes the
// same format itself: model.json with a GraphDef in protobuf-JSON form (Placeholder, Const, Conv2D,
// BiasAdd, Relu, Mean) and a weights manifest, from the LayersModel's own weights. It knows the layers
// of demo/make-demo-backbone.ts (conv2d + relu, global average pooling) and refuses any other.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadHandler } from '../../model/model-io';

interface GraphNode { name: string; op: string; input?: string[]; attr?: Record<string, unknown> }

const FLOAT = { type: 'DT_FLOAT' };
const text = (s: string) => ({ s: Buffer.from(s).toString('base64') });
const ints = (values: number[]) => ({ list: { i: values.map(String) } });
const shapeOf = (dims: number[]) => ({ dim: dims.map((size) => ({ size: String(size) })) });

/** Writes `outDir/model.json` + `weights.bin`; the output node is named after the LayersModel's last layer. */
export async function layersToGraphModel(layersModelJson: string, outDir: string): Promise<string> {
  const model = await tf.loadLayersModel(loadHandler(layersModelJson));
  const [, height, width, channels] = model.inputs[0].shape;
  const nodes: GraphNode[] = [{ name: 'images', op: 'Placeholder', attr: { dtype: FLOAT, shape: { shape: shapeOf([-1, height!, width!, channels!]) } } }];
  const weights: Array<{ name: string; shape: number[]; dtype: 'float32' | 'int32'; data: Float32Array | Int32Array }> = [];
  const constant = (name: string, tensor: tf.Tensor, dtype: 'float32' | 'int32' = 'float32') => {
    weights.push({ name, shape: tensor.shape, dtype, data: tensor.dataSync() as Float32Array | Int32Array });
    nodes.push({ name, op: 'Const', attr: { dtype: { type: dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32' }, value: { tensor: { dtype: dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32', tensorShape: shapeOf(tensor.shape) } } } });
    return name;
  };
  let last = 'images';
  for (const layer of model.layers) {
    const config = layer.getConfig();
    const name = layer.name;
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer.getClassName() === 'Conv2D' && config.activation === 'relu' && config.padding === 'same' && config.useBias) {
      const [kernel, bias] = layer.getWeights();
      const strides = config.strides as number[];
      nodes.push({ name: `${name}/Conv2D`, op: 'Conv2D', input: [last, constant(`${name}/kernel`, kernel)], attr: { T: FLOAT, strides: ints([1, strides[0], strides[1], 1]), padding: text('SAME'), data_format: text('NHWC'), dilations: ints([1, 1, 1, 1]) } });
      nodes.push({ name: `${name}/BiasAdd`, op: 'BiasAdd', input: [`${name}/Conv2D`, constant(`${name}/bias`, bias)], attr: { T: FLOAT, data_format: text('NHWC') } });
      nodes.push({ name: `${name}/Relu`, op: 'Relu', input: [`${name}/BiasAdd`], attr: { T: FLOAT } });
      last = `${name}/Relu`;
    } else if (layer.getClassName() === 'GlobalAveragePooling2D') {
      const axes = tf.tensor1d([1, 2], 'int32');
      nodes.push({ name, op: 'Mean', input: [last, constant(`${name}/axes`, axes, 'int32')], attr: { T: FLOAT, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } });
      axes.dispose();
      last = name;
    } else {
      throw new Error(`layersToGraphModel: layer ${name} (${layer.getClassName()}) is not one this fixture converts`);
    }
  }
  model.dispose();
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'weights.bin'), Buffer.concat(weights.map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength))));
  const modelJson = {
    format: 'graph-model',
    generatedBy: 'test/integration/graph-model-fixture.ts',
    convertedBy: null,
    modelTopology: { node: nodes, library: {}, versions: {} },
    weightsManifest: [{ paths: ['weights.bin'], weights: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }],
  };
  const file = path.join(outDir, 'model.json');
  fs.writeFileSync(file, JSON.stringify(modelJson));
  return file;
}
