// activities/failures.ts retriedOnlyWhenTransient, for the steps a sweep survives the failure of (the export,
// the report) and for loading the backbone: which errors are retried (storage, as in every step, and other
// passing ones) and which fail at once (the work itself cannot be done), so an S3 outage at that moment
// never costs a sweep its model or its report, and a backbone.uri that names no model is not retried for ever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { retriedOnlyWhenTransient } from '../../activities/failures';
import { writeReport } from '../../activities/report';
import { DomainError, FailureType, TransientError } from '../../lib/errors';
import { SettingError } from '../../platform/config';
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

test('errors of the operating system: a passing one (EMFILE, EIO) is retried, a path that names nothing usable is not; a setting of this worker is retried elsewhere', () => {
  const system = (code: string) => Object.assign(new Error(`${code}: simulated, open '/models/model.json'`), { code, syscall: 'open', path: '/models/model.json' });
  const step = 'loading backbone.uri /models/model.json (format layers) on worker gpu-1';
  const setting = new SettingError('SWEEP_BACKBONE_ENGINE=onxx is not one of auto, tfjs, onnx');
  for (const error of [system('EMFILE'), system('EIO'), new Error('reading the model', { cause: system('ENOSPC') }), setting]) {
    assert.equal(retriedOnlyWhenTransient(error, step, FailureType.backbone), error);
  }
  for (const code of ['ENOENT', 'EISDIR', 'EACCES']) {
    const failure = retriedOnlyWhenTransient(system(code), step, FailureType.backbone) as ApplicationFailure;
    assert.ok(failure instanceof ApplicationFailure && failure.nonRetryable, code);
    assert.equal(failure.type, FailureType.backbone);
    assert.match(failure.message, new RegExp(`^loading backbone.uri /models/model.json \\(format layers\\) on worker gpu-1 failed: ${code}`));
  }
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
