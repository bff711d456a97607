// views/report-html.ts: the report page's HTML (tables, embedded data, inlined chart library). That the
// page renders in a browser is checked in test/integration/report.test.ts with real Chromium.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReportChartData, ReportInput, renderReportHtml } from '../../views/report-html';
import { Evaluation, Leaderboard, TrialSummary } from '../../lib/sweep-types';

const test_: Evaluation = {
  split: 'test', loss: 0.5, accuracy: 0.75,
  perClass: [
    { className: 'daisy', precision: 1, recall: 0.5, f1: 2 / 3, support: 2 },
    { className: 'rose <b>', precision: 0.5, recall: 1, f1: 2 / 3, support: 2 },
  ],
  confusion: [[1, 1], [0, 2]],
} as Evaluation;
const trial = (run: number, valAccuracy: number, extra: Partial<TrialSummary> = {}): TrialSummary => ({
  trialId: `t${run}`, run, params: { hidden_units: 16 * run }, status: 'completed', epochsDone: 2, valAccuracy, valLoss: 1 - valAccuracy, ...extra,
});
const epochs = (n: number) => Array.from({ length: n }, (_, i) => ({
  epoch: i + 1, trainLoss: 1 / (i + 1), trainAccuracy: 0.5 + i / 10, valLoss: 1.2 / (i + 1), valAccuracy: 0.4 + i / 10, epochDuration: 1, runDuration: i + 1,
}));

function input(overrides: Partial<Leaderboard> = {}): ReportInput {
  const best = trial(2, 0.8, { test: test_ });
  const failed = trial(3, 0, { status: 'failed', error: 'bad </script><script>alert(1)</script>', valAccuracy: undefined });
  return {
    leaderboard: {
      sweepId: 'sweep-1', status: 'completed', ranked: [best, trial(1, 0.6)], failed: [failed], best: { ...best, test: test_ }, reusedTrials: 0,
      artifacts: { prefix: 's3://b/sweeps/sweep-1/', resultsCsv: '', resultsJson: '', leaderboardJson: '' },
      ...overrides,
    },
    spec: { name: 'demo', grid: { hidden_units: [16, 32, 48] } },
    curves: [{ run: 3, trialId: 't3', epochs: epochs(1) }, { run: 1, trialId: 't1', epochs: epochs(2) }, { run: 2, trialId: 't2', epochs: epochs(2) }],
    generatedAt: '2026-01-01T00:00:00.000Z',
  };
}

const CHART_LIB = '/* fake chart lib */ window.Chart = function () {};\n//# sourceMappingURL=chart.umd.min.js.map';

function embedded(html: string): ReportChartData {
  const match = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html);
  assert.ok(match, 'the data is embedded as JSON');
  return JSON.parse(match[1]);
}

