#!/usr/bin/env node
// Writes an ONNX graph of a TF.js LayersModel's feature extractor, so onnxruntime-node can run the
// frozen backbone (several times faster than tfjs-wasm on CPU) while TF.js stays the training API.
// No torch, no Python: the Keras topology in model.json is translated layer by layer and the ONNX
// protobuf is written with protobufjs (already a dependency).
//
// usage: node backbones/layers-to-onnx.mjs MODEL_DIR FEATURE_LAYER [OUT.onnx]   (default MODEL_DIR/model.onnx)
//
// Layers understood: InputLayer, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU (with max_value),
// Add, GlobalAveragePooling2D, Dense - what EfficientNet-Lite and MobileNet-style nets use; anything
// else fails with the layer's name. The graph takes the same NHWC float32 input as the TF.js model and
// transposes to NCHW inside; BatchNormalization after a convolution is folded into its weights. The
// output is named after FEATURE_LAYER (4-D outputs are transposed back to NHWC, so flattening gives
// TF.js's order). model/backbone.ts picks the file up when it sits next to model.json.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';

const ONNX_IR_VERSION = 8;
const OPSET = 13;
const FLOAT = 1;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 };

// The subset of onnx.proto3 this writer needs (field numbers as in onnx/onnx.proto3).
const ONNX_SCHEMA = {
  nested: {
    ModelProto: { fields: {
      irVersion: { id: 1, type: 'int64' }, producerName: { id: 2, type: 'string' }, producerVersion: { id: 3, type: 'string' },
      docString: { id: 6, type: 'string' }, graph: { id: 7, type: 'GraphProto' },
      opsetImport: { id: 8, rule: 'repeated', type: 'OperatorSetIdProto' },
      metadataProps: { id: 14, rule: 'repeated', type: 'StringStringEntryProto' },
    } },
    OperatorSetIdProto: { fields: { domain: { id: 1, type: 'string' }, version: { id: 2, type: 'int64' } } },
    StringStringEntryProto: { fields: { key: { id: 1, type: 'string' }, value: { id: 2, type: 'string' } } },
    GraphProto: { fields: {
      node: { id: 1, rule: 'repeated', type: 'NodeProto' }, name: { id: 2, type: 'string' },
      initializer: { id: 5, rule: 'repeated', type: 'TensorProto' },
      input: { id: 11, rule: 'repeated', type: 'ValueInfoProto' }, output: { id: 12, rule: 'repeated', type: 'ValueInfoProto' },
    } },
    NodeProto: { fields: {
      input: { id: 1, rule: 'repeated', type: 'string' }, output: { id: 2, rule: 'repeated', type: 'string' },
      name: { id: 3, type: 'string' }, opType: { id: 4, type: 'string' }, attribute: { id: 5, rule: 'repeated', type: 'AttributeProto' },
    } },
    AttributeProto: { fields: {
      name: { id: 1, type: 'string' }, f: { id: 2, type: 'float' }, i: { id: 3, type: 'int64' }, s: { id: 4, type: 'bytes' },
      ints: { id: 8, rule: 'repeated', type: 'int64' }, type: { id: 20, type: 'int32' },
    } },
    TensorProto: { fields: {
      dims: { id: 1, rule: 'repeated', type: 'int64' }, dataType: { id: 2, type: 'int32' }, name: { id: 8, type: 'string' },
      rawData: { id: 9, type: 'bytes' },
    } },
    ValueInfoProto: { fields: { name: { id: 1, type: 'string' }, type: { id: 2, type: 'TypeProto' } } },
    TypeProto: { fields: { tensorType: { id: 1, type: 'TensorTypeProto' } } },
    TensorTypeProto: { fields: { elemType: { id: 1, type: 'int32' }, shape: { id: 2, type: 'TensorShapeProto' } } },
    TensorShapeProto: { fields: { dim: { id: 1, rule: 'repeated', type: 'Dimension' } } },
    Dimension: { oneofs: { value: { oneof: ['dimValue', 'dimParam'] } }, fields: { dimValue: { id: 1, type: 'int64' }, dimParam: { id: 2, type: 'string' } } },
  },
};

