// Protobuf messages needed to write TensorBoard event files, as a protobufjs reflection descriptor.
//
// Field numbers are copied from the official protos (TensorBoard vendors TensorFlow's protos under the
// `tensorboard` package, so the full names below are the ones TensorBoard itself uses):
//   tensorflow/core/util/event.proto            Event
//   tensorflow/core/framework/summary.proto     Summary, Summary.Value, SummaryMetadata, HistogramProto, DataClass
//   tensorflow/core/framework/tensor.proto      TensorProto
//   tensorflow/core/framework/tensor_shape.proto TensorShapeProto
//   tensorflow/core/framework/types.proto       DataType
//   tensorflow/core/framework/graph.proto       GraphDef
//   tensorflow/core/framework/node_def.proto    NodeDef
//   tensorflow/core/framework/attr_value.proto  AttrValue
//   tensorflow/core/framework/versions.proto    VersionDef
//   tensorboard/plugins/hparams/api.proto        tensorboard.hparams.{Experiment, HParamInfo, MetricInfo, ...}
//   tensorboard/plugins/hparams/plugin_data.proto tensorboard.hparams.{HParamsPluginData, SessionStartInfo, ...}
//   google/protobuf/struct.proto                 google.protobuf.{Value, ListValue, Struct}
// Only the fields this writer uses are declared (unknown fields are simply never written). Names are
// kept in snake_case exactly as in the .proto files; test/unit/tensorboard.test.ts checks every field
// number, type and enum value against the descriptors compiled into the `tensorboard` PyPI package.
//
// No code generation: the descriptor is plain data, turned into protobufjs Types at module load.
import * as protobuf from 'protobufjs';

type FieldJson = { type: string; id: number; rule?: 'repeated'; keyType?: string; options?: Record<string, unknown> };
type TypeJson = {
  fields: Record<string, FieldJson>;
  oneofs?: Record<string, { oneof: string[] }>;
  nested?: Record<string, TypeJson | EnumJson>;
  edition?: string;
};
type EnumJson = { values: Record<string, number> };
type NamespaceJson = { nested: Record<string, TypeJson | EnumJson | NamespaceJson> };

const PACKED = { packed: true };
const f = (type: string, id: number): FieldJson => ({ type, id });
const rep = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated' });
/** Repeated scalar field, packed as in proto3 (the default for every proto3 repeated numeric field). */
const packed = (type: string, id: number): FieldJson => ({ type, id, rule: 'repeated', options: PACKED });
const map = (keyType: string, type: string, id: number): FieldJson => ({ keyType, type, id });