describe('renderReportHtml', () => {
  const html = renderReportHtml(input(), CHART_LIB);

  test('the leaderboard table has every trial, ranked first, the best marked, the failed one last', () => {
    const body = /<table id="leaderboard">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1];
    const rows = body.trim().split('\n');
    assert.equal(rows.length, 3);
    assert.match(rows[0], /^<tr class="completed best"><td>1<\/td><td>2<\/td><td>32<\/td>/);
    assert.match(rows[1], /^<tr class="completed"><td>2<\/td><td>1<\/td>/);
    assert.match(rows[2], /^<tr class="failed"/);
  });

  test('the curves of every trial are embedded by run, the best flagged; per-class scores of the best', () => {
    const data = embedded(html);
    assert.deepEqual(data.trials.map((t) => [t.run, t.best, t.epochs.length]), [[1, false, 2], [2, true, 2], [3, false, 1]]);
    assert.deepEqual(data.perClass!.map((c) => c.className), ['daisy', 'rose <b>']);
    for (const id of ['train-loss', 'val-loss', 'train-accuracy', 'val-accuracy', 'per-class']) assert.match(html, new RegExp(`<canvas id="chart-${id}">`));
  });

  test('the confusion matrix shades cells by count, the diagonal apart', () => {
    const matrix = /<table id="confusion"[\s\S]*?<\/table>/.exec(html)![0];
    assert.match(matrix, /<th>daisy<\/th><td class="diag" style="--level:0.500">1<\/td><td class="off" style="--level:0.500">1<\/td>/);
    assert.match(matrix, /<td class="diag" style="--level:1.000">2<\/td>/);
  });

  test('text from the data is escaped: no markup, and nothing closes a script early', () => {
    assert.ok(!html.includes('<b>'), 'class names are escaped');
    assert.ok(!html.includes('<script>alert(1)'), 'errors are escaped');
    assert.equal(html.match(/<script/g)!.length, 3, 'data, chart library, page script');
    assert.equal(html.match(/<\/script>/g)!.length, 3);
  });

  test('the chart library is inlined without its source-map comment, so the page needs no network', () => {
    assert.ok(html.includes('/* fake chart lib */ window.Chart = function () {};'));
    assert.ok(!html.includes('sourceMappingURL'));
    assert.ok(!/\b(src|href)=["']?https?:/.test(html), 'no external resources');
  });

  test('the spec is shown whole, arrays of values on one line', () => {
    assert.match(html, /<pre id="spec">\{\n {2}&quot;name&quot;: &quot;demo&quot;,\n {2}&quot;grid&quot;: \{\n {4}&quot;hidden_units&quot;: \[16, 32, 48\]\n/);
  });

  test('a sweep without spec.json (getJsonIfExists: undefined) says the spec is not stored', () => {
    const noSpec = renderReportHtml({ ...input(), spec: undefined }, CHART_LIB);
    assert.match(noSpec, /<h2>Spec<\/h2>\n<p id="spec">Not stored: the sweep has no spec\.json\.<\/p>/);
  });

  test('the data summary: images per class and what was skipped, when the leaderboard has it', () => {
    const data = { counts: { daisy: 764, rose: 784 }, skipped: 3, skippedByReason: { 'unreadable image': 3 } };
    const withData = renderReportHtml(input({ data }), CHART_LIB);
    assert.match(withData, /<p class="meta" id="data-summary">Data: 1,548 images in 2 classes \(daisy 764, rose 784\); skipped 3: unreadable image 3<\/p>/);
    assert.doesNotMatch(html, /id="data-summary"/, 'no line for a leaderboard written before the summary was recorded');
  });

  test('a sweep where nothing completed still renders, saying so', () => {
    const empty = renderReportHtml({ ...input({ ranked: [], best: undefined }), curves: [] }, CHART_LIB);
    assert.match(empty, /No trial completed\./);
    assert.match(empty, /No completed trial with test scores\./);
    assert.deepEqual(embedded(empty).trials, []);
  });

  test('past 40 classes, the largest confusions are listed instead of the matrix (1,000 classes: the matrix\'s spread overflowed the stack from 360)', () => {
    const n = 1000;
    const confusion = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 8 : j === (i + 1) % n ? (i % 7) : 0)));
    const perClass = Array.from({ length: n }, (_, i) => ({ className: `class-${i}`, precision: 0.5, recall: 0.5, f1: 0.5, support: 8 + (i % 7) }));
    const wide = { ...test_, perClass, confusion };
    const best = trial(2, 0.8, { headKey: 'trials/t2/head/epoch-0004/weights.bin' });
    const page = renderReportHtml(input({ ranked: [best], best: { ...best, test: wide } }), CHART_LIB);
    const list = /<table id="confusion"[\s\S]*?<\/table>/.exec(page)![0];
    assert.match(list, /<caption>The 25 largest confusions of 1000 classes \(the whole matrix: <code>trials\/t2\/head\/epoch-0004\/evaluation-test.json<\/code>\)<\/caption>/);
    // Class 6 (count 6) is the first of the largest: 6 of its 14 images went to class 7.
    assert.match(list, /<tbody>\n<tr><td>class-6<\/td><td>class-7<\/td><td>6<\/td><td>42.9%<\/td><\/tr>/);
    assert.equal(list.match(/<tr>/g)!.length, 26, 'a header row and 25 confusions');
    const forty = Array.from({ length: 40 }, (_, i) => Array.from({ length: 40 }, (_, j) => Number(i === j)));
    const small = renderReportHtml(input({ best: { ...trial(2, 0.8), test: { ...test_, perClass: perClass.slice(0, 40), confusion: forty } } }), CHART_LIB);
    assert.match(small, /<caption>Confusion matrix \(rows: true class, columns: predicted\)<\/caption>/, '40 classes still get the whole matrix');
  });
});
