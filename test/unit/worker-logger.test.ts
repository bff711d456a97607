// WorkerLogger: the SDK's logger without the expected "No workflows registered" and "No activities
// registered" warnings of the step workers and the CPU role's workflow worker; every other message,
// and the level threshold, as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogEntry } from '@temporalio/worker';
import { WorkerLogger } from '../../workers/run-workers';

test('drops only the no-workflows and no-activities warnings and keeps the level threshold', () => {
  const entries: LogEntry[] = [];
  const logger = new WorkerLogger('WARN', (entry) => entries.push(entry));
  logger.warn('No workflows registered, not polling for workflow tasks', { taskQueue: 'sweep-gpu' });
  logger.warn('No activities registered, not polling for activity tasks', { taskQueue: 'sweep-cpu' });
  logger.warn('Activity failed', { attempt: 2 });
  logger.error('Worker failed');
  logger.info('Worker state changed');
  assert.deepEqual(entries.map((e) => `${e.level} ${e.message}`), ['WARN Activity failed', 'ERROR Worker failed']);
});
