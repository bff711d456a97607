// The sweep's results report: one static HTML file that works offline. Tables (leaderboard,
// confusion matrix, per-class scores, spec) are rendered here as HTML; the curves and the per-class
// chart are drawn in the browser by Chart.js, whose UMD bundle is inlined with the data as JSON.
// Pure: the caller supplies the data and the chart library's source.
import { artifactKeys } from '../lib/artifact-keys';
import { topConfusions } from '../lib/classification-metrics';
import { EpochMetrics } from '../lib/epoch-rows';
import { formatDataSummary } from '../lib/data-summary';
import { num, pct, rankedBy, trialTableCells } from './leaderboard-table';
import { formatParams } from './workflow-metadata';
import { Evaluation, Leaderboard, TestScores, TrialSummary } from '../lib/sweep-types';

export interface TrialCurve {
  run: number;
  trialId: string;
  /** Per-epoch metrics from the trial's result (or its last checkpoint, for a trial that did not finish). */
  epochs: EpochMetrics[];
}

export interface ReportInput {
  leaderboard: Leaderboard;
  /** The validated spec, shown verbatim; undefined for a sweep whose spec.json is not stored. */
  spec: unknown;
  curves: TrialCurve[];
  generatedAt: string;
}

/** What the page script reads from the embedded JSON. */
export interface ReportChartData {
  trials: Array<{ run: number; label: string; best: boolean; epochs: EpochMetrics[] }>;
  perClass?: Evaluation['perClass'];
}

export function reportChartData(input: ReportInput): ReportChartData {
  const bestRun = input.leaderboard.best?.run;
  return {
    trials: input.curves.slice().sort((a, b) => a.run - b.run).map((c) => ({
      run: c.run,
      label: `run ${c.run}`,
      best: c.run === bestRun,
      epochs: c.epochs,
    })),
    perClass: input.leaderboard.best?.test?.perClass,
  };
}

export function renderReportHtml(input: ReportInput, chartLibrary: string): string {
  const board = input.leaderboard;
  const best = board.best;
  const title = `Sweep ${board.sweepId}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">${esc(board.status)} · ${board.ranked.length} trials ranked by ${esc(rankedBy(board.objective))}${board.failed.length ? ` · ${board.failed.length} not completed` : ''}${board.reusedTrials ? ` · ${board.reusedTrials} reused` : ''} · generated ${esc(input.generatedAt)}</p>
${board.data ? `<p class="meta" id="data-summary">Data: ${esc(formatDataSummary(board.data))}</p>
` : ''}${best ? `<p class="best">Best: run ${best.run} (${esc(formatParams(best.params, ', '))}) · val accuracy ${pct(best.valAccuracy)}${best.bestEpoch === undefined ? '' : ` (best epoch ${best.bestEpoch})`} · val loss ${num(best.valLoss)} · test accuracy ${pct(best.test?.accuracy)}</p>` : '<p class="best">No trial completed.</p>'}

<h2>Leaderboard</h2>
${leaderboardTable(board)}

<h2>Training and validation curves</h2>
<p class="note">One line per trial, the same colour in every chart; click a legend entry to hide a trial.</p>
<div class="charts">
${['train-loss', 'val-loss', 'train-accuracy', 'val-accuracy'].map((id) => `<figure><div class="chart"><canvas id="chart-${id}"></canvas></div></figure>`).join('\n')}
</div>

<h2>Best trial on the test split</h2>
${best?.test ? bestTrialSection(best, best.test) : '<p>No completed trial with test scores.</p>'}

<h2>Spec</h2>
${input.spec === undefined ? '<p id="spec">Not stored: the sweep has no spec.json.</p>' : `<pre id="spec">${esc(compactJson(input.spec))}</pre>`}
<p class="note">Artifacts: ${esc(board.artifacts.prefix)} · charts drawn with Chart.js (MIT), inlined so the page works offline.</p>
<div id="report-error" hidden></div>
<script type="application/json" id="report-data">${jsonForScript(reportChartData(input))}</script>
<script>${chartLibrary.replace(/\/\/# sourceMappingURL=\S+\s*$/, '').replace(/<\/script/gi, '<\\/script')}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function leaderboardTable(board: Leaderboard): string {
  const trials = [...board.ranked, ...board.failed];
  const { header, rows } = trialTableCells(trials);
  const row = (t: TrialSummary, cells: string[]) =>
    `<tr class="${t.status}${t.run === board.best?.run ? ' best' : ''}"${t.error ? ` title="${esc(t.error)}"` : ''}>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  const errors = board.failed.filter((t) => t.error).map((t) => `<li>run ${t.run} ${esc(t.status)}: ${esc(t.error!)}</li>`);
  const stops = board.ranked.filter((t) => t.stopped).map((t) => `<li>run ${t.run} ${esc(t.stopped!.reason)}</li>`);
  return `<table id="leaderboard">
<thead><tr>${header.map((h) => `<th>${esc(h.replace(/_/g, ' '))}</th>`).join('')}</tr></thead>
<tbody>
${trials.map((t, i) => row(t, rows[i])).join('\n')}
</tbody>
</table>${stops.length ? `\n<ul class="stops" id="stopped-trials">${stops.join('')}</ul>` : ''}${errors.length ? `\n<ul class="errors">${errors.join('')}</ul>` : ''}`;
}

