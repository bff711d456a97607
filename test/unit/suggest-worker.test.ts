// The Python suggest worker's launcher (workers/suggest-worker.ts): a setting the worker refuses as it
// starts, before it connects to Temporal, ends the start with that setting named.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SettingError } from '../../platform/config';
import { startSuggestWorker, suggestWorkerMissing } from '../../workers/suggest-worker';

test('a metrics port already taken: the start fails with the setting named (exit 2 and its "error: " line), not a bare exit status', { skip: suggestWorkerMissing() }, async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as net.AddressInfo;
  try {
    const error = await startSuggestWorker('suggest-metrics-port-taken', { metrics: { host: '127.0.0.1', port } }).then((worker) => worker.stop(), (e: unknown) => e);
    assert.ok(error instanceof SettingError, String(error));
    assert.match(error.message, new RegExp(`^the suggest worker: SWEEP_METRICS_ADDRESS=127\\.0\\.0\\.1:${port}: .*Address already in use.*; choose a free port`));
  } finally {
    taken.close();
  }
});

test('a python that cannot be run (not executable): the start fails with the setting named, and the launcher lives on (the spawn\'s error was thrown in it, taking every worker of the process down)', async (t) => {
  const python = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'suggest-python-')), 'python');
  fs.writeFileSync(python, '#!/bin/sh\n', { mode: 0o644 });
  const before = process.env.SWEEP_SEARCH_PYTHON;
  process.env.SWEEP_SEARCH_PYTHON = python;
  t.after(() => { if (before === undefined) delete process.env.SWEEP_SEARCH_PYTHON; else process.env.SWEEP_SEARCH_PYTHON = before; });
  const error = await startSuggestWorker('suggest-not-executable').then((worker) => worker.stop(), (e: unknown) => e);
  assert.ok(error instanceof SettingError, String(error));
  assert.match(error.message, new RegExp(`^the suggest worker could not be started \\(spawn ${python} EACCES\\); make SWEEP_SEARCH_PYTHON an executable python`));
});
