// Minimal GraphDef construction for TensorBoard's Graphs tab. TensorBoard only needs node names (with
// "/" scopes, which it draws as collapsible groups), op names, inputs (the edges) and optionally attrs;
// `_output_shapes` attrs label the edges with tensor shapes. The graph is descriptive: nothing executes it.
import { DataType, type AttrValueData, type DataTypeValue, type GraphDefData, type NodeDefData, type TensorShapeData } from './proto';

/** Dimension sizes; -1 is an unknown dimension (e.g. the batch). */
export type Shape = readonly number[];

function shapeProto(shape: Shape): TensorShapeData {
  return { dim: shape.map((size) => ({ size })) };
}

/** AttrValue constructors. */
export const attr = {
  type: (dtype: DataTypeValue): AttrValueData => ({ type: dtype }),
  shape: (shape: Shape): AttrValueData => ({ shape: shapeProto(shape) }),
  /** The `_output_shapes` attr TensorBoard shows on a node's outgoing edges. */
  outputShapes: (...shapes: Shape[]): AttrValueData => ({ list: { shape: shapes.map(shapeProto) } }),
  int: (i: number): AttrValueData => ({ i }),
  float: (f: number): AttrValueData => ({ f }),
  bool: (b: boolean): AttrValueData => ({ b }),
  string: (s: string): AttrValueData => ({ s: Buffer.from(s, 'utf8') }),
};

export interface NodeSpec {
  name: string;
  op: string;
  /** Input node names; "name:1" selects a second output, "^name" is a control dependency. */
  inputs?: readonly string[];
  device?: string;
  attrs?: Record<string, AttrValueData>;
}

const NODE_NAME = /^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$/;

/**
 * Builds a GraphDef, checking node names (TF's rules), uniqueness, and that every input refers to a
 * node of the graph (TensorBoard would otherwise draw a dangling edge).
 */
export function buildGraphDef(nodes: readonly NodeSpec[], producer = 1): GraphDefData {
  const names = new Set<string>();
  for (const n of nodes) {
    if (!NODE_NAME.test(n.name)) throw new Error(`invalid graph node name ${JSON.stringify(n.name)}`);
    if (!n.op) throw new Error(`graph node ${n.name} has no op`);
    if (names.has(n.name)) throw new Error(`duplicate graph node name ${n.name}`);
    names.add(n.name);
  }
  for (const n of nodes) {
    for (const input of n.inputs ?? []) {
      const ref = input.replace(/^\^/, '').replace(/:\d+$/, '');
      if (!names.has(ref)) throw new Error(`graph node ${n.name} has unknown input ${input}`);
    }
  }
  return {
    node: nodes.map(
      (n): NodeDefData => ({
        name: n.name,
        op: n.op,
        input: [...(n.inputs ?? [])],
        ...(n.device ? { device: n.device } : {}),
        attr: { ...(n.attrs ?? {}) },
      }),
    ),
    versions: { producer },
  };
}

export interface ClassifierHeadOptions {
  /** Width of the frozen backbone's feature vector (the head's input). */
  featureDim: number;
  hiddenUnits: number;
  numClasses: number;
  dropoutRate: number;
  /** Backbone name shown as an attr on the input node, e.g. "mobilenet_v2". */
  backbone?: string;
}

/**
 * The transfer-learning head as a graph: features -> dense_1 (MatMul + BiasAdd) -> relu -> dropout ->
 * dense_2 (MatMul + BiasAdd) -> log_softmax, with variables for kernels and biases and shapes on every
 * edge (batch dimension unknown).
 */
export function classifierHeadGraph(o: ClassifierHeadOptions): GraphDefData {
  for (const [k, v] of [['featureDim', o.featureDim], ['hiddenUnits', o.hiddenUnits], ['numClasses', o.numClasses]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  }
  if (!(o.dropoutRate >= 0 && o.dropoutRate < 1)) throw new RangeError(`dropoutRate must be in [0, 1), got ${o.dropoutRate}`);
  const F = DataType.DT_FLOAT;
  const T = { T: attr.type(F) };
  const variable = (name: string, shape: Shape): NodeSpec => ({
    name,
    op: 'VariableV2',
    attrs: { dtype: attr.type(F), shape: attr.shape(shape), _output_shapes: attr.outputShapes(shape) },
  });
  const dense = (scope: string, input: string, inDim: number, outDim: number): NodeSpec[] => [
    variable(`${scope}/kernel`, [inDim, outDim]),
    variable(`${scope}/bias`, [outDim]),
    {
      name: `${scope}/MatMul`,
      op: 'MatMul',
      inputs: [input, `${scope}/kernel`],
      attrs: { ...T, transpose_a: attr.bool(false), transpose_b: attr.bool(false), _output_shapes: attr.outputShapes([-1, outDim]) },
    },
    {
      name: `${scope}/BiasAdd`,
      op: 'BiasAdd',
      inputs: [`${scope}/MatMul`, `${scope}/bias`],
      attrs: { ...T, data_format: attr.string('NHWC'), _output_shapes: attr.outputShapes([-1, outDim]) },
    },
  ];
  return buildGraphDef([
    {
      name: 'features',
      op: 'Placeholder',
      attrs: {
        dtype: attr.type(F),
        shape: attr.shape([-1, o.featureDim]),
        _output_shapes: attr.outputShapes([-1, o.featureDim]),
        ...(o.backbone ? { backbone: attr.string(o.backbone) } : {}),
      },
    },
    ...dense('dense_1', 'features', o.featureDim, o.hiddenUnits),
    { name: 'relu', op: 'Relu', inputs: ['dense_1/BiasAdd'], attrs: { ...T, _output_shapes: attr.outputShapes([-1, o.hiddenUnits]) } },
    {
      name: 'dropout',
      op: 'Dropout',
      inputs: ['relu'],
      attrs: { ...T, rate: attr.float(o.dropoutRate), _output_shapes: attr.outputShapes([-1, o.hiddenUnits]) },
    },
    ...dense('dense_2', 'dropout', o.hiddenUnits, o.numClasses),
    {
      name: 'log_softmax',
      op: 'LogSoftmax',
      inputs: ['dense_2/BiasAdd'],
      attrs: { ...T, _output_shapes: attr.outputShapes([-1, o.numClasses]) },
    },
  ]);
}