/** Reads model.json and its shards: the Keras layers (in topological order) and the weights by name. */
export function readLayersModel(dir) {
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const topology = modelJson.modelTopology.model_config ?? modelJson.modelTopology;
  if (!['Model', 'Functional', 'Sequential'].includes(topology.class_name)) {
    throw new Error(`${dir}/model.json is a ${topology.class_name}; only LayersModels (functional or Sequential) are converted`);
  }
  const weights = new Map();
  for (const group of modelJson.weightsManifest) {
    const bytes = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const spec of group.weights) {
      if (spec.dtype !== 'float32' || spec.quantization) throw new Error(`weight ${spec.name} is ${spec.quantization ? 'quantized' : spec.dtype}; only plain float32 weights are converted`);
      const n = spec.shape.reduce((a, b) => a * b, 1);
      weights.set(spec.name, { shape: spec.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + n * 4)) });
      offset += n * 4;
    }
  }
  if (topology.class_name !== 'Sequential') return { layers: topology.config.layers, inputs: topology.config.input_layers, weights };
  // A Sequential model is a chain; give it the functional form (explicit input layer and inbound nodes).
  const layers = topology.config.layers.map((l) => ({ ...l, name: l.config.name }));
  if (layers[0].class_name !== 'InputLayer') {
    layers.unshift({ name: `${layers[0].name}_input`, class_name: 'InputLayer', config: { batch_input_shape: layers[0].config.batch_input_shape } });
  }
  layers.forEach((l, i) => { l.inbound_nodes = i === 0 ? [] : [[[layers[i - 1].name, 0, 0, {}]]]; });
  return { layers, inputs: [[layers[0].name, 0, 0]], weights };
}

