// TensorBoard event-file writer: CRC/framing/proto unit checks, plus end-to-end checks against the
// `tensorboard` PyPI package's own readers (test/python/read_events.py). Those are skipped, with a
// message, when `python3 -c "import tensorboard"` fails; CI installs it with `pip install tensorboard`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import { defaultBucketIndex, upperBound } from '../../formats/tensorboard/histogram';
import { randomStream } from '../../lib/random';
import { stackDir } from '../../platform/config';
import {
  EventFileSeries,
  EventFileWriter,
  FILE_VERSION,
  TFRecordError,
  buildGraphDef,
  classifierHeadGraph,
  computeHistogram,
  crc32c,
  decodeGraphDef,
  decodeHParamsPluginData,
  decodeRecords,
  defaultBucketLimits,
  encodeRecord,
  eventFileName,
  hparamSpecsFromGrid,
  hparamsExperimentSummary,
  maskCrc,
  maskedCrc32c,
  parseEventFileName,
  protoRoot,
  readEventFile,
  unmaskCrc,
  type GraphDefData,
  type HistogramData,
} from '../../formats/tensorboard';

// ---- python helper ----------------------------------------------------------------------------------

// The stack's venv (infra/setup.sh) has the pinned tensorboard; any python3 with it works too.
const STACK_PYTHON = join(stackDir(), 'venv', 'bin', 'python');
const PYTHON = process.env.PYTHON ?? (existsSync(STACK_PYTHON) ? STACK_PYTHON : 'python3');
const HELPER = join(__dirname, '..', 'python', 'read_events.py');

