// What a sweep writes for TensorBoard, decoded with our own reader (the integration test reads the real
// thing back with TensorBoard's readers): run names, file contents per epoch, hparams domains.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeHParamsPluginData, parseEventFileName, readEventFile, type HistogramData } from '../../formats/tensorboard';
import {
  HPARAMS_METRICS, OUTCOME_TEXT_TAG, SCALAR_TAGS, epochEventFile, experimentEventFile, hparamSpecs, replayWallTimes, sessionEndEventFile,
  sessionStatus, trialEventSeries, trialHeaderEventFile, trialOutcomeText, trialRunName,
} from '../../formats/tensorboard-layout';

const metrics = (epoch: number) => ({ epoch, trainLoss: 1 / epoch, trainAccuracy: 0.5, valLoss: 2 / epoch, valAccuracy: 0.25, epochDuration: 3, runDuration: 3 * epoch });

test('run names: grid position then every hyperparameter, safe as a folder name, bounded', () => {
  assert.equal(trialRunName(3, { hidden_units: 512, dropout: 0.4 }), 'run-003_hidden_units=512,dropout=0.4');
  assert.equal(trialRunName(12, { optimizer: 'adam/w β', flag: true }), 'run-012_optimizer=adam_w__,flag=true');
  assert.equal(trialRunName(1, {}), 'run-001');
  const long = trialRunName(7, { label: 'x'.repeat(500) });
  assert.equal(long.length, 200);
  assert.ok(long.startsWith('run-007_label=xxx'));
});

test('event file names depend only on the trial id', () => {
  const a = trialEventSeries('abc123');
  assert.equal(a.epochName(3), trialEventSeries('abc123').epochName(3));
  assert.notEqual(a.epochName(3), trialEventSeries('abc124').epochName(3));
  assert.deepEqual(parseEventFileName(a.epochName(3)), { timestamp: 0, host: 'trial-abc123', sequence: 4 });
  assert.ok(a.headerName() < a.epochName(1) && a.epochName(9) < a.epochName(10) && a.epochName(10) < a.footerName());
});

test('an epoch file holds the four scalars and one histogram per tensor, all at step = epoch', () => {
  const kernel = Float32Array.from({ length: 60 }, (_, i) => (i - 30) / 100);
  const events = readEventFile(epochEventFile(metrics(2), [['dense1/kernel', kernel], ['dense1/bias', [0.5, -0.5]]], 1700000000.5));
  assert.equal(events[0].file_version, 'brain.Event:2');
  const summaries = events.slice(1);
  assert.ok(summaries.every((e) => e.step === 2 && e.wall_time === 1700000000.5));
  const scalars = Object.fromEntries(summaries[0].summary!.value.map((v) => [v.tag, v.simple_value]));
  assert.deepEqual(scalars, { [SCALAR_TAGS.trainLoss]: 0.5, [SCALAR_TAGS.trainAccuracy]: 0.5, [SCALAR_TAGS.valLoss]: 1, [SCALAR_TAGS.valAccuracy]: 0.25 });
  const histograms = summaries.slice(1).map((e) => e.summary!.value[0]);
  assert.deepEqual(histograms.map((v) => v.tag), ['dense1/kernel', 'dense1/bias']);
  const histo = histograms[0].histo as HistogramData;
  assert.equal(histo.num, 60);
  assert.equal(histo.min, Math.fround(-0.3));
  assert.equal(histo.bucket.reduce((a, b) => a + b, 0), 60);
  assert.equal(readEventFile(epochEventFile(metrics(1), [], 1)).length, 2, 'without weights: file_version + scalars');
});

test('the header has the head graph and the session start with the trial hyperparameters', () => {
  const events = readEventFile(trialHeaderEventFile({ hidden_units: 16, dropout: 0.4, note: 'a' }, { featureDim: 8, hiddenUnits: 16, numClasses: 4, dropoutRate: 0.4 }, 5));
  assert.ok(events.some((e) => e.graph_def && e.graph_def.length > 0));
  const start = events.find((e) => e.summary?.value[0].tag === '_hparams_/session_start_info')!;
  const data = decodeHParamsPluginData(start.summary!.value[0].metadata!.plugin_data!.content!);
  assert.deepEqual(data.session_start_info!.hparams, { hidden_units: { number_value: 16 }, dropout: { number_value: 0.4 }, note: { string_value: 'a' } });
});

