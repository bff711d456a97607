// Starts Temporal workers for the CPU queue (sweep and trial workflows, data and ranking
// activities), the GPU queue (feature extraction, training, evaluation) and/or the suggest queue
// (bayesian suggestions, a Python process: ./suggest-worker.ts).
import { fork } from 'node:child_process';
import os from 'node:os';
import { ActivityInterceptorsFactory, DefaultLogger, LogLevel, LogMetadata, NativeConnection, Runtime, Worker, WorkerOptions } from '@temporalio/worker';
import { cpuActivities, gpuActivities } from '../activities';
import { FailureInterceptor } from '../activities/failures';
import { HeartbeatWhileRunning } from '../activities/heartbeat-while-running';
import { TemporalContact, watchTemporalContact } from '../activities/temporal-contact';
import { initTensorflow } from '../model/tf-backend';
import { DeploymentVersion, SettingError, WORKER_ROLES, checkGpuStepSettings, WorkerConfig, WorkerRole, metricsAddress, onnxThreadsPerProcess, tensorflowThreads, workerConfig } from '../platform/config';
import { removeOrphanedScratch } from '../platform/scratch-folders';
import { startStorageContact } from '../platform/s3-store';
import { StorageContact } from '../platform/storage-contact';
import { WORKER_HEARTBEAT_INTERVAL, connectWorker, temporalAddress, temporalClientCertificate, temporalNamespace } from '../platform/temporal-connection';
import { certificateExpiryLine } from '../lib/certificate-expiry';
import { startSuggestWorker, suggestWorkerMissing } from './suggest-worker';
import { hasExited, keepRunning } from './keep-running';
import { StorageGateInterceptor, runWhileStorageAnswers } from './storage-gate';
import { metricsAddressOfProcess, metricsEnv, metricsTelemetry, reportClientCertificateExpiry, reportStorageReachable, suggestWorkerProcessIndex } from './metrics';
import { rootMessage } from '../lib/errors';
import { temporalPermissionAdvice } from '../platform/permission-advice';

const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * What createWorkers takes besides the configuration: another workflow bundle (a redeploy test's
 * build B); activity interceptors run after the failure interceptor (the benchmark times activities);
 * a connection to share (else one of their own); a contact with S3 that gates the step workers'
 * steps (workers/storage-gate.ts: runWorkers sets one up).
 */
export interface WorkerCodeOverrides {
  workflowsPath?: string;
  activityInterceptors?: ActivityInterceptorsFactory[];
  temporal?: { connection: NativeConnection; namespace: string };
  storageContact?: StorageContact;
}

/**
 * The Temporal workers that serve the roles. The CPU role runs its workflows and its steps in two
 * workers on one queue, so that the steps can stop while S3 does not answer and the workflows (and
 * `sweep status`'s queries) run on (workers/storage-gate.ts); the GPU role runs steps only.
 */
type WorkerPart = 'workflows' | 'cpu-steps' | 'gpu-steps';

function workerParts(roles: readonly WorkerRole[]): WorkerPart[] {
  return [
    ...(roles.includes('cpu') ? ['workflows', 'cpu-steps'] as const : []),
    ...(roles.includes('gpu') ? ['gpu-steps'] as const : []),
  ];
}

/** What every part is made with: resolved once per process (one connection for all its workers). */
interface WorkerContext {
  config: WorkerConfig;
  connection: NativeConnection;
  namespace: string;
  workflowsPath: string;
  activityInterceptors: ActivityInterceptorsFactory[];
  storageContact?: StorageContact;
}

async function workerContext(overrides: Partial<WorkerConfig> & WorkerCodeOverrides): Promise<WorkerContext> {
  const { workflowsPath = require.resolve('../workflows'), activityInterceptors = [], temporal, storageContact, ...configOverrides } = overrides;
  const { connection, namespace } = temporal ?? await connectWorker();
  return { config: { ...workerConfig(), ...configOverrides }, connection, namespace, workflowsPath, activityInterceptors, storageContact };
}

export async function createWorkers(roles: WorkerRole[], overrides: Partial<WorkerConfig> & WorkerCodeOverrides = {}): Promise<Worker[]> {
  return createParts(workerParts(roles), await workerContext(overrides));
}

async function createParts(parts: readonly WorkerPart[], context: WorkerContext): Promise<Worker[]> {
  const workers: Worker[] = [];
  for (const part of parts) workers.push(await createWorker(part, context));
  return workers;
}