/** The ONNX ModelProto (as a plain object) computing `featureLayer` from the model's input. */
export function buildOnnxGraph({ layers, inputs, weights }, featureLayer) {
  const byName = new Map(layers.map((l) => [l.name, l]));
  if (!byName.has(featureLayer)) throw new Error(`feature layer "${featureLayer}" is not a layer of the model; its last layers are ${layers.slice(-6).map((l) => l.name).join(', ')}`);
  if (inputs.length !== 1) throw new Error(`the model has ${inputs.length} inputs; only single-input backbones are converted`);
  const inbound = (layer) => {
    if (layer.inbound_nodes.length > 1) throw new Error(`layer ${layer.name} is applied ${layer.inbound_nodes.length} times; shared layers are not supported`);
    return (layer.inbound_nodes[0] ?? []).map(([name, , tensorIndex]) => {
      if (tensorIndex !== 0) throw new Error(`layer ${layer.name} reads output ${tensorIndex} of ${name}; only single-output layers are supported`);
      return name;
    });
  };
  // Only the layers the feature layer depends on, in model order.
  const needed = new Set();
  const visit = (name) => { if (!needed.has(name)) { needed.add(name); inbound(byName.get(name)).forEach(visit); } };
  visit(featureLayer);
  const consumers = new Map();
  for (const l of layers.filter((l) => needed.has(l.name))) for (const src of inbound(l)) consumers.set(src, (consumers.get(src) ?? 0) + 1);

  const nodes = [];
  const initializers = [];
  const rank = new Map(); // tensor name -> rank (4-D tensors are NCHW inside the graph)
  const used = new Set();
  const weight = (layer, key) => {
    const w = weights.get(`${layer}/${key}`);
    if (!w) throw new Error(`weight ${layer}/${key} is missing from model.json`);
    used.add(`${layer}/${key}`);
    return w;
  };
  const constant = (name, dims, data) => { initializers.push({ name, dims, dataType: FLOAT, rawData: f32Bytes(data) }); return name; };
  const node = (opType, input, output, attribute = []) => nodes.push({ opType, input, output: [output], name: output, attribute });
  const folded = new Map(); // conv layer -> its [kernel, bias] awaiting a following BN

  for (const layer of layers.filter((l) => needed.has(l.name))) {
    const c = layer.config;
    const [src] = inbound(layer);
    const out = layer.name;
    switch (layer.class_name) {
      case 'InputLayer': {
        const shape = c.batch_input_shape ?? c.batchInputShape;
        if (shape.length !== 4) throw new Error(`input ${out} has shape ${JSON.stringify(shape)}; only NHWC image inputs are converted`);
        node('Transpose', [`${out}_nhwc`], out, [ints('perm', [0, 3, 1, 2])]);
        rank.set(out, 4);
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        if ((c.data_format ?? 'channels_last') !== 'channels_last') throw new Error(`${out}: data_format ${c.data_format} is not supported`);
        const depthwise = layer.class_name === 'DepthwiseConv2D';
        const k = weight(out, depthwise ? 'depthwise_kernel' : 'kernel');
        const [kh, kw, cin, cout] = k.shape; // depthwise: cout is the depth multiplier
        const outChannels = depthwise ? cin * cout : cout;
        // Keras HWIO (or HWC,M) -> ONNX OIHW (depthwise: [C*M, 1, kh, kw], group C).
        const kernel = new Float32Array(k.data.length);
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) {
          const from = ((y * kw + x) * cin + i) * cout + o;
          kernel[depthwise ? ((i * cout + o) * kh + y) * kw + x : ((o * cin + i) * kh + y) * kw + x] = k.data[from];
        }
        const bias = c.use_bias ? weight(out, 'bias').data.slice() : new Float32Array(outChannels);
        const attributes = [
          ints('kernel_shape', [kh, kw]), ints('strides', c.strides), ints('dilations', c.dilation_rate ?? [1, 1]),
          int('group', depthwise ? cin : 1), string('auto_pad', c.padding === 'same' ? 'SAME_UPPER' : 'VALID'),
        ];
        const conv = { src, kernel, bias, dims: [outChannels, depthwise ? 1 : cin, kh, kw], attributes };
        const next = layers.find((l) => needed.has(l.name) && inbound(l)[0] === out);
        if (c.activation === 'linear' && consumers.get(out) === 1 && next?.class_name === 'BatchNormalization') {
          folded.set(out, conv);
          break;
        }
        emitConv(out, conv);
        activation(out, c.activation);
        break;
      }
      case 'BatchNormalization': {
        const eps = c.epsilon;
        const gamma = c.scale === false ? undefined : weight(out, 'gamma').data;
        const beta = c.center === false ? undefined : weight(out, 'beta').data;
        const mean = weight(out, 'moving_mean').data;
        const variance = weight(out, 'moving_variance').data;
        const channels = mean.length;
        const scale = Float32Array.from(mean, (_, i) => (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + eps));
        const shift = Float32Array.from(mean, (m, i) => (beta ? beta[i] : 0) - m * scale[i]);
        const conv = folded.get(src);
        if (conv) {
          // y = scale * (W x + b) + shift, folded per output channel.
          const perChannel = conv.kernel.length / channels;
          for (let o = 0; o < channels; o++) {
            for (let j = 0; j < perChannel; j++) conv.kernel[o * perChannel + j] *= scale[o];
            conv.bias[o] = conv.bias[o] * scale[o] + shift[o];
          }
          emitConv(out, conv);
        } else {
          if (rank.get(src) !== 4 || ![-1, 3].includes(Array.isArray(c.axis) ? c.axis[0] : c.axis)) throw new Error(`${out}: only channel-axis BatchNormalization on images is supported`);
          const ones = new Float32Array(channels).fill(1);
          node('BatchNormalization', [src, constant(`${out}/scale`, [channels], scale), constant(`${out}/shift`, [channels], shift),
            constant(`${out}/zero_mean`, [channels], new Float32Array(channels)), constant(`${out}/unit_var`, [channels], ones)], out, [float('epsilon', 0)]);
          rank.set(out, 4);
        }
        break;
      }
      case 'ReLU': {
        if ((c.negative_slope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) throw new Error(`${out}: leaky or thresholded ReLU is not supported`);
        if (c.max_value === null || c.max_value === undefined) node('Relu', [src], out);
        else node('Clip', [src, constant(`${out}/min`, [], [0]), constant(`${out}/max`, [], [c.max_value])], out);
        rank.set(out, rank.get(src));
        break;
      }
      case 'Add': {
        const srcs = inbound(layer);
        node(srcs.length === 2 ? 'Add' : 'Sum', srcs, out);
        rank.set(out, rank.get(srcs[0]));
        break;
      }
      case 'GlobalAveragePooling2D': {
        if (c.keepdims) throw new Error(`${out}: keepdims is not supported`);
        node('GlobalAveragePool', [src], `${out}_pooled`);
        node('Flatten', [`${out}_pooled`], out, [int('axis', 1)]);
        rank.set(out, 2);
        break;
      }
      case 'Dense': {
        if (rank.get(src) !== 2) throw new Error(`${out}: Dense on a ${rank.get(src)}-D input is not supported`);
        const k = weight(out, 'kernel');
        const inputs = [src, constant(`${out}/kernel`, k.shape, k.data)];
        if (c.use_bias) inputs.push(constant(`${out}/bias`, [k.shape[1]], weight(out, 'bias').data));
        node('Gemm', inputs, out);
        rank.set(out, 2);
        activation(out, c.activation);
        break;
      }
      default:
        throw new Error(`layer ${out} (${layer.class_name}) has no ONNX translation here; run the backbone with TF.js (delete the .onnx) or extend backbones/layers-to-onnx.mjs`);
    }
  }

  function emitConv(out, conv) {
    const w = constant(`${out}/W`, conv.dims, conv.kernel);
    const b = constant(`${out}/B`, [conv.dims[0]], conv.bias);
    node('Conv', [conv.src, w, b], out, conv.attributes);
    rank.set(out, 4);
  }

  function activation(out, kind) {
    if (kind === 'linear' || kind === undefined) return;
    if (kind !== 'relu') throw new Error(`${out}: activation "${kind}" is not supported`);
    // Renames so the layer's name stays the activated tensor.
    const pre = `${out}_preact`;
    const last = nodes.at(-1);
    last.output = [pre];
    last.name = pre;
    node('Relu', [pre], out);
  }

  let output = featureLayer;
  if (rank.get(featureLayer) === 4) {
    output = `${featureLayer}_nhwc`;
    node('Transpose', [featureLayer], output, [ints('perm', [0, 2, 3, 1])]);
  }
  const unused = [...weights.keys()].filter((k) => !used.has(k) && needed.has(k.split('/')[0]));
  if (unused.length) throw new Error(`weights not translated: ${unused.join(', ')}`);
  const inputName = `${inputs[0][0]}_nhwc`;
  const tensorType = (dims) => ({ tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } });
  const inputLayer = byName.get(inputs[0][0]);
  const [, height, width, channels] = inputLayer.config.batch_input_shape ?? inputLayer.config.batchInputShape;
  return {
    irVersion: ONNX_IR_VERSION,
    producerName: 'sweep-engine backbones/layers-to-onnx.mjs',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: featureLayer,
      node: nodes,
      initializer: initializers,
      input: [{ name: inputName, type: tensorType(['batch', height ?? 'height', width ?? 'width', channels]) }],
      output: [{ name: output, type: tensorType(rank.get(featureLayer) === 4 ? ['batch', 'h', 'w', 'c'] : ['batch', 'features']) }],
    },
  };
}

