// cli/watch.ts: `sweep watch` counts its elapsed time from the sweep's first run, not from the run going
// now (a sweep of more trials than a run takes continues as new). A fake client stands in for Temporal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, WorkflowExecutionDescription, WorkflowNotFoundError } from '@temporalio/client';
import { sweepStartTime } from '../../cli/watch';

const FIRST_RUN_START = new Date('2026-01-01T10:00:00Z');
const CURRENT_RUN_START = new Date('2026-01-01T12:30:00Z');

const description = (runId: string, firstRunId?: string) =>
  ({ workflowId: 's1', runId, startTime: CURRENT_RUN_START, raw: { workflowExecutionInfo: { firstRunId } } }) as unknown as WorkflowExecutionDescription;

/** A client whose describe() answers with `firstRun`, recording the run ids it was asked about. */
function fakeClient(firstRun: () => Promise<{ startTime: Date }>): { client: Client; described: Array<string | undefined> } {
  const described: Array<string | undefined> = [];
  const handle = (_workflowId: string, runId?: string) => ({ describe: () => (described.push(runId), firstRun()) });
  return { client: { workflow: { getHandle: handle } } as unknown as Client, described };
}

test('a later run of a continued sweep counts from the first run\'s start', async () => {
  const { client, described } = fakeClient(async () => ({ startTime: FIRST_RUN_START }));
  assert.deepEqual(await sweepStartTime(client, description('run-3', 'run-1')), FIRST_RUN_START);
  assert.deepEqual(described, ['run-1']);
});

test('the first run itself, or a server that does not name the first run, needs no second describe', async () => {
  const { client, described } = fakeClient(async () => assert.fail('described'));
  assert.deepEqual(await sweepStartTime(client, description('run-1', 'run-1')), CURRENT_RUN_START);
  assert.deepEqual(await sweepStartTime(client, description('run-3')), CURRENT_RUN_START);
  assert.deepEqual(described, []);
});

test('a first run past retention falls back to the current run\'s start; other errors are left to the caller', async () => {
  const gone = fakeClient(async () => { throw new WorkflowNotFoundError('not found', 's1', 'run-1'); });
  assert.deepEqual(await sweepStartTime(gone.client, description('run-3', 'run-1')), CURRENT_RUN_START);
  const down = fakeClient(async () => { throw new Error('14 UNAVAILABLE: Connection refused'); });
  await assert.rejects(sweepStartTime(down.client, description('run-3', 'run-1')), /UNAVAILABLE/, 'so that watch waits for Temporal and asks again');
});
