// onnxThreadsPerProcess: each of a node's GPU worker processes runs the backbone on its share of the
// cores; a node's only process keeps onnxruntime's default (a thread per core).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnxThreadsPerProcess } from '../../platform/config';

test('one process keeps onnxruntime\'s default', () => {
  assert.equal(onnxThreadsPerProcess(1, 16), undefined);
});

test('several processes share the cores, at least one thread each', () => {
  assert.equal(onnxThreadsPerProcess(2, 2), 1);
  assert.equal(onnxThreadsPerProcess(2, 16), 8);
  assert.equal(onnxThreadsPerProcess(3, 16), 5);
  assert.equal(onnxThreadsPerProcess(4, 2), 1);
});