export function encodeOnnx(model) {
  const ModelProto = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('ModelProto');
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

function f32Bytes(values) {
  const a = Float32Array.from(values);
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
const int = (name, i) => ({ name, type: ATTR.INT, i });
const ints = (name, list) => ({ name, type: ATTR.INTS, ints: list });
const float = (name, f) => ({ name, type: ATTR.FLOAT, f });
const string = (name, s) => ({ name, type: ATTR.STRING, s: Buffer.from(s) });

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [dir, featureLayer, out = path.join(dir ?? '.', 'model.onnx')] = process.argv.slice(2);
  if (!dir || !featureLayer) {
    console.error('usage: node backbones/layers-to-onnx.mjs MODEL_DIR FEATURE_LAYER [OUT.onnx]');
    process.exit(2);
  }
  const model = buildOnnxGraph(readLayersModel(dir), featureLayer);
  model.metadataProps = [{ key: 'featureLayer', value: featureLayer }];
  const bytes = encodeOnnx(model);
  // Write then rename, so a reader never sees half a file.
  const partial = `${out}.${process.pid}.partial`;
  fs.writeFileSync(partial, bytes);
  fs.renameSync(partial, out);
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  console.log(`wrote ${out}: ${model.graph.node.length} nodes, ${(bytes.length / 2 ** 20).toFixed(1)} MiB, output ${model.graph.output[0].name}, sha256 ${sha.slice(0, 16)}`);
}