async function createWorker(part: WorkerPart, context: WorkerContext): Promise<Worker> {
  const { config, connection, namespace, storageContact } = context;
  const common = { connection, namespace, ...versioningOptions(config.deployment) };
  // Failures mapped first; the S3 gate ties each step's requests to the process's contact with S3.
  const stepInterceptors = (...own: ActivityInterceptorsFactory[]): ActivityInterceptorsFactory[] => [
    () => ({ inbound: new FailureInterceptor() }),
    ...context.activityInterceptors,
    ...own,
    ...(storageContact ? [() => ({ inbound: new StorageGateInterceptor(storageContact) })] : []),
  ];
  if (part === 'workflows') return Worker.create({ ...common, taskQueue: config.cpuQueue, workflowsPath: context.workflowsPath });
  if (part === 'cpu-steps') {
    return Worker.create({
      ...common,
      taskQueue: config.cpuQueue,
      activities: cpuActivities,
      // Every CPU activity heartbeats while it runs, so a task the server lost on its way here is
      // retried after the workflow's short heartbeat timeout (activities/heartbeat-while-running.ts).
      interceptors: { activity: stepInterceptors(() => ({ inbound: new HeartbeatWhileRunning() })) },
      maxConcurrentActivityTaskExecutions: config.cpuConcurrency,
      // Heartbeats reach the server every 2 s, well inside that timeout even when the server is slow.
      maxHeartbeatThrottleInterval: '2s',
    });
  }
  const backend = await initTensorflow();
  const threads = backend.name.startsWith('tensorflow') ? `, ${tensorflowThreads()} intra-op thread(s) (SWEEP_TF_THREADS)` : '';
  console.log(`[worker] TensorFlow.js backend: ${backend.name}${threads}${backend.notes.length ? ` (passed over: ${backend.notes.join('; ')})` : ''}`);
  const gpuWorker = await Worker.create({
    ...common,
    taskQueue: config.gpuQueue,
    activities: gpuActivities,
    // The export and the backbone check do not heartbeat by themselves, and evaluation only between its steps
    // (a test split's download can outlast the heartbeat timeout); training and extraction heartbeat per batch.
    interceptors: { activity: stepInterceptors(() => ({ inbound: new HeartbeatWhileRunning(['exportModel', 'evaluateTrial', 'checkBackbone']) })) },
    maxConcurrentActivityTaskExecutions: config.gpuConcurrency,
    // Heartbeats (current epoch and metrics) reach the server within 2 s instead of 0.8 x the
    // heartbeat timeout, so `sweep watch` and the Web UI's pending activities show live epochs, and
    // a cancel, which an activity learns of from a heartbeat's reply, stops training within seconds.
    maxHeartbeatThrottleInterval: '2s',
  });
  // Training attempts check that this process still reaches Temporal (activities/temporal-contact.ts).
  watchTemporalContact(new TemporalContact(
    (deadline) => connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({})),
    () => gpuWorker.getState() === 'STOPPED'));
  return gpuWorker;
}

/**
 * With a deployment version, the worker joins it and every workflow it runs is PINNED: a sweep, its
 * trials and their leases run all their workflow tasks on the build that started the sweep, and
 * activities they schedule on a queue this build also polls (the GPU queue) go to this build's
 * workers. The identity names the build, so histories and the Web UI's pollers show which build
 * ran a task. Why pinned rather than auto-upgrade: docs/deploy.md, "Redeploying".
 */
export function versioningOptions(deployment: DeploymentVersion | undefined): Pick<WorkerOptions, 'workerDeploymentOptions' | 'identity'> {
  if (!deployment) return {};
  return {
    workerDeploymentOptions: { useWorkerVersioning: true, version: deployment, defaultVersioningBehavior: 'PINNED' },
    identity: `${process.pid}@${os.hostname()} ${deployment.deploymentName}:${deployment.buildId}`,
  };
}

/**
 * The SDK's logger, less its warnings that a worker has no workflows or no activities: the step
 * workers run activities only and the CPU role's workflow worker workflows only, by design, so those
 * warnings are nothing a user can act on.
 */
export class WorkerLogger extends DefaultLogger {
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (!/^No (workflows|activities) registered/.test(message)) super.log(level, message, meta);
  }
}

/**
 * The parts whose steps read and write S3, so that they stop taking tasks while S3 does not answer, as
 * the log names them (the soak and the tests read those lines).
 */
const STORAGE_GATED: Partial<Record<WorkerPart, string>> = { 'cpu-steps': 'the CPU step worker', 'gpu-steps': 'the GPU worker' };

/**
 * Runs until SIGINT/SIGTERM, then shuts down as the SDK does by default: activities are cancelled at
 * once (training stores its finished epochs and resumes on another worker), the others finish. The suggest
 * role is skipped with a notice where the search venv is missing: only bayesian sweeps need it.
 * With the GPU role and SWEEP_GPU_PROCESSES above 1, the others are started beside this one. A step
 * worker (GPU, or the CPU role's) that loses S3 is shut down, and made again once S3 answers
 * (./storage-gate.ts); the CPU role's workflow worker runs on.
 */
