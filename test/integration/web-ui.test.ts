// The Temporal Web UI of the running dev server, in real headless Chromium: a sweep's progress is
// readable there without opening any JSON - search attribute columns and filters in the workflow
// list, the summary, details and current details of the sweep and of each trial.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowHandle } from '@temporalio/client';
import { FrameLocator, Page } from 'playwright-core';
import { trialWorkflowId } from '../../lib/live-leaderboard';
import { parseSweepSpec } from '../../lib/sweep-spec';
import { Leaderboard } from '../../lib/sweep-types';
import { sweepStartMetadata, trialStartMetadata } from '../../views/workflow-metadata';
import { Browser, NO_CHROMIUM, openChromium, screenshotPath } from './chromium';
import { TestWorkers, startTestWorkers, tinySpec, uniqueId } from './harness';
import { leaderboardQuery, sweepWorkflow } from '../../workflows';

const UI = process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233';
const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
const PROGRESS_COLUMNS = ['SweepStatus', 'SweepTrialsDone', 'SweepTrialsRunning', 'SweepTrialsFailed', 'SweepBestValAccuracy'];

let env: TestWorkers;
let browser: Browser;
let handle: WorkflowHandle;
let board: Leaderboard;
let raw: Record<string, any>;

before(async () => {
  env = await startTestWorkers('web-ui');
  raw = await tinySpec(env, { name: uniqueId('webui'), grid: { hidden_units: [16, 32], dropout: [0.5], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [3] } });
  handle = await env.client.workflow.start(sweepWorkflow, {
    taskQueue: env.cpuQueue, workflowId: uniqueId('it-webui'), args: [raw], workflowExecutionTimeout: '10m', ...sweepStartMetadata(parseSweepSpec(raw)),
  });
  board = await handle.result();
  if (!NO_CHROMIUM) browser = await openChromium();
});
after(async () => {
  await browser?.close();
  await env.stop();
});

async function openUserMetadata(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'User Metadata' }).or(page.getByRole('tab', { name: 'User Metadata' })).first().click();
}

/** The UI renders each markdown field in its own frame. */
function metadata(page: Page, field: 'summary' | 'details' | 'current-details'): FrameLocator {
  return page.frameLocator(`iframe#user-metadata-${field}`);
}