function py<T = any>(...args: string[]): T {
  const r = spawnSync(PYTHON, [HELPER, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`read_events.py ${args[0]} failed (${r.status}): ${r.error ?? ''}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const pythonTensorboard: string | null = (() => {
  const r = spawnSync(PYTHON, [HELPER, 'check'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? (JSON.parse(r.stdout) as { tensorboard: string }).tensorboard : null;
})();
const SKIP_PY = `python tensorboard not importable with ${PYTHON} (pip install tensorboard)`;

/** Runs `fn` only when python tensorboard is available; otherwise marks the test skipped. */
function withPython(fn: () => void): (t: { skip(msg: string): void }) => void {
  return (t) => {
    if (!pythonTensorboard) {
      t.skip(SKIP_PY);
      return;
    }
    fn();
  };
}

// ---- CRC32C and framing -----------------------------------------------------------------------------

test('crc32c matches the standard check value and RFC 3720 vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32, 0x00)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i))), 0x113fdb5c);
});

test('masked CRC: rotate + delta, invertible', () => {
  for (const crc of [0, 1, 0xe3069283, 0xffffffff, 0x80000000, 0x12345678]) {
    const m = maskCrc(crc);
    assert.ok(m >= 0 && m <= 0xffffffff);
    assert.equal(unmaskCrc(m), crc);
  }
  assert.equal(maskCrc(0), 0xa282ead8);
  assert.notEqual(maskedCrc32c(Buffer.from('a')), crc32c(Buffer.from('a')));
});

test('TFRecord framing round-trips and detects corruption', () => {
  const payloads = [Buffer.alloc(0), Buffer.from('x'), Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff))];
  const framed = Buffer.concat(payloads.map(encodeRecord));
  assert.equal(framed.length, payloads.reduce((n, p) => n + p.length + 16, 0));
  assert.equal(framed.readBigUInt64LE(0), 0n);
  assert.deepEqual(decodeRecords(framed), payloads);

  const badData = Buffer.from(framed);
  badData[16 + 12] ^= 1; // the 'x' payload
  assert.throws(() => decodeRecords(badData), (e: unknown) => e instanceof TFRecordError && /data CRC/.test(e.message));
  const badLen = Buffer.from(framed);
  badLen[16] ^= 1; // length field of the second record
  assert.throws(() => decodeRecords(badLen), /length CRC/);
  assert.throws(() => decodeRecords(framed.subarray(0, framed.length - 1)), /truncated/);
  assert.throws(() => decodeRecords(framed.subarray(0, 5)), /truncated/);
});

test('framing is byte-identical to tensorboard RecordWriter', withPython(() => {
  for (const data of [Buffer.alloc(0), Buffer.from('brain.Event:2'), Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff))]) {
    const { framed } = py<{ framed: string }>('frame', data.toString('hex'));
    assert.equal(encodeRecord(data).toString('hex'), framed);
  }
}));

test('readEventFile reads a file written by tensorboard EventFileWriter', withPython(() => {
  const dir = mkdtempSync(join(tmpdir(), 'tb-pywrite-'));
  try {
    const { file } = py<{ file: string }>('write', dir);
    const events = readEventFile(readFileSync(file));
    assert.equal(events[0].file_version, FILE_VERSION);
    const scalars = events.slice(1).map((e) => [e.step ?? 0, e.summary!.value[0].tag, e.summary!.value[0].simple_value]);
    assert.deepEqual(scalars, [0, 1, 2].map((s) => [s, 'py/loss', Math.fround(1 / (s + 1))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}));

// ---- proto descriptor vs. the official protos ---------------------------------------------------------

const PB_TYPE: Record<string, number> = {
  double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8, string: 9, bytes: 12, uint32: 13,
};

interface PyField { number: number; type: number; repeated: boolean; packed?: boolean; type_name?: string; map?: { key_type: number; value: PyField } }

test('every message, field number, type and enum value matches the official protos', withPython(() => {
  const official = py<{ messages: Record<string, { fields: Record<string, PyField>; oneofs: Record<string, string[]> }>; enums: Record<string, Record<string, number>> }>('descriptors');
  let checkedFields = 0;
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const obj of ns.nestedArray) {
      const name = obj.fullName.slice(1);
      if (obj instanceof protobuf.Type) {
        const py = official.messages[name];
        assert.ok(py, `message ${name} not found in the official protos`);
        for (const field of obj.fieldsArray) {
          const where = `${name}.${field.name}`;
          const pf = py.fields[field.name];
          assert.ok(pf, `field ${where} not in the official proto`);
          assert.equal(field.id, pf.number, `field number of ${where}`);
          field.resolve();
          const target = field instanceof protobuf.MapField ? pf.map?.value : pf;
          assert.ok(target, `${where}: map-ness differs`);
          if (field instanceof protobuf.MapField) assert.equal(PB_TYPE[field.keyType], pf.map!.key_type, `${where} key type`);
          else assert.equal(field.repeated, pf.repeated, `${where} repeated`);
          if (field.repeated && pf.packed !== undefined && !['string', 'bytes'].includes(field.type) && !(field.resolvedType instanceof protobuf.Type)) assert.equal(field.packed, pf.packed, `${where} packed`);
          if (field.resolvedType instanceof protobuf.Type) {
            assert.equal(target.type, 11, `${where} is a message`);
            assert.equal(field.resolvedType.fullName.slice(1), target.type_name, `${where} message type`);
          } else if (field.resolvedType instanceof protobuf.Enum) {
            assert.equal(target.type, 14, `${where} is an enum`);
            assert.equal(field.resolvedType.fullName.slice(1), target.type_name, `${where} enum type`);
          } else {
            assert.equal(PB_TYPE[field.type], target.type, `${where} scalar type`);
          }
          checkedFields++;
        }
        for (const oneof of obj.oneofsArray) {
          const official1 = py.oneofs[oneof.name];
          assert.ok(official1, `oneof ${name}.${oneof.name}`);
          for (const member of oneof.oneof) assert.ok(official1.includes(member), `${name}.${member} in oneof ${oneof.name}`);
        }
      } else if (obj instanceof protobuf.Enum) {
        const pe = official.enums[name];
        assert.ok(pe, `enum ${name} not found in the official protos`);
        for (const [k, v] of Object.entries(obj.values)) assert.equal(v, pe[k], `enum value ${name}.${k}`);
      }
      if (obj instanceof protobuf.Namespace || obj instanceof protobuf.Type) visit(obj);
    }
  };
  visit(protoRoot);
  assert.ok(checkedFields > 80, `checked ${checkedFields} fields`);
}));

// ---- histograms -------------------------------------------------------------------------------------

test('default bucket limits follow TF (symmetric, 0 in the middle, ±DBL_MAX ends)', () => {
  const limits = defaultBucketLimits();
  const mid = (limits.length - 1) / 2;
  assert.equal(limits[mid], 0);
  assert.equal(limits[0], -Number.MAX_VALUE);
  assert.equal(limits[limits.length - 1], Number.MAX_VALUE);
  assert.equal(limits[mid + 1], 1e-12);
  for (let i = 1; i < limits.length; i++) assert.ok(limits[i] > limits[i - 1]);
  for (let i = 0; i < limits.length; i++) assert.ok(limits[i] === -limits[limits.length - 1 - i], `limit ${i} mirrored`);
  assert.equal(limits.length, 1551); // 774 limits 1e-12·1.1^k < 1e20, then DBL_MAX; mirrored; plus 0
});

test('the O(1) bucket index equals the binary search, at every limit, beside it and across magnitudes', () => {
  const limits = defaultBucketLimits();
  const random = randomStream('histogram-index');
  const values = [0, -0, 5e-324, -5e-324, 1e-13, -1e-13, 1e300, -1e300];
  for (const limit of limits) values.push(limit, limit * (1 + 1e-15), limit * (1 - 1e-15), Math.fround(limit));
  for (let i = 0; i < 20000; i++) values.push((random() < 0.5 ? -1 : 1) * 10 ** (random() * 70 - 40));
  for (const v of values) assert.equal(defaultBucketIndex(v), upperBound(limits, v), `value ${v}`);
  // The float32 fast path counts exactly as the generic one.
  const floats = Float32Array.from(values);
  assert.deepEqual(computeHistogram(floats), computeHistogram(Array.from(floats)));
});

test('histogram stats and TF buckets', () => {
  const h = computeHistogram(new Float32Array([1, 1, 2, -3, 0, NaN, Infinity]));
  assert.equal(h.num, 5);
  assert.equal(h.min, -3);
  assert.equal(h.max, 2);
  assert.equal(h.sum, 1);
  assert.equal(h.sum_squares, 15);
  assert.equal(h.bucket.reduce((a, b) => a + b, 0), 5);
  assert.equal(h.bucket_limit.length, h.bucket.length);
  // every value lies below its bucket's limit and at or above the previous one
  const limits = defaultBucketLimits();
  for (const v of [1, 2, -3, 0]) {
    const i = h.bucket_limit.findIndex((l) => l > v);
    assert.ok(h.bucket[i] > 0, `value ${v} counted`);
    assert.ok(i === 0 || h.bucket_limit[i - 1] <= v);
  }
  // empty runs are collapsed: no two consecutive empty buckets
  for (let i = 1; i < h.bucket.length; i++) assert.ok(h.bucket[i] > 0 || h.bucket[i - 1] > 0);
  assert.ok(h.bucket.length < limits.length / 10);
  assert.equal(h.bucket_limit[h.bucket_limit.length - 1], Number.MAX_VALUE);
});

test('histogram with equal-width buckets, constant and empty inputs', () => {
  const h = computeHistogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 10], 5);
  assert.deepEqual(h.bucket_limit, [2, 4, 6, 8, 10]);
  assert.deepEqual(h.bucket, [2, 2, 2, 2, 2]);
  assert.deepEqual(computeHistogram([3, 3, 3], 5).bucket, [3]);
  const empty = computeHistogram([NaN]);
  assert.equal(empty.num, 0);
  assert.deepEqual(empty.bucket, []);
  assert.throws(() => computeHistogram([1], 0), RangeError);
});

// ---- names and rotation -----------------------------------------------------------------------------

test('eventFileName follows the TensorBoard convention and sorts by sequence', () => {
  assert.equal(eventFileName(1700000000.9, 'worker-1', 3), 'events.out.tfevents.1700000000.worker-1.00000003');
  assert.equal(eventFileName(5, 'host.example.com', 0), 'events.out.tfevents.0000000005.host.example.com.00000000');
  assert.equal(eventFileName(5, 'a/b c', 0), 'events.out.tfevents.0000000005.a_b_c.00000000');
  const names = [12, 2, 100, 0, 99999999, 9].map((s) => eventFileName(1700000000, 'h', s));
  assert.deepEqual([...names].sort(), [0, 2, 9, 12, 100, 99999999].map((s) => eventFileName(1700000000, 'h', s)));
  assert.deepEqual(parseEventFileName('runs/t1/' + eventFileName(1700000000, 'host.example.com', 42)), {
    timestamp: 1700000000,
    host: 'host.example.com',
    sequence: 42,
  });
  assert.equal(parseEventFileName('events.out.tfevents.1700000000.host.123.v2'), null);
  assert.throws(() => eventFileName(1, 'h', -1), RangeError);
  assert.throws(() => eventFileName(1, 'h', 1.5), RangeError);
  assert.throws(() => eventFileName(1, 'h', 1e8), RangeError);
  assert.throws(() => eventFileName(-1, 'h', 0), RangeError);
  assert.throws(() => eventFileName(1, '..', 0), /unusable host/);
});

test('EventFileSeries: stable names per epoch, header first, footer last, stale files', () => {
  const s = new EventFileSeries(1700000000.5, 'trial-7');
  const again = new EventFileSeries(1700000000, 'trial-7'); // same durable inputs after a resume
  assert.equal(s.epochName(4), again.epochName(4));
  const names = [s.footerName(), s.epochName(10), s.epochName(2), s.headerName(), s.epochName(0)];
  assert.deepEqual([...names].sort(), [s.headerName(), s.epochName(0), s.epochName(2), s.epochName(10), s.footerName()]);
  const other = new EventFileSeries(1700000000, 'trial-8');
  const listing = [s.headerName(), ...[0, 1, 2, 3, 4, 5].map((e) => `tb/t7/${s.epochName(e)}`), s.footerName(), other.epochName(9), 'notes.txt'];
  assert.deepEqual(s.staleEpochFiles(listing, 3), [`tb/t7/${s.epochName(4)}`, `tb/t7/${s.epochName(5)}`]);
  assert.deepEqual(s.staleEpochFiles(listing, 5), []);
  assert.ok(s.owns(s.footerName()) && !s.owns(other.headerName()));
});

// ---- writer -----------------------------------------------------------------------------------------

test('EventFileWriter: every drained file starts with file_version, deterministic bytes', () => {
  const make = () => {
    const w = new EventFileWriter({ now: () => 123 });
    w.addScalar('loss', 0.5, 1, 100).addScalars({ a: 1, b: 2 }, 2, 101).addHistogram('w', [1, 2, 3], 2, { wallTime: 101 });
    return w;
  };
  const w = make();
  assert.equal(w.pendingEvents, 3);
  const bytes = w.toBytes();
  assert.deepEqual(bytes, make().drain());
  const events = readEventFile(bytes);
  assert.deepEqual(events[0], { wall_time: 100, file_version: FILE_VERSION });
  assert.equal(events[1].summary!.value[0].simple_value, 0.5);
  assert.equal(events[1].step, 1);
  assert.deepEqual(events[2].summary!.value.map((v) => [v.tag, v.simple_value]), [['a', 1], ['b', 2]]);
  assert.equal(events[3].summary!.value[0].histo!.num, 3);

  assert.deepEqual(w.drain(), bytes);
  assert.equal(w.pendingEvents, 0);
  const next = readEventFile(w.addScalar('loss', 0.25, 3).drain());
  assert.deepEqual(next.map((e) => e.file_version ?? e.step), [FILE_VERSION, 3]);
  assert.equal(next[1].wall_time, 123);
  assert.deepEqual(readEventFile(w.drain()), [{ wall_time: 123, file_version: FILE_VERSION }]);
});

test('EventFileWriter validates its inputs', () => {
  const w = new EventFileWriter();
  assert.throws(() => w.addScalar('', 1, 0), TypeError);
  assert.throws(() => w.addScalar('x', 1, -1), RangeError);
  assert.throws(() => w.addScalar('x', 1, 0.5), RangeError);
  assert.throws(() => w.addScalar('x', 1, 0, NaN), RangeError);
  assert.throws(() => w.addGraph({ node: [] }));
  assert.throws(() => w.addEvent({ wall_time: 1, file_version: 'a', summary: { value: [] } }), /invalid tensorboard.Event/);
  assert.equal(w.pendingEvents, 0);
});

test('graph builder: head graph structure, input validation', () => {
  const g = classifierHeadGraph({ featureDim: 1280, hiddenUnits: 256, numClasses: 5, dropoutRate: 0.5, backbone: 'mobilenet_v2' });
  const byName = new Map(g.node.map((n) => [n.name, n]));
  assert.deepEqual(byName.get('log_softmax')!.input, ['dense_2/BiasAdd']);
  assert.deepEqual(byName.get('dense_2/MatMul')!.input, ['dropout', 'dense_2/kernel']);
  assert.deepEqual(byName.get('dropout')!.input, ['relu']);
  assert.deepEqual(byName.get('relu')!.input, ['dense_1/BiasAdd']);
  assert.deepEqual(byName.get('dense_1/MatMul')!.input, ['features', 'dense_1/kernel']);
  const roundTrip = decodeGraphDef(Buffer.from(protoRoot.lookupType('tensorboard.GraphDef').encode(g).finish()));
  assert.deepEqual(roundTrip.node.map((n) => n.op), g.node.map((n) => n.op));
  assert.throws(() => buildGraphDef([{ name: 'a', op: 'Relu', inputs: ['b'] }]), /unknown input b/);
  assert.throws(() => buildGraphDef([{ name: 'a', op: 'X' }, { name: 'a', op: 'Y' }]), /duplicate/);
  assert.doesNotThrow(() => buildGraphDef([{ name: 'a', op: 'X' }, { name: 'b', op: 'Y', inputs: ['a:1', '^a'] }]));
  assert.throws(() => classifierHeadGraph({ featureDim: 0, hiddenUnits: 1, numClasses: 2, dropoutRate: 0 }), RangeError);
});

test('hparams summaries: domains typed, plugin data decodes', () => {
  const specs = hparamSpecsFromGrid({ lr: [0.01, 0.001, 0.01], opt: ['adam'], aug: [true, false] });
  assert.deepEqual(specs[0].values, [0.01, 0.001]);
  const summary = hparamsExperimentSummary({ hparams: specs, metrics: [{ tag: 'val/accuracy', dataset: 'validation' }] });
  const v = summary.value[0];
  assert.equal(v.tag, '_hparams_/experiment');
  assert.equal(v.metadata!.plugin_data!.plugin_name, 'hparams');
  const data = decodeHParamsPluginData(v.metadata!.plugin_data!.content!);
  assert.deepEqual(data.experiment!.hparam_infos.map((h) => h.type), [3, 1, 2]);
  assert.deepEqual(data.experiment!.metric_infos[0], { name: { tag: 'val/accuracy' }, dataset_type: 2 });
  assert.throws(() => hparamsExperimentSummary({ hparams: [{ name: 'x', values: [1, 'a'] }], metrics: [] }), TypeError);
  assert.throws(() => hparamsExperimentSummary({ hparams: [{ name: 'x' }, { name: 'x' }], metrics: [] }), /duplicate/);
});

// ---- end to end: TensorBoard's own readers ------------------------------------------------------------

const BASE = 1_700_000_000;
const HEAD = { featureDim: 64, hiddenUnits: 16, numClasses: 3, dropoutRate: 0.25, backbone: 'mobilenet_v2' };

interface TrialPlan {
  run: string;
  hparams: { lr: number; optimizer: string; augment: boolean };
  epochs: number;
}

const metricsAt = (trial: number, epoch: number, attempt: number) => ({
  'train/loss': 2 / (epoch + 1) + attempt * 0.125,
  'val/loss': 2.5 / (epoch + 1) + attempt * 0.125,
  'val/accuracy': 0.4 + 0.05 * epoch + 0.01 * trial - attempt * 0.03125,
});
const weightsAt = (trial: number, epoch: number) =>
  Float32Array.from({ length: 500 }, (_, k) => Math.sin(k * 0.37 + trial) * (1 + epoch * 0.5));

const STOPPED_TEXT = '**stopped early**: stopped at epoch 3 by ASHA rung 1 — ünïcode kept';

test('end to end: TensorBoard reads scalars, histograms, graph, hparams and text of a rotated run dir', withPython(() => {
  const logdir = mkdtempSync(join(tmpdir(), 'tb-e2e-'));
  try {
    const trials: TrialPlan[] = [
      { run: 'trial-000', hparams: { lr: 0.001, optimizer: 'adam', augment: true }, epochs: 4 },
      { run: 'trial-001', hparams: { lr: 0.01, optimizer: 'sgd', augment: false }, epochs: 3 },
    ];
    const put = (run: string, name: string, bytes: Buffer) => {
      mkdirSync(join(logdir, run), { recursive: true });
      writeFileSync(join(logdir, run, name), bytes); // stands in for an S3 PUT (replaces)
    };

    // sweep-level experiment, in the root run
    const root = new EventFileWriter();
    root.addHParamsExperiment(
      {
        hparams: [
          { name: 'lr', values: [0.001, 0.01], description: 'learning rate' },
          { name: 'optimizer', values: ['adam', 'sgd'] },
          { name: 'augment', values: [true, false] },
          { name: 'dropout', interval: { min: 0, max: 0.9 } },
        ],
        metrics: [
          { tag: 'val/accuracy', dataset: 'validation', displayName: 'val acc' },
          { tag: 'val/loss', dataset: 'validation' },
          { tag: 'train/loss', dataset: 'training' },
        ],
        name: 'e2e sweep',
        timeCreatedSecs: BASE,
      },
      BASE,
    );
    put('.', eventFileName(BASE, 'sweep', 0), root.drain());

    const expectedScalars: Record<string, Record<string, Array<[number, number]>>> = {};
    const expectedHistos: Record<string, HistogramData[]> = {};
    let graph: GraphDefData | undefined;

    trials.forEach((trial, ti) => {
      const start = BASE + 100 * (ti + 1);
      const series = new EventFileSeries(start, trial.run);
      const w = new EventFileWriter({ now: () => start });
      graph = classifierHeadGraph(HEAD);
      w.addHParamsSessionStart({ hparams: trial.hparams, startTimeSecs: start }).addGraph(graph);
      put(trial.run, series.headerName(), w.drain());

      const writeEpoch = (epoch: number, attempt: number) => {
        const t = start + epoch * 10 + attempt;
        w.addScalars(metricsAt(ti, epoch, attempt), epoch, t);
        w.addHistogram('dense_1/kernel', weightsAt(ti, epoch), epoch, { wallTime: t });
        put(trial.run, series.epochName(epoch), w.drain());
      };
      for (let e = 1; e <= trial.epochs; e++) writeEpoch(e, 0);
      let attempt = 0;
      let lastEpoch = trial.epochs;
      if (ti === 0) {
        // attempt 0 crashed after uploading epoch 4 (and a failure status); attempt 1 resumes from the
        // epoch-1 checkpoint, re-trains epochs 2..3 (different values) and stops early after epoch 3.
        w.addHParamsSessionEnd({ status: 'failure', endTimeSecs: start + 45 });
        put(trial.run, series.footerName(), w.drain());
        attempt = 1;
        lastEpoch = 3;
        for (let e = 2; e <= lastEpoch; e++) writeEpoch(e, attempt);
        for (const stale of series.staleEpochFiles(readdirSync(join(logdir, trial.run)), lastEpoch)) unlinkSync(join(logdir, trial.run, stale));
      }
      w.addHParamsSessionEnd({ status: 'success', endTimeSecs: start + 99 });
      if (ti === 0) w.addText('trial/outcome', STOPPED_TEXT, lastEpoch, start + 99);
      put(trial.run, series.footerName(), w.drain());

      const scalars: Record<string, Array<[number, number]>> = {};
      for (let e = 1; e <= lastEpoch; e++) {
        const m = metricsAt(ti, e, ti === 0 && e >= 2 ? attempt : 0);
        for (const [tag, v] of Object.entries(m)) (scalars[tag] ??= []).push([e, Math.fround(v)]);
      }
      expectedScalars[trial.run] = scalars;
      expectedHistos[trial.run] = Array.from({ length: lastEpoch }, (_, i) => computeHistogram(weightsAt(ti, i + 1)));
    });

    const found = py('read', logdir);

    assert.deepEqual(found.plugin_runs, ['.', 'trial-000', 'trial-001']);
    for (const p of ['graphs', 'histograms', 'hparams', 'scalars', 'text']) assert.ok(found.active_plugins.includes(p), `plugin ${p} active`);

    for (const [run, info] of Object.entries<any>(found.runs)) {
      for (const f of info.files) {
        assert.equal(f.first, 'file_version', `${run}/${f.name} starts with file_version`);
        assert.equal(f.file_version, 'brain.Event:2');
      }
    }
    assert.deepEqual(found.runs['trial-000'].files.map((f: any) => f.name), [
      eventFileName(BASE + 100, 'trial-000', 0),
      eventFileName(BASE + 100, 'trial-000', 2),
      eventFileName(BASE + 100, 'trial-000', 3),
      eventFileName(BASE + 100, 'trial-000', 4),
      eventFileName(BASE + 100, 'trial-000', 99999999),
    ]);

    for (const trial of trials) {
      const run = found.runs[trial.run];
      // scalars: each step exactly once, the last attempt's values (legacy reader and plugin path)
      const legacy: Record<string, Array<[number, number]>> = {};
      for (const [tag, points] of Object.entries<number[][]>(run.scalars)) legacy[tag] = points.map(([s, v]) => [s, v]);
      assert.deepEqual(legacy, expectedScalars[trial.run], `${trial.run} scalars`);
      assert.deepEqual(found.plugin_scalars[trial.run], expectedScalars[trial.run], `${trial.run} plugin scalars`);

      // histograms: the raw HistogramProto fields TensorBoard read back, and the converted buckets
      const histos = run.histograms['dense_1/kernel'];
      assert.deepEqual(histos.map((h: any) => h.step), expectedHistos[trial.run].map((_, i) => i + 1));
      histos.forEach((h: any, i: number) => {
        const { step: _step, ...fields } = h;
        assert.deepEqual(fields, expectedHistos[trial.run][i], `${trial.run} histogram step ${i + 1}`);
      });
      for (const h of found.plugin_histograms[trial.run]['dense_1/kernel']) {
        const buckets: number[][] = h.buckets;
        assert.equal(buckets.reduce((n, b) => n + b[2], 0), 500);
        for (const [left, right] of buckets) assert.ok(left <= right);
      }

      // graph
      assert.equal(run.has_graph, true);
      assert.deepEqual(
        run.graph.map((n: any) => [n.name, n.op, n.input]),
        graph!.node.map((n) => [n.name, n.op, n.input]),
      );
      assert.ok(run.graph.find((n: any) => n.name === 'relu').attr.includes('_output_shapes'));

      // hparams session
      const hp = found.hparams[trial.run];
      assert.deepEqual(hp['_hparams_/session_start_info'].hparams, trial.hparams);
      assert.deepEqual(hp['_hparams_/session_end_info'].status, 'STATUS_SUCCESS');
    }
    // text: how a trial that stopped early ended, which HParams' status cannot say
    assert.deepEqual(found.plugin_text, { 'trial-000': { 'trial/outcome': [[3, STOPPED_TEXT]] } });
    assert.equal(found.runs['.'].has_graph, false);
    const exp = found.hparams['.']['_hparams_/experiment'];
    assert.equal(exp.name, 'e2e sweep');
    assert.deepEqual(exp.hparam_infos.map((h: any) => [h.name, h.type]), [
      ['lr', 'DATA_TYPE_FLOAT64'],
      ['optimizer', 'DATA_TYPE_STRING'],
      ['augment', 'DATA_TYPE_BOOL'],
      ['dropout', 'DATA_TYPE_FLOAT64'],
    ]);
    assert.deepEqual(exp.hparam_infos[0].domain_discrete, [0.001, 0.01]);
    assert.deepEqual(exp.hparam_infos[3].domain_interval, { max_value: 0.9 });
    assert.deepEqual(exp.metric_infos.map((m: any) => [m.name.tag, m.dataset_type]), [
      ['val/accuracy', 'DATASET_VALIDATION'],
      ['val/loss', 'DATASET_VALIDATION'],
      ['train/loss', 'DATASET_TRAINING'],
    ]);
  } finally {
    // TB_E2E_KEEP=1 keeps the log directory, to look at it with `tensorboard --logdir <dir>`.
    if (process.env.TB_E2E_KEEP) console.log(`kept TensorBoard log directory ${logdir}`);
    else rmSync(logdir, { recursive: true, force: true });
  }
}));
