// activities/export.ts: which export errors are retried (storage, as in every step) and which fail at
// once (the export itself cannot work), so an S3 outage at export time never costs a sweep its model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { exportFailure } from '../../activities/export';
import { DomainError, FailureType } from '../../lib/errors';
import { MissingObjectError } from '../../platform/object-store';
import { StorageUnreachableError } from '../../platform/storage-contact';

test('storage errors pass through to be retried; a broken export fails without retry; typed failures keep their type', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED', $metadata: {} });
  const slowDown = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
  const wrapped = new Error('upload failed', { cause: slowDown });
  // A GPU worker that has lost S3 fails its steps' requests at once (workers/storage-gate.ts): retried elsewhere.
  const lost = new StorageUnreachableError('S3 has not answered this worker for 11 s');
  for (const error of [refused, slowDown, wrapped, lost]) assert.equal(exportFailure(error), error);
  const broken = exportFailure(new Error('Shape mismatch: expected [1280,64]')) as ApplicationFailure;
  assert.ok(broken instanceof ApplicationFailure && broken.nonRetryable);
  assert.equal(broken.type, FailureType.exportFailed);
  assert.match(broken.message, /exporting the best trial failed: Shape mismatch/);
  const typed = [new DomainError('no backbone', FailureType.backboneMissing), new MissingObjectError('b', 'k'), ApplicationFailure.nonRetryable('graph model', FailureType.exportUnsupported)];
  for (const error of typed) assert.equal(exportFailure(error), error);
});
