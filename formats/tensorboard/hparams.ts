// Summaries for TensorBoard's HParams plugin (plugin_name "hparams"), equivalent to what
// tensorboard/plugins/hparams/summary_v2.py writes (plus data_class TENSOR, which TensorBoard would
// otherwise fill in itself when loading):
//  - one experiment summary (tag "_hparams_/experiment") declaring hparams (with domains) and metrics;
//    written once per sweep, conventionally into the log directory's root run;
//  - per trial run: "_hparams_/session_start_info" with the trial's hparam values, and
//    "_hparams_/session_end_info" with its status.
// Each is a Summary.Value whose metadata.plugin_data.content is a serialized HParamsPluginData
// (version 0) and whose tensor is an empty DT_FLOAT vector, the plugin's NULL_TENSOR.
// The plugin matches metrics to sessions by scalar tag: a metric {tag: "val/accuracy", group: ""} is
// read from the session run itself; group "validation" would mean the sub-run "<session>/validation".
import {
  DataClass,
  DataType,
  DatasetType,
  HParamDataType,
  SessionStatus,
  encodeHParamsPluginData,
  type HParamInfoData,
  type HParamsPluginDataData,
  type MetricInfoData,
  type ProtoValueData,
  type SummaryData,
} from './proto';

export const HPARAMS_PLUGIN_NAME = 'hparams';
export const HPARAMS_PLUGIN_DATA_VERSION = 0;
export const EXPERIMENT_TAG = '_hparams_/experiment';
export const SESSION_START_INFO_TAG = '_hparams_/session_start_info';
export const SESSION_END_INFO_TAG = '_hparams_/session_end_info';

export type HParamValue = number | string | boolean;
export type HParamType = 'float' | 'string' | 'bool';

export interface HParamSpec {
  name: string;
  displayName?: string;
  description?: string;
  /** Inferred from `values` when omitted. */
  type?: HParamType;
  /** Discrete domain (the values a sweep grid takes). */
  values?: readonly HParamValue[];
  /** Continuous domain (float hparams only); ignored when `values` is given. */
  interval?: { min: number; max: number };
}

export interface MetricSpec {
  /** Scalar tag, as passed to addScalar. */
  tag: string;
  /** Sub-run of the session run holding the scalar; "" (default) is the session run itself. */
  group?: string;
  displayName?: string;
  description?: string;
  dataset?: 'training' | 'validation';
}

export interface ExperimentSpec {
  hparams: readonly HParamSpec[];
  metrics: readonly MetricSpec[];
  name?: string;
  description?: string;
  user?: string;
  timeCreatedSecs?: number;
}

export interface SessionStartSpec {
  hparams: Readonly<Record<string, HParamValue>>;
  /** Sessions with the same group name are aggregated together (e.g. repeats of one config). */
  groupName?: string;
  modelUri?: string;
  monitorUrl?: string;
  startTimeSecs?: number;
}

export type SessionStatusName = 'unknown' | 'success' | 'failure' | 'running';

export interface SessionEndSpec {
  status: SessionStatusName;
  endTimeSecs?: number;
}

function typeOf(v: HParamValue): HParamType {
  return typeof v === 'number' ? 'float' : typeof v === 'boolean' ? 'bool' : 'string';
}

const TYPE_ENUM: Record<HParamType, number> = { float: HParamDataType.FLOAT64, string: HParamDataType.STRING, bool: HParamDataType.BOOL };

function protoValue(v: HParamValue, what: string): ProtoValueData {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`${what}: hparam values must be finite, got ${v}`);
    return { number_value: v };
  }
  if (typeof v === 'boolean') return { bool_value: v };
  if (typeof v === 'string') return { string_value: v };
  throw new TypeError(`${what}: unsupported hparam value ${JSON.stringify(v)}`);
}