describe('a sweep in the Temporal Web UI', () => {
  test('search attributes hold the final progress, and list queries filter on them', async () => {
    const attributes = (await handle.describe()).searchAttributes;
    assert.deepEqual(attributes.SweepName, [raw.name]);
    assert.deepEqual(attributes.SweepStatus, ['done']);
    assert.deepEqual(attributes.SweepTrialsDone, [2]);
    assert.deepEqual(attributes.SweepTrialsRunning, [0]);
    assert.deepEqual(attributes.SweepTrialsFailed, [0]);
    assert.deepEqual(attributes.SweepBestValAccuracy, [board.best!.valAccuracy]);
    const ids = async (query: string) => {
      const found: string[] = [];
      for await (const w of env.client.workflow.list({ query })) found.push(w.workflowId);
      return found;
    };
    const best = board.best!.valAccuracy!;
    assert.deepEqual(await ids(`SweepName = '${raw.name}' AND SweepBestValAccuracy >= ${best} AND SweepTrialsDone = 2`), [handle.workflowId]);
    assert.deepEqual(await ids(`SweepName = '${raw.name}' AND SweepBestValAccuracy > ${best}`), []);
  });

  test('the leaderboard query answers with every trial, ranked as the final leaderboard', async () => {
    const live = await handle.query(leaderboardQuery);
    assert.equal(live.stage, 'done');
    assert.equal(live.trialsTotal, 2);
    assert.deepEqual(live.ranked.map((t) => t.trialId), board.ranked.map((t) => t.trialId));
    assert.deepEqual(live.running, []);
  });

  test('the workflow list shows the progress columns, filtered by a search attribute', { skip: NO_CHROMIUM }, async () => {
    const { page } = browser;
    // The UI keeps its column choice in local storage; this is what "Configure Columns" would save.
    const columns = { [NAMESPACE]: [{ label: 'Status' }, { label: 'Workflow ID' }, ...PROGRESS_COLUMNS.map((label) => ({ label })), { label: 'End' }] };
    await page.addInitScript(`localStorage.setItem('namespace-workflow-table-columns', ${JSON.stringify(JSON.stringify(columns))})`);
    const query = `SweepName = '${raw.name}' AND SweepBestValAccuracy > 0`;
    await page.goto(`${UI}/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent(query)}`);
    const row = page.locator('tr', { has: page.getByRole('link', { name: handle.workflowId, exact: true }) });
    await row.waitFor({ timeout: 30_000 });
    const headers = (await page.locator('thead th').allInnerTexts()).map((h) => h.trim());
    const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
    const cell = (column: string) => cells[headers.indexOf(column)];
    for (const column of PROGRESS_COLUMNS) assert.ok(headers.includes(column), `column ${column} in ${headers.join(', ')}`);
    assert.equal(cell('SweepStatus'), 'done');
    assert.equal(cell('SweepTrialsDone'), '2');
    assert.equal(cell('SweepTrialsFailed'), '0');
    assert.equal(Number(cell('SweepBestValAccuracy')), board.best!.valAccuracy);
    assert.equal(await page.locator('tbody tr').count(), 1, 'the filter leaves only this sweep (its trials have no SweepName)');
    await page.screenshot({ path: screenshotPath('web-ui-workflow-list.png') });
  });

  test('the sweep page shows its summary, details and current details (leaderboard so far)', { skip: NO_CHROMIUM }, async () => {
    const { page } = browser;
    const { staticSummary } = sweepStartMetadata(parseSweepSpec(raw));
    await page.goto(`${UI}/namespaces/${NAMESPACE}/workflows/${handle.workflowId}`);
    // The steps' summaries label the timeline.
    await page.getByText('rankSweep • rank 2 trials').first().waitFor({ timeout: 30_000 });
    await page.getByText('writeReport • write report.html').first().waitFor();
    await openUserMetadata(page);
    await metadata(page, 'summary').getByText(staticSummary).waitFor({ timeout: 30_000 });
    await metadata(page, 'details').locator('li', { hasText: 'hidden_units: 16, 32' }).waitFor(); // the grid, as a list
    // Current details come from the workflow itself (a query the UI sends to the worker).
    const current = metadata(page, 'current-details');
    await current.getByText('2 of 2 trials done').waitFor({ timeout: 30_000 });
    // The leaderboard so far, with a column for the one hyperparameter the grid varies.
    const table = (await current.locator('pre, code').first().innerText()).trim().split('\n').map((line) => line.trim().split(/\s+/));
    assert.deepEqual(table[0], ['rank', 'run', 'hidden_units', 'val_acc', 'val_loss', 'test_acc']);
    assert.deepEqual(table[1].slice(0, 3), ['1', String(board.best!.run), String(board.best!.params.hidden_units)]);
    assert.equal(table.length, 3);
    await page.screenshot({ path: screenshotPath('web-ui-sweep.png'), fullPage: true });
  });

  test('each trial page shows its run and parameters, and its steps their summaries', { skip: NO_CHROMIUM }, async () => {
    const { page } = browser;
    const trial = board.ranked.find((t) => t.run === 1)!;
    const plan = { trialId: trial.trialId, run: 1, params: trial.params, head: { n_epochs: 3 } } as Parameters<typeof trialStartMetadata>[0];
    await page.goto(`${UI}/namespaces/${NAMESPACE}/workflows/${trialWorkflowId(handle.workflowId, 1)}`);
    await page.getByText('trainTrial • train run 1: 3 epochs').first().waitFor({ timeout: 30_000 });
    await openUserMetadata(page);
    await metadata(page, 'summary').getByText(trialStartMetadata(plan, parseSweepSpec(raw), handle.workflowId).staticSummary).waitFor({ timeout: 30_000 });
    await metadata(page, 'current-details').getByText(/done · val accuracy \d+\.\d% · test accuracy \d+\.\d%/).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('web-ui-trial.png'), fullPage: true });
  });
});