/** Classes up to which the whole confusion matrix is drawn; beyond, its cells (classes²) are too many to read, and to render. */
export const CONFUSION_TABLE_MAX_CLASSES = 40;
/** The largest confusions listed in its place. */
const TOP_CONFUSIONS = 25;

/** `test` as leaderboard.json has it: with per-class scores and the confusion matrix (empty for trials stored before they were kept). */
function bestTrialSection(best: TrialSummary, test: TestScores): string {
  const scores = test.perClass ?? [];
  const classes = scores.map((c) => c.className);
  const matrix = test.confusion ?? [];
  const confusion = classes.length <= CONFUSION_TABLE_MAX_CLASSES ? confusionTable(matrix, classes) : confusionList(matrix, classes, best);
  const perClass = `<table id="per-class">
<thead><tr><th>class</th><th>precision</th><th>recall (per-class accuracy)</th><th>F1</th><th>support</th></tr></thead>
<tbody>
${scores.map((c) => `<tr><td>${esc(c.className)}</td><td>${pct(c.precision)}</td><td>${pct(c.recall)}</td><td>${pct(c.f1)}</td><td>${c.support}</td></tr>`).join('\n')}
</tbody>
</table>`;
  return `<p>Run ${best.run}: test accuracy ${pct(test.accuracy)}, test loss ${num(test.loss)} on ${scores.reduce((n, c) => n + c.support, 0)} images.</p>
<div class="best-grid">
<div>${confusion}</div>
<figure><div class="chart"><canvas id="chart-per-class"></canvas></div></figure>
</div>
${perClass}`;
}

function confusionTable(matrix: number[][], classes: string[]): string {
  // A loop, not Math.max(...cells): spreading classes² arguments overflows the stack from about 360 classes.
  const max = matrix.reduce((m, row) => row.reduce((r, n) => Math.max(r, n), m), 1);
  return `<table id="confusion" class="confusion">
<caption>Confusion matrix (rows: true class, columns: predicted)</caption>
<thead><tr><th></th>${classes.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
<tbody>
${matrix.map((row, i) => `<tr><th>${esc(classes[i])}</th>${row.map((n, j) =>
    `<td class="${i === j ? 'diag' : 'off'}" style="--level:${(n / max).toFixed(3)}">${n}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>`;
}

function confusionList(matrix: number[][], classes: string[], best: TrialSummary): string {
  const support = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const largest = topConfusions(matrix, TOP_CONFUSIONS);
  const whole = best.headKey ? `<code>${esc(artifactKeys.headEvaluation(best.headKey, 'test'))}</code>` : 'evaluation-test.json beside the best trial\'s head';
  return `<table id="confusion" class="confusions">
<caption>The ${largest.length} largest confusions of ${classes.length} classes (the whole matrix: ${whole})</caption>
<thead><tr><th>true class</th><th>predicted as</th><th>images</th><th>of the class</th></tr></thead>
<tbody>
${largest.map((c) => `<tr><td>${esc(classes[c.trueClass])}</td><td>${esc(classes[c.predictedClass])}</td><td>${c.count}</td><td>${pct(c.count / support[c.trueClass])}</td></tr>`).join('\n')}
</tbody>
</table>`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Indented JSON with arrays of plain values on one line, so the spec reads like the file it came from. */
function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, items: string) => `[${items.split(/,\s+/).join(', ')}]`);
}

