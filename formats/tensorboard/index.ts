// TensorBoard event-file writing: pure functions and an in-memory writer producing bytes; the caller
// decides where they go. See naming.ts for how a trial's files are named and rotated on S3.
export { crc32c, maskCrc, unmaskCrc, maskedCrc32c } from './crc32c';
export { encodeRecord, decodeRecords, TFRecordError } from './tfrecord';
export { computeHistogram, defaultBucketLimits, type HistogramBucketing } from './histogram';
export { attr, buildGraphDef, classifierHeadGraph, type ClassifierHeadOptions, type NodeSpec, type Shape } from './graph';
export {
  EXPERIMENT_TAG,
  SESSION_START_INFO_TAG,
  SESSION_END_INFO_TAG,
  HPARAMS_PLUGIN_NAME,
  hparamSpecsFromGrid,
  hparamsExperimentSummary,
  hparamsSessionStartSummary,
  hparamsSessionEndSummary,
  type ExperimentSpec,
  type HParamSpec,
  type HParamType,
  type HParamValue,
  type MetricSpec,
  type SessionEndSpec,
  type SessionStartSpec,
  type SessionStatusName,
} from './hparams';
export {
  EVENT_FILE_PREFIX,
  EventFileSeries,
  MAX_SEQUENCE,
  eventFileName,
  parseEventFileName,
  sanitizeHost,
  type ParsedEventFileName,
} from './naming';
export { EventFileWriter, FILE_VERSION, type EventFileWriterOptions, type HistogramOptions } from './writer';
export { readEventFile } from './reader';
export {
  DataType,
  decodeEvent,
  decodeGraphDef,
  decodeHParamsPluginData,
  encodeEvent,
  encodeGraphDef,
  protoRoot,
  type EventData,
  type GraphDefData,
  type HistogramData,
  type SummaryData,
  type SummaryValueData,
} from './proto';
