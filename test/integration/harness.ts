// Shared set-up for integration tests: the real local stack (started by `npm test` through
// infra/stack-up.sh), workers on task queues of the test's own, tiny data sets and a tiny backbone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { generateFlowerDataset } from '../../demo/generate-flowers';
import { makeDemoBackbone } from '../../demo/make-demo-backbone';
import { type WorkerRole, loadStackEnv } from '../../platform/config';
import { WorkerLogger, createWorkers } from '../../workers/run-workers';
import { startSuggestWorker } from '../../workers/suggest-worker';
import { connectClient } from '../../platform/temporal-connection';

loadStackEnv();
// Workers log only what needs attention, so the test report stays readable. SWEEP_TEST_CORE_LOG
// (e.g. DEBUG) forwards the SDK core's own log at that level to this logger, to diagnose lost tasks.
const coreLog = process.env.SWEEP_TEST_CORE_LOG as 'DEBUG' | 'TRACE' | undefined;
/** Where the workers' log lines (the SDK's and, with SWEEP_TEST_CORE_LOG, core's) end up. */
export const testLogger = new WorkerLogger('WARN');
Runtime.install({
  logger: testLogger,
  ...(coreLog ? { telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: coreLog, other: 'WARN' }) } } } : {}),
});

export const TEST_IMAGE_SIZE = 32;
const FIXTURES = path.join(os.tmpdir(), 'sweep-test-fixtures');

/** A small, imbalanced four-class flower set (about 2% of the reference counts), made once per machine. */
export async function tinyFlowerDataset(): Promise<string> {
  const outDir = path.join(FIXTURES, 'flowers');
  await generateFlowerDataset({ outDir, scale: 0.03, width: 80, height: 60, seed: 11 });
  return outDir;
}

/** A copy of the tiny data set whose class `className` keeps only its first `keep` images. */
export async function sparseFlowerDataset(className: string, keep: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparse-flowers-'));
  fs.cpSync(await tinyFlowerDataset(), dir, { recursive: true });
  for (const file of fs.readdirSync(path.join(dir, className)).sort().slice(keep)) fs.rmSync(path.join(dir, className, file));
  return dir;
}

export async function tinyBackbone(): Promise<string> {
  return makeDemoBackbone(path.join(FIXTURES, `backbone-${TEST_IMAGE_SIZE}`), TEST_IMAGE_SIZE);
}

export interface TestWorkers {
  client: Client;
  cpuQueue: string;
  gpuQueue: string;
  /** The Python suggest worker's queue (role 'suggest': callers skip when suggestWorkerMissing() says why it cannot run). */
  suggestQueue: string;
  workers: Worker[];
  stop(): Promise<void>;
}

/** Workers on queues unique to this test run, so tests never pick up each other's (or the demo's) tasks. */
export async function startTestWorkers(name: string, roles: WorkerRole[] = ['cpu', 'gpu']): Promise<TestWorkers> {
  const suffix = `${name}-${process.pid}-${Date.now().toString(36)}`;
  const cpuQueue = `test-cpu-${suffix}`;
  const gpuQueue = `test-gpu-${suffix}`;
  const suggestQueue = `test-suggest-${suffix}`;
  const workers = await createWorkers(roles, { cpuQueue, gpuQueue });
  const suggest = roles.includes('suggest') ? await startSuggestWorker(suggestQueue) : undefined;
  const running = workers.map((w) => w.run());
  const client = await connectClient();
  return {
    client,
    cpuQueue,
    gpuQueue,
    suggestQueue,
    workers,
    stop: async () => {
      workers.forEach((w) => w.shutdown());
      await Promise.all(running);
      await suggest?.stop();
      await client.connection.close();
    },
  };
}

/** A small spec on the given queues; `overrides` are merged one level deep. */
export async function tinySpec(queues: { cpuQueue: string; gpuQueue: string; suggestQueue?: string }, overrides: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const base: Record<string, any> = {
    name: 'it-sweep',
    data: { source: await tinyFlowerDataset(), classes: ['daisy', 'rose', 'sunflower', 'tulip'] },
    balance: { perClass: 24 },
    image: { size: TEST_IMAGE_SIZE, resize: 36 },
    augmentation: { views: 2 },
    backbone: { uri: await tinyBackbone(), featureLayer: 'features' },
    grid: { hidden_units: [16, 32], dropout: [0.4, 0.5], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [3] },
    seed: 7,
    concurrency: 2,
    taskQueues: { cpu: queues.cpuQueue, gpu: queues.gpuQueue, ...(queues.suggestQueue ? { suggest: queues.suggestQueue } : {}) },
  };
  for (const [key, value] of Object.entries(overrides)) {
    base[key] = value && typeof value === 'object' && !Array.isArray(value) && base[key] && typeof base[key] === 'object'
      ? { ...base[key], ...value }
      : value;
  }
  return base;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

export function writeTempJson(value: unknown): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-spec-')), 'spec.json');
  fs.writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}