export async function runWorkers(roles: WorkerRole[]): Promise<void> {
  const metrics = metricsAddress();
  const telemetryOptions = metricsTelemetry(metrics);
  try {
    Runtime.install({ shutdownSignals: SHUTDOWN_SIGNALS, logger: new WorkerLogger(), workerHeartbeatInterval: WORKER_HEARTBEAT_INTERVAL, ...(telemetryOptions ? { telemetryOptions } : {}) });
  } catch (error) {
    // The runtime binds the metrics port as it starts: a port taken is the setting's to fix.
    if (!metrics) throw error;
    throw new SettingError(`SWEEP_METRICS_ADDRESS=${metrics.host}:${metrics.port}: ${rootMessage(error)}; choose a free port (a node's further GPU processes, then its suggest worker, take the ports after it)`);
  }
  // Listened for from the start: the Runtime takes the first signal off its own handler, and with the
  // suggest role alone a signal during start-up would otherwise be lost (the process ran on).
  const stopAsked = shutdownRequested();
  const config = workerConfig();
  if (roles.includes('gpu')) checkGpuStepSettings();
  for (const folder of await removeOrphanedScratch()) console.log(`[worker] removed ${folder}, left by a worker process that no longer runs`);
  const missing = roles.includes('suggest') ? suggestWorkerMissing() : undefined;
  if (missing) console.warn(`[worker] not starting the suggest worker: ${missing}`);
  // Started again if it dies on its own (kill -9, the OOM killer): the TS workers would run on without it.
  // A stop asked while it starts (it waits for Temporal) gives the start up, and nothing more is started.
  const stopping = new AbortController();
  void stopAsked.then(() => stopping.abort());
  let suggest: { stop(): Promise<void> } | undefined;
  if (roles.includes('suggest') && !missing) {
    try {
      const suggestMetrics = metricsAddressOfProcess(suggestWorkerProcessIndex(roles, config.gpuProcesses), metrics);
      suggest = await keepRunning('suggest worker', (signal) => startSuggestWorker(config.suggestQueue, { signal, metrics: suggestMetrics }), { signal: stopping.signal });
    } catch (error) {
      // Beside other roles (a CPU node, `npm run workers`), a suggest worker that cannot start (a broken
      // search venv) must not take the workflows down with it: only bayesian sweeps need it.
      if (!stopping.signal.aborted) {
        if (roles.length === 1) throw error;
        console.warn(`[worker] the suggest worker did not start (${rootMessage(error)}); running the ${roles.filter((r) => r !== 'suggest').join(' and ')} role(s) without it: bayesian sweeps wait for a suggest worker until one runs`);
      }
    }
  }
  if (stopping.signal.aborted) {
    console.log('[worker] asked to stop while starting: stopped');
    await suggest?.stop();
    return;
  }
  // However the TS workers end (a worker that cannot be created included), the Python one stops with them.
  try {
    // This process extracts features beside the others it starts: each takes its share of the cores.
    const onnxThreads = roles.includes('gpu') && onnxThreadsPerProcess(config.gpuProcesses);
    if (onnxThreads && !process.env.SWEEP_ONNX_THREADS) process.env.SWEEP_ONNX_THREADS = String(onnxThreads);
    // The suggest role alone has no TS worker to run, so no connection of its own.
    const temporal = roles.some((role) => role !== 'suggest') ? await connectWorker() : undefined;
    // A worker whose steps have lost S3 stops taking them until S3 answers again (workers/storage-gate.ts).
    const parts = workerParts(roles);
    const storageContact = parts.some((part) => STORAGE_GATED[part]) ? startStorageContact((message) => console.warn(`[worker] ${message}`)) : undefined;
    if (storageContact && telemetryOptions) reportStorageReachable(storageContact);
    const context = temporal && await workerContext({ temporal, storageContact });
    const workers = context ? await createParts(parts, context) : [];
    const queues = { cpu: config.cpuQueue, gpu: config.gpuQueue, suggest: config.suggestQueue };
    if (metrics) console.log(`[worker] metrics for Prometheus at http://${metrics.host}:${metrics.port}/metrics (SWEEP_METRICS_ADDRESS)`);
    const certificate = temporalClientCertificate();
    if (certificate) {
      const { line, warn } = certificateExpiryLine(certificate.subject, new Date(certificate.validTo), new Date());
      (warn ? console.warn : console.log)(`[worker] ${line}`);
      if (telemetryOptions) reportClientCertificateExpiry(certificate);
    }
    if (config.deployment) console.log(`[worker] worker versioning: deployment "${config.deployment.deploymentName}", build "${config.deployment.buildId}" (workflows pinned; new sweeps come here once this build is the deployment's current version)`);
    console.log(`[worker] polling ${roles.filter((r) => r !== 'suggest' || suggest).map((r) => `${r} queue "${queues[r]}"`).join(' and ')} at ${temporalAddress()} (namespace ${temporalNamespace()})`);
    const others = roles.includes('gpu') && config.gpuProcesses > 1 ? startGpuProcesses(config.gpuProcesses - 1, process.env, config.gpuProcesses) : undefined;
    if (others) console.log(`[worker] starting ${config.gpuProcesses - 1} more GPU worker process(es) beside this one (SWEEP_GPU_PROCESSES=${config.gpuProcesses}), ${config.gpuConcurrency} activities at once each, onnxruntime on ${process.env.SWEEP_ONNX_THREADS} thread(s) each (SWEEP_ONNX_THREADS)`);
    const run = (worker: Worker, i: number) => {
      const gated = storageContact && STORAGE_GATED[parts[i]];
      return gated ? runWhileStorageAnswers(worker, () => createWorker(parts[i], context!), gated, storageContact, stopping.signal, (message) => console.warn(message)) : worker.run();
    };
    // The suggest role alone has no TS worker to run: it runs until this process is asked to stop (it exited at once).
    await (workers.length ? Promise.all(workers.map(run)) : stopAsked).finally(() => storageContact?.stop());
    await others?.stop();
  } finally {
    await suggest?.stop();
  }
}

