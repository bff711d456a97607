// Builds the bytes of TensorBoard event files in memory. No I/O: the caller stores what drain() returns
// (as one S3 object per flush; see naming.ts for names and the resume story).
import { computeHistogram, type HistogramBucketing } from './histogram';
import {
  hparamsExperimentSummary,
  hparamsSessionEndSummary,
  hparamsSessionStartSummary,
  type ExperimentSpec,
  type SessionEndSpec,
  type SessionStartSpec,
} from './hparams';
import { DataType, encodeEvent, encodeGraphDef, type EventData, type GraphDefData, type SummaryData } from './proto';
import { encodeRecord } from './tfrecord';

export const FILE_VERSION = 'brain.Event:2';

export interface EventFileWriterOptions {
  /** Clock for events added without an explicit wall time, in seconds. Default: Date.now() / 1000. */
  now?: () => number;
}

export interface HistogramOptions {
  /** 'tf' (default): TensorFlow's exponential buckets; a number: that many equal-width buckets. */
  buckets?: HistogramBucketing;
  wallTime?: number;
}

function checkTag(tag: string): void {
  if (typeof tag !== 'string' || tag.length === 0) throw new TypeError(`summary tag must be a non-empty string, got ${JSON.stringify(tag)}`);
}

function checkStep(step: number): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`step must be a non-negative integer, got ${step}`);
}

/**
 * Accumulates events and hands them out as complete event files. Every call of toBytes()/drain()
 * returns a self-contained file: a `file_version: "brain.Event:2"` record first (TensorBoard expects it
 * at the head of each file), then the pending events in the order they were added.
 *
 * Output is deterministic when wall times are given explicitly (the file_version record takes the first
 * event's wall time), so re-writing an epoch from the same inputs yields the same bytes.
 */
export class EventFileWriter {
  private readonly now: () => number;
  private records: Buffer[] = [];
  private firstWallTime: number | undefined;

  constructor(options: EventFileWriterOptions = {}) {
    this.now = options.now ?? (() => Date.now() / 1000);
  }

  /** Number of events waiting for the next drain() (the file_version record not counted). */
  get pendingEvents(): number {
    return this.records.length;
  }

  /** Adds a raw Event (with wall_time and step filled in by the caller). */
  addEvent(event: EventData): this {
    if (!Number.isFinite(event.wall_time)) throw new RangeError(`wall_time must be finite, got ${event.wall_time}`);
    if (event.step !== undefined) checkStep(event.step);
    this.records.push(encodeRecord(encodeEvent(event)));
    this.firstWallTime ??= event.wall_time;
    return this;
  }

  /** Adds one Event carrying `summary` (any number of values) at `step`. */
  addSummary(summary: SummaryData, step: number, wallTime?: number): this {
    for (const v of summary.value) checkTag(v.tag);
    return this.addEvent({ wall_time: wallTime ?? this.now(), step, summary });
  }

  /** A scalar (stored as float32 simple_value, like tf.summary.scalar). NaN/±Infinity are kept as such. */
  addScalar(tag: string, value: number, step: number, wallTime?: number): this {
    if (typeof value !== 'number') throw new TypeError(`scalar ${tag}: value must be a number`);
    return this.addSummary({ value: [{ tag, simple_value: value }] }, step, wallTime);
  }

  /** Several scalars at the same step, in one Event. */
  addScalars(values: Readonly<Record<string, number>>, step: number, wallTime?: number): this {
    const entries = Object.entries(values);
    if (entries.length === 0) return this;
    for (const [tag, value] of entries) if (typeof value !== 'number') throw new TypeError(`scalar ${tag}: value must be a number`);
    return this.addSummary({ value: entries.map(([tag, value]) => ({ tag, simple_value: value })) }, step, wallTime);
  }

  /**
   * Markdown text (TensorBoard's Text tab), as tf.summary.text writes it: a scalar DT_STRING tensor
   * under the "text" plugin.
   */
  addText(tag: string, markdown: string, step: number, wallTime?: number): this {
    const tensor = { dtype: DataType.DT_STRING, tensor_shape: {}, string_val: [Buffer.from(markdown, 'utf8')] };
    return this.addSummary({ value: [{ tag, tensor, metadata: { plugin_data: { plugin_name: 'text' } } }] }, step, wallTime);
  }

  /** A histogram of `values` (e.g. a layer's weights); non-finite values are left out. */
  addHistogram(tag: string, values: ArrayLike<number>, step: number, options: HistogramOptions = {}): this {
    const histo = computeHistogram(values, options.buckets ?? 'tf');
    return this.addSummary({ value: [{ tag, histo }] }, step, options.wallTime);
  }

  /** The run's graph (Graphs tab). One per run is what TensorBoard expects; put it in the header file. */
  addGraph(graph: GraphDefData, wallTime?: number): this {
    if (!graph.node.length) throw new Error('graph has no nodes');
    return this.addEvent({ wall_time: wallTime ?? this.now(), step: 0, graph_def: encodeGraphDef(graph) });
  }

  /**
   * The sweep-level HParams experiment (hparam domains and metrics). Write it once per sweep, into an
   * event file in the log directory's root (the "." run), not into each trial's run.
   */
  addHParamsExperiment(spec: ExperimentSpec, wallTime?: number): this {
    return this.addSummary(hparamsExperimentSummary(spec), 0, wallTime);
  }

  /** A trial's hparam values: makes its run a session in the HParams tab. Put it in the header file. */
  addHParamsSessionStart(spec: SessionStartSpec, wallTime?: number): this {
    return this.addSummary(hparamsSessionStartSummary(spec), 0, wallTime);
  }

  /** A trial's final status. Put it in the footer file, so rewriting it replaces an earlier status. */
  addHParamsSessionEnd(spec: SessionEndSpec, wallTime?: number): this {
    return this.addSummary(hparamsSessionEndSummary(spec), 0, wallTime);
  }

  /** The event file for everything added since the last drain(), without clearing it. */
  toBytes(): Buffer {
    const wallTime = this.firstWallTime ?? this.now();
    const header = encodeRecord(encodeEvent({ wall_time: wallTime, file_version: FILE_VERSION }));
    return Buffer.concat([header, ...this.records]);
  }

  /** toBytes(), then forgets the pending events: the next drain() starts a new file. */
  drain(): Buffer {
    const bytes = this.toBytes();
    this.records = [];
    this.firstWallTime = undefined;
    return bytes;
  }
}