const DESCRIPTOR: NamespaceJson = {
  nested: {
    tensorboard: {
      nested: {
        // types.proto (subset)
        DataType: {
          values: {
            DT_INVALID: 0,
            DT_FLOAT: 1,
            DT_DOUBLE: 2,
            DT_INT32: 3,
            DT_UINT8: 4,
            DT_INT16: 5,
            DT_INT8: 6,
            DT_STRING: 7,
            DT_COMPLEX64: 8,
            DT_INT64: 9,
            DT_BOOL: 10,
          },
        },
        // tensor_shape.proto
        TensorShapeProto: {
          fields: { dim: rep('Dim', 2), unknown_rank: f('bool', 3) },
          nested: { Dim: { fields: { size: f('int64', 1), name: f('string', 2) } } },
        },
        // tensor.proto (subset)
        TensorProto: {
          fields: {
            dtype: f('DataType', 1),
            tensor_shape: f('TensorShapeProto', 2),
            version_number: f('int32', 3),
            tensor_content: f('bytes', 4),
            half_val: packed('int32', 13),
            float_val: packed('float', 5),
            double_val: packed('double', 6),
            int_val: packed('int32', 7),
            string_val: rep('bytes', 8),
            int64_val: packed('int64', 10),
            bool_val: packed('bool', 11),
          },
        },
        // summary.proto
        DataClass: {
          values: { DATA_CLASS_UNKNOWN: 0, DATA_CLASS_SCALAR: 1, DATA_CLASS_TENSOR: 2, DATA_CLASS_BLOB_SEQUENCE: 3 },
        },
        HistogramProto: {
          fields: {
            min: f('double', 1),
            max: f('double', 2),
            num: f('double', 3),
            sum: f('double', 4),
            sum_squares: f('double', 5),
            bucket_limit: packed('double', 6),
            bucket: packed('double', 7),
          },
        },
        SummaryMetadata: {
          fields: {
            plugin_data: f('PluginData', 1),
            display_name: f('string', 2),
            summary_description: f('string', 3),
            data_class: f('DataClass', 4),
          },
          nested: { PluginData: { fields: { plugin_name: f('string', 1), content: f('bytes', 2) } } },
        },
        Summary: {
          fields: { value: rep('Value', 1) },
          nested: {
            Value: {
              oneofs: { value: { oneof: ['simple_value', 'histo', 'tensor'] } },
              fields: {
                node_name: f('string', 7),
                tag: f('string', 1),
                metadata: f('SummaryMetadata', 9),
                simple_value: f('float', 2),
                histo: f('HistogramProto', 5),
                tensor: f('TensorProto', 8),
              },
            },
          },
        },
        // event.proto (subset)
        Event: {
          oneofs: { what: { oneof: ['file_version', 'graph_def', 'summary'] } },
          fields: {
            wall_time: f('double', 1),
            step: f('int64', 2),
            file_version: f('string', 3),
            graph_def: f('bytes', 4),
            summary: f('Summary', 5),
          },
        },
        // attr_value.proto (subset: no NameAttrList / func)
        AttrValue: {
          oneofs: { value: { oneof: ['s', 'i', 'f', 'b', 'type', 'shape', 'tensor', 'list', 'placeholder'] } },
          fields: {
            s: f('bytes', 2),
            i: f('int64', 3),
            f: f('float', 4),
            b: f('bool', 5),
            type: f('DataType', 6),
            shape: f('TensorShapeProto', 7),
            tensor: f('TensorProto', 8),
            list: f('ListValue', 1),
            placeholder: f('string', 9),
          },
          nested: {
            ListValue: {
              fields: {
                s: rep('bytes', 2),
                i: packed('int64', 3),
                f: packed('float', 4),
                b: packed('bool', 5),
                type: packed('DataType', 6),
                shape: rep('TensorShapeProto', 7),
                tensor: rep('TensorProto', 8),
              },
            },
          },
        },
        // node_def.proto (subset)
        NodeDef: {
          fields: {
            name: f('string', 1),
            op: f('string', 2),
            input: rep('string', 3),
            device: f('string', 4),
            attr: map('string', 'AttrValue', 5),
          },
        },
        // versions.proto
        VersionDef: {
          fields: { producer: f('int32', 1), min_consumer: f('int32', 2), bad_consumers: packed('int32', 3) },
        },
        // graph.proto (subset: no function library / debug info)
        GraphDef: {
          fields: { node: rep('NodeDef', 1), versions: f('VersionDef', 4) },
        },
        hparams: {
          nested: {
            // api.proto (subset)
            DataType: { values: { DATA_TYPE_UNSET: 0, DATA_TYPE_STRING: 1, DATA_TYPE_BOOL: 2, DATA_TYPE_FLOAT64: 3 } },
            DatasetType: { values: { DATASET_UNKNOWN: 0, DATASET_TRAINING: 1, DATASET_VALIDATION: 2 } },
            Status: { values: { STATUS_UNKNOWN: 0, STATUS_SUCCESS: 1, STATUS_FAILURE: 2, STATUS_RUNNING: 3 } },
            Interval: { fields: { min_value: f('double', 1), max_value: f('double', 2) } },
            HParamInfo: {
              oneofs: { domain: { oneof: ['domain_discrete', 'domain_interval'] } },
              fields: {
                name: f('string', 1),
                display_name: f('string', 2),
                description: f('string', 3),
                type: f('DataType', 4),
                domain_discrete: f('google.protobuf.ListValue', 5),
                domain_interval: f('Interval', 6),
                differs: f('bool', 7),
              },
            },
            MetricName: { fields: { group: f('string', 1), tag: f('string', 2) } },
            MetricInfo: {
              fields: {
                name: f('MetricName', 1),
                display_name: f('string', 3),
                description: f('string', 4),
                dataset_type: f('DatasetType', 5),
              },
            },
            Experiment: {
              fields: {
                name: f('string', 6),
                description: f('string', 1),
                user: f('string', 2),
                time_created_secs: f('double', 3),
                hparam_infos: rep('HParamInfo', 4),
                metric_infos: rep('MetricInfo', 5),
              },
            },
            // plugin_data.proto
            HParamsPluginData: {
              oneofs: { data: { oneof: ['experiment', 'session_start_info', 'session_end_info'] } },
              fields: {
                version: f('int32', 1),
                experiment: f('Experiment', 2),
                session_start_info: f('SessionStartInfo', 3),
                session_end_info: f('SessionEndInfo', 4),
              },
            },
            SessionStartInfo: {
              fields: {
                hparams: map('string', 'google.protobuf.Value', 1),
                model_uri: f('string', 2),
                monitor_url: f('string', 3),
                group_name: f('string', 4),
                start_time_secs: f('double', 5),
              },
            },
            SessionEndInfo: { fields: { status: f('Status', 1), end_time_secs: f('double', 2) } },
          },
        },
      },
    },
    google: {
      nested: {
        protobuf: {
          nested: {
            // struct.proto
            NullValue: { values: { NULL_VALUE: 0 } },
            Struct: { fields: { fields: map('string', 'Value', 1) } },
            Value: {
              oneofs: {
                kind: { oneof: ['null_value', 'number_value', 'string_value', 'bool_value', 'struct_value', 'list_value'] },
              },
              fields: {
                null_value: f('NullValue', 1),
                number_value: f('double', 2),
                string_value: f('string', 3),
                bool_value: f('bool', 4),
                struct_value: f('Struct', 5),
                list_value: f('ListValue', 6),
              },
            },
            ListValue: { fields: { values: rep('Value', 1) } },
          },
        },
      },
    },
  },
};

