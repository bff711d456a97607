// activities/failures.ts retriedOnlyWhenTransient, for the steps a sweep survives the failure of (the export,
// the report): which errors are retried (storage, as in every step) and which fail at once (the step itself
// cannot work), so an S3 outage at that moment never costs a sweep its model or its report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { retriedOnlyWhenTransient } from '../../activities/failures';
import { writeReport } from '../../activities/report';
import { DomainError, FailureType, TransientError } from '../../lib/errors';
import { MemoryObjectStore } from '../../platform/memory-store';
import { MissingObjectError } from '../../platform/object-store';
import { setObjectStore } from '../../platform/storage';
import { StorageUnreachableError } from '../../platform/storage-contact';

test('storage errors pass through to be retried; a broken step fails without retry; typed failures keep their type', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED', $metadata: {} });
  const slowDown = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
  const wrapped = new Error('upload failed', { cause: slowDown });
  // A worker that has lost S3 fails its steps' requests at once (workers/storage-gate.ts): retried elsewhere.
  const lost = new StorageUnreachableError('S3 has not answered this worker for 11 s');
  // A body cut while read (no $metadata: the S3 client had returned), a backbone host's 503, wrapped or not.
  const cut = new TransientError('reading s3://b/trials/t/result.json: aborted', { cause: Object.assign(new Error('aborted'), { code: 'ECONNRESET' }) });
  const unavailable = new Error('loading the backbone', { cause: new TransientError('GET https://models.example/model.json: HTTP 503') });
  for (const error of [refused, slowDown, wrapped, lost, cut, unavailable]) assert.equal(retriedOnlyWhenTransient(error, 'exporting the best trial', FailureType.exportFailed), error);
  const broken = retriedOnlyWhenTransient(new Error('Shape mismatch: expected [1280,64]'), 'exporting the best trial', FailureType.exportFailed) as ApplicationFailure;
  assert.ok(broken instanceof ApplicationFailure && broken.nonRetryable);
  assert.equal(broken.type, FailureType.exportFailed);
  assert.match(broken.message, /exporting the best trial failed: Shape mismatch/);
  const typed = [new DomainError('no backbone', FailureType.backboneMissing), new MissingObjectError('b', 'k'), ApplicationFailure.nonRetryable('graph model', FailureType.exportUnsupported)];
  for (const error of typed) assert.equal(retriedOnlyWhenTransient(error, 'exporting the best trial', FailureType.exportFailed), error);
});

test('writeReport: a report that cannot be made fails without retry; a storage error is retried', async () => {
  const store = new MemoryObjectStore();
  setObjectStore(store);
  // No leaderboard: no retry makes one appear.
  await assert.rejects(writeReport({ sweepId: 'unranked' }), (error: unknown) =>
    error instanceof ApplicationFailure && error.nonRetryable && error.type === FailureType.reportFailed && /writing the report failed: sweep unranked has no/.test(error.message));
  const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED', $metadata: {} });
  store.get = () => Promise.reject(outage);
  await assert.rejects(writeReport({ sweepId: 'unranked' }), (error: unknown) => error === outage);
});