function hparamInfo(spec: HParamSpec): HParamInfoData {
  if (!spec.name) throw new Error('hparam spec without a name');
  const inferred = spec.values?.length ? typeOf(spec.values[0]) : spec.interval ? 'float' : undefined;
  const type = spec.type ?? inferred;
  for (const v of spec.values ?? []) {
    if (typeOf(v) !== type) throw new TypeError(`hparam ${spec.name}: value ${JSON.stringify(v)} is not of type ${type}`);
  }
  const info: HParamInfoData = { name: spec.name };
  if (spec.displayName) info.display_name = spec.displayName;
  if (spec.description) info.description = spec.description;
  if (type) info.type = TYPE_ENUM[type];
  if (spec.values?.length) {
    info.domain_discrete = { values: spec.values.map((v) => protoValue(v, `hparam ${spec.name}`)) };
  } else if (spec.interval) {
    if (type !== 'float') throw new TypeError(`hparam ${spec.name}: an interval domain needs type float`);
    info.domain_interval = { min_value: spec.interval.min, max_value: spec.interval.max };
  }
  return info;
}

function metricInfo(m: MetricSpec): MetricInfoData {
  if (!m.tag) throw new Error('metric spec without a tag');
  const info: MetricInfoData = { name: { group: m.group ?? '', tag: m.tag } };
  if (m.displayName) info.display_name = m.displayName;
  if (m.description) info.description = m.description;
  if (m.dataset) info.dataset_type = m.dataset === 'training' ? DatasetType.TRAINING : DatasetType.VALIDATION;
  return info;
}

/** Discrete hparam specs from a sweep grid ({lr: [0.001, 0.01], optimizer: ['adam', 'sgd']}). */
export function hparamSpecsFromGrid(grid: Readonly<Record<string, readonly HParamValue[]>>): HParamSpec[] {
  return Object.entries(grid).map(([name, values]) => ({ name, values: [...new Set(values)] }));
}

function pluginSummary(tag: string, data: Omit<HParamsPluginDataData, 'version'>): SummaryData {
  const content = encodeHParamsPluginData({ version: HPARAMS_PLUGIN_DATA_VERSION, ...data });
  return {
    value: [
      {
        tag,
        metadata: { plugin_data: { plugin_name: HPARAMS_PLUGIN_NAME, content }, data_class: DataClass.TENSOR },
        tensor: { dtype: DataType.DT_FLOAT, tensor_shape: { dim: [{ size: 0 }] } },
      },
    ],
  };
}

export function hparamsExperimentSummary(spec: ExperimentSpec): SummaryData {
  const names = new Set<string>();
  for (const h of spec.hparams) {
    if (names.has(h.name)) throw new Error(`duplicate hparam ${h.name}`);
    names.add(h.name);
  }
  return pluginSummary(EXPERIMENT_TAG, {
    experiment: {
      ...(spec.name ? { name: spec.name } : {}),
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.user ? { user: spec.user } : {}),
      ...(spec.timeCreatedSecs !== undefined ? { time_created_secs: spec.timeCreatedSecs } : {}),
      hparam_infos: spec.hparams.map(hparamInfo),
      metric_infos: spec.metrics.map(metricInfo),
    },
  });
}

export function hparamsSessionStartSummary(spec: SessionStartSpec): SummaryData {
  const hparams: Record<string, ProtoValueData> = {};
  for (const [k, v] of Object.entries(spec.hparams)) hparams[k] = protoValue(v, `hparam ${k}`);
  return pluginSummary(SESSION_START_INFO_TAG, {
    session_start_info: {
      hparams,
      ...(spec.groupName ? { group_name: spec.groupName } : {}),
      ...(spec.modelUri ? { model_uri: spec.modelUri } : {}),
      ...(spec.monitorUrl ? { monitor_url: spec.monitorUrl } : {}),
      ...(spec.startTimeSecs !== undefined ? { start_time_secs: spec.startTimeSecs } : {}),
    },
  });
}

const STATUS_ENUM: Record<SessionStatusName, number> = {
  unknown: SessionStatus.UNKNOWN,
  success: SessionStatus.SUCCESS,
  failure: SessionStatus.FAILURE,
  running: SessionStatus.RUNNING,
};

export function hparamsSessionEndSummary(spec: SessionEndSpec): SummaryData {
  const status = STATUS_ENUM[spec.status];
  if (status === undefined) throw new Error(`unknown session status ${spec.status}`);
  return pluginSummary(SESSION_END_INFO_TAG, {
    session_end_info: { status, ...(spec.endTimeSecs !== undefined ? { end_time_secs: spec.endTimeSecs } : {}) },
  });
}
