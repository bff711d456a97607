// SWEEP_GPU_PROCESSES: `run-workers.ts gpu` on a CPU node starts more GPU worker processes beside
// itself, so trials train side by side (one JavaScript thread per process), and they end with it.
// Against the local stack: an in-process CPU worker runs the workflows, the GPU role is one
// `run-workers.ts gpu` process with SWEEP_GPU_PROCESSES=2.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { trialWorkflowId } from '../../lib/live-leaderboard';
import { Leaderboard } from '../../lib/sweep-types';
import { onnxThreadsPerProcess } from '../../platform/config';
import { queuePollers } from '../../platform/temporal-connection';
import { TestWorkers, startTestWorkers, tinySpec, uniqueId } from './harness';
import { waitFor as waitUntil } from '../waiting';

const REPO_ROOT = path.join(__dirname, '..', '..');
let env: TestWorkers;
let gpu: ChildProcess;
let output = '';

/** test/waiting.ts's waitFor, its timeout naming what the GPU worker printed. */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> =>
  waitUntil(what, probe, timeoutMs, 200).catch((error: Error) => { throw new Error(`${error.message}; GPU worker output:\n${output}`); });

/** The processes polling the GPU queue for activities, by pid (identities are pid@host). */
async function gpuPollerPids(): Promise<number[]> {
  const pollers = await queuePollers(env.client, env.gpuQueue);
  return [...new Set(pollers.map((p) => Number((p.identity ?? '').split('@')[0])))].filter(Number.isInteger);
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** `run-workers.ts gpu` with SWEEP_GPU_PROCESSES=2 on the test's queues. */
function spawnGpuWorkers(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/run-workers.ts', 'gpu'], {
    cwd: REPO_ROOT,
    env: { ...process.env, SWEEP_GPU_QUEUE: env.gpuQueue, SWEEP_CPU_QUEUE: env.cpuQueue, SWEEP_GPU_PROCESSES: '2', SWEEP_GPU_CONCURRENCY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => { output += chunk; });
  child.stderr!.on('data', (chunk) => { output += chunk; });
  return child;
}

before(async () => {
  env = await startTestWorkers('gpu-processes', ['cpu']);
  gpu = spawnGpuWorkers();
});

after(async () => {
  if (gpu.exitCode === null && gpu.signalCode === null) gpu.kill('SIGKILL');
  await env.stop();
});

test('SWEEP_GPU_PROCESSES=2: two processes poll the GPU queue and two trials train at once, one in each', async () => {
  const pids = await waitFor('two GPU pollers', async () => { const found = await gpuPollerPids(); return found.length === 2 && found; });
  assert.ok(pids.includes(gpu.pid!), 'the started process is one of them');
  const other = pids.find((pid) => pid !== gpu.pid)!;
  assert.ok(fs.readFileSync(`/proc/${other}/cmdline`, 'utf8').split('\0').includes('--single-threaded-gc'), 'the process started beside it collects garbage on its own thread (cut 20)');
  // Each of the two runs the backbone on its share of the cores (cut 25): onnxruntime's pools would otherwise take them all.
  const share = String(onnxThreadsPerProcess(2));
  assert.match(output, new RegExp(`starting 1 more GPU worker process\\(es\\) beside this one \\(SWEEP_GPU_PROCESSES=2\\), 1 activities at once each, onnxruntime on ${share} thread\\(s\\) each`));
  assert.ok(fs.readFileSync(`/proc/${other}/environ`, 'utf8').split('\0').includes(`SWEEP_ONNX_THREADS=${share}`), 'the process started beside it has its share');

  const spec = await tinySpec(env, { name: 'gpu-processes', reuse: false, concurrency: 2, grid: { hidden_units: [16, 32], dropout: [0.5], num_classes: [4], lr: [0.01], batch_size: [8], n_epochs: [30] } });
  const sweepId = uniqueId('gpu-processes');
  const board = await env.client.workflow.execute('sweepWorkflow', { taskQueue: env.cpuQueue, workflowId: sweepId, args: [spec], workflowExecutionTimeout: '5m' }) as Leaderboard;
  assert.equal(board.ranked.length, 2);
  // Each process runs one activity at a time, so two trials training at once are in two processes.
  const trainedBy = await Promise.all([1, 2].map(async (run) => {
    const history = await env.client.workflow.getHandle(trialWorkflowId(sweepId, run)).fetchHistory();
    return (history.events ?? []).find((e) => e.activityTaskStartedEventAttributes && history.events!.some((s) => s.eventId?.toString() === e.activityTaskStartedEventAttributes!.scheduledEventId?.toString() && s.activityTaskScheduledEventAttributes?.activityType?.name === 'trainTrial'))?.activityTaskStartedEventAttributes?.identity;
  }));
  assert.equal(new Set(trainedBy.map((identity) => Number(identity!.split('@')[0]))).size, 2, `trials trained by ${trainedBy.join(' and ')}`);
});

test('kill -9 of the process that started them: the other GPU process ends too', async () => {
  const pids = await gpuPollerPids();
  const other = pids.find((pid) => pid !== gpu.pid);
  assert.ok(other && alive(other), `the second GPU process (${pids.join(', ')}) is running`);
  gpu.kill('SIGKILL');
  await waitFor('the second GPU process to end', async () => !alive(other), 10_000);
});

test('SIGTERM (as Ctrl-C or a redeploy sends it): both GPU processes drain and exit', async () => {
  const started = spawnGpuWorkers();
  // Pollers of the processes killed above linger in the queue's list for a while: only live ones count.
  const pids = await waitFor('two live GPU pollers', async () => { const found = (await gpuPollerPids()).filter(alive); return found.length === 2 && found; });
  started.kill('SIGTERM');
  await waitFor('both GPU processes to exit', async () => started.exitCode !== null && pids.every((pid) => !alive(pid)), 20_000);
});
