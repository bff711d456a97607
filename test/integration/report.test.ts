// The sweep's HTML report: written to S3 by the sweep's last step, built locally by `sweep report`,
// and rendered in real headless Chromium with no network: the table, every chart drawn, no errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { reportKey } from '../../activities/report';
import { getJson, getObject, parseS3Url, s3Url } from '../../platform/storage';
import { artifactKeys } from '../../lib/artifact-keys';
import { Leaderboard } from '../../lib/sweep-types';
import { REPO_ROOT } from '../../platform/config';
import { Browser, NO_CHROMIUM, openChromium, screenshotPath } from './chromium';
import { TestWorkers, startTestWorkers, tinySpec, uniqueId } from './harness';
import { sweepWorkflow } from '../../workflows';

let env: TestWorkers;
let board: Leaderboard;
let browser: Browser;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-report-'));

before(async () => {
  env = await startTestWorkers('report');
  const spec = await tinySpec(env, { grid: { hidden_units: [16, 32], dropout: [0.5], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [5] } });
  board = await env.client.workflow.execute(sweepWorkflow, { taskQueue: env.cpuQueue, workflowId: uniqueId('it-report'), args: [spec], workflowExecutionTimeout: '5m' });
  if (!NO_CHROMIUM) browser = await openChromium({ width: 1280, height: 900 });
});
after(async () => {
  await browser?.close();
  await env.stop();
});

/** Counts a canvas's non-transparent pixels (Chart.js draws on a transparent canvas). Evaluated in the page. */
const paintedPixels = (id: string) => `(() => {
  const canvas = document.getElementById('${id}');
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return { painted, total: canvas.width * canvas.height };
})()`;

describe('the sweep report', () => {
  let html: string;

  test('the sweep writes report.html next to its results and returns where', async () => {
    assert.equal(board.artifacts.report, s3Url(reportKey(board.sweepId)));
    const stored = await getJson<Leaderboard>(artifactKeys.sweepResults(board.sweepId, 'leaderboard.json'));
    assert.equal(stored.artifacts.report, board.artifacts.report, 'leaderboard.json in S3 links the report too');
    html = (await getObject(parseS3Url(board.artifacts.report!).key)).toString('utf8');
    assert.match(html, /^<!doctype html>/);
    assert.ok(html.includes('Chart.js v4'), 'the chart library is inlined');
  });

  test('it renders offline in Chromium: the ranked table, every curve and the per-class chart, no errors', { skip: NO_CHROMIUM }, async () => {
    const { page, errors } = browser;
    const file = path.join(workDir, 'report.html');
    fs.writeFileSync(file, html);
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(`file://${file}`);
    await page.waitForFunction('window.reportReady === true', undefined, { timeout: 30_000 });

    const rows = await page.evaluate(`Array.from(document.querySelectorAll('#leaderboard tbody tr'), (tr) => Array.from(tr.children, (td) => td.textContent))`) as string[][];
    assert.deepEqual(rows.map((r) => Number(r[1])), board.ranked.map((t) => t.run), 'rows in leaderboard order');
    assert.deepEqual(rows.map((r) => r[0]), ['1', '2']);

    for (const id of ['chart-train-loss', 'chart-val-loss', 'chart-train-accuracy', 'chart-val-accuracy', 'chart-per-class']) {
      const { painted, total } = await page.evaluate(paintedPixels(id)) as { painted: number; total: number };
      assert.ok(total > 100_000, `${id} has a real size (${total} px)`);
      assert.ok(painted > total * 0.01, `${id} is drawn: ${painted} of ${total} pixels painted`);
      const datasets = await page.evaluate(`Chart.getChart('${id}').data.datasets.map((d) => d.data.length)`) as number[];
      if (id === 'chart-per-class') assert.deepEqual(datasets, [4, 4, 4], 'precision, recall, F1 for 4 classes');
      else assert.deepEqual(datasets, [5, 5], 'one line per trial, one point per epoch');
    }
    const confusion = await page.locator('#confusion tbody td').allInnerTexts();
    assert.equal(confusion.reduce((n, c) => n + Number(c), 0), board.best!.test!.perClass!.reduce((n, c) => n + c.support, 0));
    assert.deepEqual(errors, [], 'no console errors');
    assert.deepEqual(requests, [], 'no network requests');
    await page.screenshot({ path: screenshotPath('report.png'), fullPage: true });
  });

  test('`sweep report --out` builds the same page locally', async () => {
    const out = path.join(workDir, 'local', 'report.html');
    const { stdout } = await promisify(execFile)('node', [path.join(REPO_ROOT, 'bin', 'sweep.js'), 'report', board.sweepId, '--out', out], { cwd: workDir });
    assert.match(stdout, new RegExp(`wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*${board.sweepId}/report\\.html`));
    const local = fs.readFileSync(out, 'utf8');
    const withoutDate = (page: string) => page.replace(/generated [^<]*/, '');
    assert.equal(withoutDate(local), withoutDate(html));
  });

  test('`sweep report` on a sweep with no results yet says why and what to do', async () => {
    const missing = uniqueId('no-such-sweep');
    await assert.rejects(promisify(execFile)('node', [path.join(REPO_ROOT, 'bin', 'sweep.js'), 'report', missing], { cwd: workDir }),
      (error: { code: number; stderr: string }) => {
        // A usage error (2): the request, not the tool, is at fault.
        assert.equal(error.code, 2);
        assert.match(error.stderr, new RegExp(`sweep ${missing} has no s3://.*leaderboard\\.json: the report is made once the sweep has ranked its trials \\(\`sweep status ${missing}\` says where it is\\)`));
        return true;
      });
  });
});