/** All the messages above live in proto3 files; mark every top-level message so protobufjs applies proto3 rules. */
function withProto3Edition(ns: NamespaceJson | TypeJson | EnumJson): void {
  if ('values' in ns) return;
  if ('fields' in ns) {
    (ns as TypeJson).edition = 'proto3';
    return;
  }
  for (const child of Object.values(ns.nested)) withProto3Edition(child);
}
withProto3Edition(DESCRIPTOR);

/** The protobufjs root holding every message type of the descriptor above (exported for tests and tooling). */
export const protoRoot: protobuf.Root = protobuf.Root.fromJSON(DESCRIPTOR as unknown as protobuf.INamespace);

// ---- numeric enum values (mirroring the .proto enums) ------------------------------------------------

export const DataType = {
  DT_FLOAT: 1,
  DT_DOUBLE: 2,
  DT_INT32: 3,
  DT_UINT8: 4,
  DT_INT16: 5,
  DT_INT8: 6,
  DT_STRING: 7,
  DT_INT64: 9,
  DT_BOOL: 10,
} as const;
export type DataTypeValue = (typeof DataType)[keyof typeof DataType];

export const DataClass = { UNKNOWN: 0, SCALAR: 1, TENSOR: 2, BLOB_SEQUENCE: 3 } as const;
export const HParamDataType = { UNSET: 0, STRING: 1, BOOL: 2, FLOAT64: 3 } as const;
export const DatasetType = { UNKNOWN: 0, TRAINING: 1, VALIDATION: 2 } as const;
export const SessionStatus = { UNKNOWN: 0, SUCCESS: 1, FAILURE: 2, RUNNING: 3 } as const;

// ---- plain-object shapes accepted by the encoders (snake_case, as in the .proto files) ----------------

export interface TensorShapeData {
  dim?: Array<{ size: number; name?: string }>;
  unknown_rank?: boolean;
}

export interface TensorData {
  dtype: number;
  tensor_shape?: TensorShapeData;
  version_number?: number;
  tensor_content?: Uint8Array;
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  string_val?: Uint8Array[];
  int64_val?: number[];
  bool_val?: boolean[];
}

export interface HistogramData {
  min: number;
  max: number;
  num: number;
  sum: number;
  sum_squares: number;
  bucket_limit: number[];
  bucket: number[];
}

export interface SummaryMetadataData {
  plugin_data?: { plugin_name: string; content?: Uint8Array };
  display_name?: string;
  summary_description?: string;
  data_class?: number;
}