test('the experiment declares every grid key with its values, and the metrics', () => {
  const events = readEventFile(experimentEventFile({ sweepId: 's1', name: 'flowers', grid: { hidden_units: [16, 32], optimizer: ['adam'], mixed: [1, 'x'] } }, 10));
  const content = events[1].summary!.value[0].metadata!.plugin_data!.content!;
  const experiment = decodeHParamsPluginData(content).experiment!;
  assert.deepEqual(experiment.hparam_infos!.map((h) => h.name), ['hidden_units', 'optimizer', 'mixed']);
  assert.equal(experiment.hparam_infos![0].domain_discrete!.values!.length, 2);
  assert.equal(experiment.hparam_infos![2].domain_discrete, undefined, 'mixed types: no domain');
  assert.deepEqual(experiment.metric_infos!.map((m) => m.name!.tag), HPARAMS_METRICS.map((m) => m.tag));
  assert.deepEqual(hparamSpecs({ a: [1, 'x'] }), [{ name: 'a' }]);
});

test("a search's experiment declares its space: ranges as intervals, choices as values, the same whatever was drawn", () => {
  const space = {
    lr: { type: 'loguniform' as const, low: 1e-4, high: 1e-1 },
    hidden_units: { type: 'int' as const, low: 16, high: 256, step: 16 },
    dropout: { type: 'uniform' as const, low: 0, high: 0.7 },
    batch_size: { type: 'choice' as const, values: [32, 64] },
  };
  const drawn = { lr: [0.003], hidden_units: [48], dropout: [0.2], batch_size: [32] };
  const events = readEventFile(experimentEventFile({ sweepId: 's1', name: 'digits', grid: drawn, space }, 10));
  const experiment = decodeHParamsPluginData(events[1].summary!.value[0].metadata!.plugin_data!.content!).experiment!;
  const byName = Object.fromEntries(experiment.hparam_infos!.map((h) => [h.name, h]));
  // proto3 leaves a 0 out of the bytes: it reads back as absent.
  const interval = (name: string) => [byName[name].domain_interval?.min_value ?? 0, byName[name].domain_interval?.max_value];
  assert.deepEqual(interval('lr'), [1e-4, 1e-1]);
  assert.deepEqual(interval('hidden_units'), [16, 256]);
  assert.deepEqual(interval('dropout'), [0, 0.7]);
  assert.equal(byName.batch_size.domain_discrete!.values!.length, 2, 'every value of a choice, not only those drawn');
});

test('statuses and replayed wall times', () => {
  assert.deepEqual(['completed', 'failed', 'cancelled'].map((s) => sessionStatus(s as 'completed')), ['success', 'failure', 'unknown']);
  assert.deepEqual(replayWallTimes([metrics(1), metrics(2), metrics(3)], 100), [94, 97, 100]);
});

test("a trial's outcome text: stopped and failed ones say how they ended, at the step they ended; completed ones say nothing", () => {
  const stopped = { status: 'stopped' as const, epochsDone: 2, stopped: { epoch: 2, rule: 'asha' as const, reason: 'stopped at epoch 2 by ASHA rung 1 (val accuracy 0.4 below the top 1/3)' } };
  assert.deepEqual(trialOutcomeText(stopped), { text: `**stopped early**: ${stopped.stopped.reason} (asha)`, step: 2 });
  assert.deepEqual(trialOutcomeText({ status: 'failed', epochsDone: 0, error: 'out of memory' }), { text: '**failed**: out of memory', step: 0 });
  assert.equal(trialOutcomeText({ status: 'completed', epochsDone: 3 }), undefined);
  const footer = readEventFile(sessionEndEventFile('success', 10, trialOutcomeText(stopped)));
  const text = footer.flatMap((e) => e.summary?.value ?? []).find((v) => v.tag === OUTCOME_TEXT_TAG)!;
  assert.equal(text.metadata!.plugin_data!.plugin_name, 'text');
  assert.equal(Buffer.from(text.tensor!.string_val![0]).toString('utf8'), `**stopped early**: ${stopped.stopped.reason} (asha)`);
  assert.equal(footer.find((e) => e.summary?.value.some((v) => v.tag === OUTCOME_TEXT_TAG))!.step, 2);
});