/** Resolves on SIGINT or SIGTERM, the signals the Runtime stops the TS workers on. */
function shutdownRequested(): Promise<void> {
  return new Promise((resolve) => {
    for (const signal of SHUTDOWN_SIGNALS) process.once(signal, () => resolve());
  });
}

/**
 * Node flags of the processes started to train heads beside others, one per core: garbage collection
 * on the process's own thread. There V8's parallel and concurrent collector threads only take CPU
 * from the other busy processes, and cost more CPU in all: on 2 cores they were a fifth of a GPU
 * process's CPU, and without them the GPU processes used 12-20% less CPU for the same warm grid,
 * which took 3-16% less time (docs/benchmark.md, cut 20). A node's first process keeps V8's defaults.
 */
export const HEAD_TRAINING_NODE_FLAGS = ['--single-threaded-gc'];

/**
 * `count` more GPU-role worker processes (this file, role gpu, the same settings), of
 * `processesOnNode` GPU processes on this node in all: each runs the backbone on its share of the
 * cores unless SWEEP_ONNX_THREADS says otherwise (onnxThreadsPerProcess). Head training runs
 * on its process's JavaScript thread (tfjs-node runs ops synchronously, on one intra-op thread by
 * default), so on a CPU node trials train side by side only in separate processes. Each one stops
 * with this process however it ends: SIGTERM from stop() drains it; if this process dies, its IPC
 * channel closes and the child ends at once, as the node's other processes would.
 */
export function startGpuProcesses(count: number, env: NodeJS.ProcessEnv = process.env, processesOnNode = count): { stop(): Promise<void> } {
  const execArgv = [...process.execArgv, ...HEAD_TRAINING_NODE_FLAGS];
  const onnxThreads = env.SWEEP_ONNX_THREADS || onnxThreadsPerProcess(processesOnNode);
  const childEnv = { ...env, SWEEP_GPU_PROCESSES: '1', ...(onnxThreads ? { SWEEP_ONNX_THREADS: String(onnxThreads) } : {}) };
  // Each serves its metrics on a port of its own, the ones after this process's.
  const metrics = metricsAddress();
  const children = Array.from({ length: count }, (_, i) => fork(__filename, ['gpu'], { env: { ...childEnv, ...metricsEnv(metricsAddressOfProcess(i + 1, metrics)) }, execArgv }));
  return {
    stop: () => Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (hasExited(child)) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }))).then(() => undefined),
  };
}

if (require.main === module) {
  // A process started by startGpuProcesses ends with the one that started it. Its IPC channel does
  // not keep it alive (unref): like any worker process, it exits once its workers have drained.
  if (process.send) {
    process.channel?.unref();
    process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  }
  const roles = (process.argv[2] ?? 'cpu,gpu').split(',') as WorkerRole[];
  if (!roles.every((r) => WORKER_ROLES.includes(r))) {
    console.error('usage: workers/run-workers.ts [cpu|gpu|suggest, comma-separated, e.g. cpu,gpu,suggest]');
    process.exit(2);
  }
  runWorkers(roles).catch((error) => {
    // A bad setting, or credentials the server refuses, is the user's to fix: its message, not a stack.
    const refused = temporalPermissionAdvice(error);
    console.error(error instanceof SettingError ? `error: ${error.message}` : refused ? `error: ${refused}` : error);
    process.exit(1);
  });
}