/** JSON inside <script>: "<" escaped so no string in the data can close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #1d2330; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 32px; border-bottom: 1px solid #dde1e8; padding-bottom: 4px; }
.meta, .note { color: #5c6575; } .best { font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 4px 10px; text-align: right; border-bottom: 1px solid #eceff3; }
th { background: #f5f7fa; } tr.best td { background: #e8f4ea; font-weight: 600; } tr.failed td, tr.cancelled td, .errors { color: #a33; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; } figure { margin: 0; }
.chart { position: relative; height: 300px; } .best-grid { display: grid; grid-template-columns: auto 1fr; gap: 24px; align-items: start; }
.confusion td { min-width: 48px; text-align: center; } .confusion caption { caption-side: bottom; color: #5c6575; padding-top: 4px; }
.confusion td.diag { background: rgba(46, 125, 50, calc(0.1 + 0.8 * var(--level))); }
.confusion td.off { background: rgba(198, 40, 40, calc(0.8 * var(--level))); }
pre { background: #f5f7fa; padding: 12px; overflow: auto; font-size: 12px; }
#report-error { color: #a33; font-weight: 600; }
`;

// Runs in the browser: plain ES2017, no imports. Sets window.reportReady once every chart is drawn.
const PAGE_SCRIPT = `
(function () {
  try {
    var data = JSON.parse(document.getElementById('report-data').textContent);
    var n = data.trials.length;
    // Tableau 10 while it lasts, then evenly spaced hues.
    var palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
    var colour = function (i) { return n <= palette.length ? palette[i] : 'hsl(' + Math.round(i * 360 / n) + ', 65%, 45%)'; };
    var common = { animation: false, responsive: true, maintainAspectRatio: false, interaction: { mode: 'nearest', intersect: false } };
    function curveChart(id, key, title, percent) {
      new Chart(document.getElementById(id), {
        type: 'line',
        data: {
          datasets: data.trials.map(function (t, i) {
            return {
              label: t.label + (t.best ? ' (best)' : ''),
              data: t.epochs.map(function (e) { return { x: e.epoch, y: percent ? e[key] * 100 : e[key] }; }),
              borderColor: colour(i), backgroundColor: colour(i),
              borderWidth: t.best ? 3 : 1.5, pointRadius: 2,
            };
          }),
        },
        options: Object.assign({}, common, {
          plugins: { title: { display: true, text: title }, legend: { position: 'bottom', labels: { boxWidth: 12 } } },
          scales: {
            x: { type: 'linear', title: { display: true, text: 'epoch' }, ticks: { precision: 0 } },
            y: { title: { display: true, text: percent ? 'accuracy (%)' : 'loss' } },
          },
        }),
      });
    }
    curveChart('chart-train-loss', 'trainLoss', 'Training loss', false);
    curveChart('chart-val-loss', 'valLoss', 'Validation loss', false);
    curveChart('chart-train-accuracy', 'trainAccuracy', 'Training accuracy', true);
    curveChart('chart-val-accuracy', 'valAccuracy', 'Validation accuracy', true);
    var perClassCanvas = document.getElementById('chart-per-class');
    if (perClassCanvas && data.perClass) {
      var metric = function (name, key, c) {
        return { label: name, backgroundColor: c, data: data.perClass.map(function (p) { return p[key] * 100; }) };
      };
      new Chart(perClassCanvas, {
        type: 'bar',
        data: {
          labels: data.perClass.map(function (p) { return p.className; }),
          datasets: [metric('precision', 'precision', '#4e79a7'), metric('recall', 'recall', '#59a14f'), metric('F1', 'f1', '#f28e2b')],
        },
        options: Object.assign({}, common, {
          plugins: { title: { display: true, text: 'Per-class scores on the test split (%)' } },
          scales: { y: { min: 0, max: 100 } },
        }),
      });
    }
    window.reportReady = true;
  } catch (error) {
    var box = document.getElementById('report-error');
    box.hidden = false;
    box.textContent = 'charts failed: ' + error;
    console.error(error);
  }
})();
`;