/** Summary.Value: set exactly one of simple_value / histo / tensor. */
export interface SummaryValueData {
  tag: string;
  node_name?: string;
  metadata?: SummaryMetadataData;
  simple_value?: number;
  histo?: HistogramData;
  tensor?: TensorData;
}

export interface SummaryData {
  value: SummaryValueData[];
}

/** Event: set exactly one of file_version / graph_def / summary. */
export interface EventData {
  wall_time: number;
  step?: number;
  file_version?: string;
  graph_def?: Uint8Array;
  summary?: SummaryData;
}

export interface AttrListData {
  s?: Uint8Array[];
  i?: number[];
  f?: number[];
  b?: boolean[];
  type?: number[];
  shape?: TensorShapeData[];
  tensor?: TensorData[];
}

/** AttrValue: set exactly one field. */
export interface AttrValueData {
  s?: Uint8Array;
  i?: number;
  f?: number;
  b?: boolean;
  type?: number;
  shape?: TensorShapeData;
  tensor?: TensorData;
  list?: AttrListData;
  placeholder?: string;
}

export interface NodeDefData {
  name: string;
  op: string;
  input?: string[];
  device?: string;
  attr?: Record<string, AttrValueData>;
}

export interface GraphDefData {
  node: NodeDefData[];
  versions?: { producer: number; min_consumer?: number };
}

/** google.protobuf.Value: set exactly one field. */
export interface ProtoValueData {
  null_value?: 0;
  number_value?: number;
  string_value?: string;
  bool_value?: boolean;
  list_value?: { values: ProtoValueData[] };
}

export interface HParamInfoData {
  name: string;
  display_name?: string;
  description?: string;
  type?: number;
  domain_discrete?: { values: ProtoValueData[] };
  domain_interval?: { min_value: number; max_value: number };
  differs?: boolean;
}

export interface MetricInfoData {
  name: { group?: string; tag: string };
  display_name?: string;
  description?: string;
  dataset_type?: number;
}

export interface ExperimentData {
  name?: string;
  description?: string;
  user?: string;
  time_created_secs?: number;
  hparam_infos: HParamInfoData[];
  metric_infos: MetricInfoData[];
}

export interface SessionStartInfoData {
  hparams: Record<string, ProtoValueData>;
  model_uri?: string;
  monitor_url?: string;
  group_name?: string;
  start_time_secs?: number;
}

export interface SessionEndInfoData {
  status: number;
  end_time_secs?: number;
}

export interface HParamsPluginDataData {
  version: number;
  experiment?: ExperimentData;
  session_start_info?: SessionStartInfoData;
  session_end_info?: SessionEndInfoData;
}

// ---- encoders ---------------------------------------------------------------------------------------

const EventType = protoRoot.lookupType('tensorboard.Event');
const GraphDefType = protoRoot.lookupType('tensorboard.GraphDef');
const HParamsPluginDataType = protoRoot.lookupType('tensorboard.hparams.HParamsPluginData');

function encodeWith(type: protobuf.Type, message: object): Buffer {
  const err = type.verify(message);
  if (err) throw new TypeError(`invalid ${type.fullName.slice(1)}: ${err}`);
  const bytes = type.encode(message as Record<string, unknown>).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeEvent(event: EventData): Buffer {
  return encodeWith(EventType, event);
}

export function encodeGraphDef(graph: GraphDefData): Buffer {
  return encodeWith(GraphDefType, graph);
}

export function encodeHParamsPluginData(data: HParamsPluginDataData): Buffer {
  return encodeWith(HParamsPluginDataType, data);
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: false };

/** Decodes one serialized Event into a plain object (int64 as number, bytes as Buffer). */
export function decodeEvent(bytes: Uint8Array): EventData {
  return EventType.toObject(EventType.decode(bytes), TO_OBJECT) as EventData;
}

export function decodeGraphDef(bytes: Uint8Array): GraphDefData {
  return GraphDefType.toObject(GraphDefType.decode(bytes), TO_OBJECT) as GraphDefData;
}

export function decodeHParamsPluginData(bytes: Uint8Array): HParamsPluginDataData {
  return HParamsPluginDataType.toObject(HParamsPluginDataType.decode(bytes), TO_OBJECT) as HParamsPluginDataData;
}
