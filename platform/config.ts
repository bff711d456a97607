// Configuration, read in one place. Temporal follows its client config (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a temporal.toml profile) and S3 the AWS SDK
// credential chain plus S3_ENDPOINT / S3_FORCE_PATH_STYLE; the SWEEP_* variables are read here.
// Variables missing from the environment are read from the local stack's env file, so a user of the
// local stack needs no exports; secrets stay in files and the environment, never in workflow inputs.
// Every reader loads that file first, so a value set only there is never missed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { loadConfig } from '@smithy/core/config';
import { sharedQueues } from '../lib/spec-mistakes';

export const REPO_ROOT = path.resolve(__dirname, '..');

/** Where the local stack keeps its tools and state: $SWEEP_STACK_DIR, default <repo>/.stack. */
export function stackDir(): string {
  return process.env.SWEEP_STACK_DIR ?? path.join(REPO_ROOT, '.stack');
}

/** $SWEEP_STACK_ENV, else stack.env in $SWEEP_STACK_DIR (default <repo>/.stack). */
export function stackEnvFile(): string {
  return process.env.SWEEP_STACK_ENV ?? path.join(stackDir(), 'stack.env');
}

/** The cluster profile's state (infra/cluster-common.sh): $SWEEP_CLUSTER_DIR, else cluster/ in the stack dir. */
export function clusterDir(): string {
  return process.env.SWEEP_CLUSTER_DIR ?? path.join(stackDir(), 'cluster');
}

/** KEY=VALUE lines (comments, quotes and `export` as in dotenv), parsed by Node itself. */
export function readEnvFile(file: string): Record<string, string> {
  return parseEnv(fs.readFileSync(file, 'utf8')) as Record<string, string>;
}

let loaded = false;

/**
 * Fills unset variables from the local stack's env file, once. With a temporal.toml profile named
 * (TEMPORAL_PROFILE or TEMPORAL_CONFIG_FILE), the file's TEMPORAL_* are left out: as variables they
 * would override the profile's address and namespace, pointing a production worker at the local server.
 */
export function loadStackEnv(): void {
  if (loaded) return;
  loaded = true;
  const file = stackEnvFile();
  if (!fs.existsSync(file)) return;
  const profileNamed = !!(process.env.TEMPORAL_PROFILE || process.env.TEMPORAL_CONFIG_FILE);
  for (const [key, value] of Object.entries(readEnvFile(file))) {
    if (!(profileNamed && key.startsWith('TEMPORAL_'))) process.env[key] ??= value;
  }
}

/** A variable, after the stack env file has been loaded. */
function setting(name: string): string | undefined {
  loadStackEnv();
  const value = process.env[name];
  return value === '' ? undefined : value;
}

export interface StorageConfig {
  bucket: string;
  endpoint?: string;
  forcePathStyle: boolean;
  /** AWS_CA_BUNDLE: a PEM file of the CAs trusted for an https endpoint, in place of Node's own (as the AWS CLI and boto3 read it). */
  caBundle?: string;
}

export function storageConfig(): StorageConfig {
  return {
    bucket: setting('S3_BUCKET') ?? 'sweep-artifacts',
    endpoint: setting('S3_ENDPOINT'),
    forcePathStyle: trueOrFalse('S3_FORCE_PATH_STYLE', true),
    caBundle: setting('AWS_CA_BUNDLE'),
  };
}

/**
 * The certificates of AWS_CA_BUNDLE, checked to be PEM certificates, for the S3 clients' TLS. The AWS
 * SDK for JavaScript does not read the variable itself (the AWS CLI and boto3, TensorBoard's S3 reader, do).
 */
export function caBundleCertificates(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = fs.readFileSync(file);
  } catch (error) {
    throw new SettingError(`AWS_CA_BUNDLE=${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): point it at the PEM file of the CA that signed S3's certificate, or unset it to trust Node's built-in CAs`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new SettingError(`AWS_CA_BUNDLE=${file} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block): point it at the CA's certificate, not its key or a DER file`);
  }
  return pem;
}

/**
 * Seconds without an answer from S3 after which this process has lost S3 (SWEEP_S3_UNREACHABLE_AFTER_S):
 * a worker's step worker stops taking tasks until S3 answers again (workers/storage-gate.ts), and a
 * CLI command that needs S3 fails with the reason. Read where S3 is watched, not with storageConfig(),
 * which every S3 request reads.
 */
export function storageUnreachableAfterS(): number {
  return positiveInt('SWEEP_S3_UNREACHABLE_AFTER_S', 10);
}

let region: (() => Promise<string>) | undefined;

/**
 * The bucket's region as the AWS SDK finds it: AWS_REGION, else the `region` of the AWS profile
 * (AWS_PROFILE, in AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE), else us-east-1, which MinIO
 * accepts. The SDK's own default would end by asking EC2's metadata service, which off EC2 only
 * times out; a fixed us-east-1 ignored the profile, and S3 refuses a bucket addressed in the wrong region.
 */
export function storageRegion(): Promise<string> {
  loadStackEnv();
  region ??= loadConfig<string>({
    environmentVariableSelector: (env) => env.AWS_REGION || undefined,
    configFileSelector: (profile) => profile.region || undefined,
    default: 'us-east-1',
  }, { preferredFile: 'credentials' }); // where the SDK itself looks first for a region
  return region();
}

/** A setting (an environment variable) the process cannot run with; the message names it and the fix. */
export class SettingError extends Error {
  override name = 'SettingError';
}

/** What a worker process serves: a sweep's workflows and CPU steps, its GPU steps, or bayesian suggestions. */
export type WorkerRole = 'cpu' | 'gpu' | 'suggest';
export const WORKER_ROLES: readonly WorkerRole[] = ['cpu', 'gpu', 'suggest'];

/** The variable naming each role's task queue (read by workerConfig; named in messages that set it). */
export const QUEUE_VARIABLES: Record<WorkerRole, string> = { cpu: 'SWEEP_CPU_QUEUE', gpu: 'SWEEP_GPU_QUEUE', suggest: 'SWEEP_SUGGEST_QUEUE' };

export interface WorkerConfig {
  cpuQueue: string;
  gpuQueue: string;
  /** Where the Python suggest worker serves bayesian sweeps' suggestTrials. */
  suggestQueue: string;
  cpuConcurrency: number;
  gpuConcurrency: number;
  /** GPU-role worker processes `run-workers.ts` runs on this node (each with gpuConcurrency); on a CPU node, about one per core. */
  gpuProcesses: number;
  /** Worker versioning: the Temporal worker deployment version this build's workers join; unset, they are unversioned. */
  deployment?: DeploymentVersion;
}

/** A Temporal worker deployment version: the deployment (this service) and the build of its code. */
export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

export function workerConfig(): WorkerConfig {
  const queues = { cpu: setting(QUEUE_VARIABLES.cpu) ?? 'sweep-cpu', gpu: setting(QUEUE_VARIABLES.gpu) ?? 'sweep-gpu', suggest: setting(QUEUE_VARIABLES.suggest) ?? 'sweep-suggest' };
  // Checked here too: a worker on a shared queue takes the other role's steps, whatever the specs say.
  const shared = sharedQueues(WORKER_ROLES.map((role) => [QUEUE_VARIABLES[role], queues[role]] as const));
  if (shared.length) throw new SettingError(shared.join('\n'));
  return {
    cpuQueue: queues.cpu,
    gpuQueue: queues.gpu,
    suggestQueue: queues.suggest,
    cpuConcurrency: positiveInt('SWEEP_CPU_CONCURRENCY', 4),
    gpuConcurrency: positiveInt('SWEEP_GPU_CONCURRENCY', 4),
    gpuProcesses: positiveInt('SWEEP_GPU_PROCESSES', 1),
    deployment: deploymentVersion(),
  };
}

/**
 * SWEEP_BUILD_ID turns worker versioning on (docs/deploy.md, "Redeploying"); SWEEP_DEPLOYMENT_NAME
 * names the deployment (default sweep-engine). Checked here because the server would refuse the
 * worker's polls only later, and a deployment name without a build id is a half-done deploy.
 */
function deploymentVersion(): DeploymentVersion | undefined {
  const buildId = setting('SWEEP_BUILD_ID');
  const deploymentName = setting('SWEEP_DEPLOYMENT_NAME');
  if (buildId === undefined) {
    if (deploymentName !== undefined) throw new SettingError(`SWEEP_DEPLOYMENT_NAME=${deploymentName} is set but SWEEP_BUILD_ID is not: set SWEEP_BUILD_ID to this build's id (e.g. the git commit) to turn worker versioning on, or unset SWEEP_DEPLOYMENT_NAME`);
    return undefined;
  }
  const name = deploymentName ?? 'sweep-engine';
  if (name.includes('.')) throw new SettingError(`SWEEP_DEPLOYMENT_NAME=${name} contains '.', which Temporal does not allow in a deployment name: use '-' instead`);
  if (buildId.trim() !== buildId) throw new SettingError(`SWEEP_BUILD_ID=${JSON.stringify(buildId)} has leading or trailing spaces: remove them`);
  return { deploymentName: name, buildId };
}

/** The Python of the search venv (infra/setup-search.sh), which runs the suggest worker. */
export function searchPython(): string {
  return setting('SWEEP_SEARCH_PYTHON') ?? path.join(stackDir(), 'search-venv', 'bin', 'python');
}

export interface FeatureCacheConfig {
  /** Local copies of feature shards on a GPU worker. */
  dir: string;
  /** A feature set larger than this is streamed from the local files instead of loaded. */
  memoryLimitBytes: number;
}

export function featureCacheConfig(): FeatureCacheConfig {
  return {
    dir: setting('SWEEP_CACHE_DIR') ?? path.join(os.tmpdir(), 'sweep-feature-cache'),
    memoryLimitBytes: megabytes('SWEEP_FEATURE_MEMORY_MB', 1024),
  };
}

/**
 * Free space a node keeps on its cache disk (SWEEP_CACHE_MIN_FREE_MB, default 2048; 0: only what a
 * copy needs): before each download into SWEEP_CACHE_DIR the least recently used copies go until it is
 * free (platform/local-copy.ts). Read where a copy is downloaded, and checked as a GPU worker starts.
 */
export function cacheMinFreeBytes(): number {
  return megabytes('SWEEP_CACHE_MIN_FREE_MB', 2048);
}

/**
 * Reads the settings a GPU worker's steps read as they run, so that a bad value stops the worker as it
 * starts: read first by a step, it would fail each step it runs, on this node, for as long as it runs.
 */
export function checkGpuStepSettings(): void {
  backboneEngineConfig();
  cacheMinFreeBytes();
  checkWritableFolder('SWEEP_CACHE_DIR', featureCacheConfig().dir);
}

/**
 * Stops with a SettingError when `dir` (the setting `name`'s) cannot be made or written: a path under a
 * file, a read-only disk, no permission. Its first download would fail with the bare ENOTDIR or EACCES,
 * retried every 30 s for as long as the worker ran.
 */
function checkWritableFolder(name: string, dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    // access(2), not a probe file: a disk whose space or inodes the cache itself took must not stop the
    // worker (its downloads make room), and processes sharing the folder must not race on a file.
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new SettingError(`${name}=${dir} cannot be written by this worker (${code ?? message}); point it at a folder on a local disk it may write, or leave it unset (${path.join(os.tmpdir(), 'sweep-feature-cache')})`);
  }
}

/** Where this worker keeps catalogue backbones: what backbones/fetch-*.sh write. */
export function backbonesDir(): string {
  return setting('SWEEP_BACKBONES_DIR') ?? path.join(stackDir(), 'backbones');
}

export interface BackboneEngineConfig {
  /** tfjs or onnx forces one engine; auto uses onnxruntime-node where the backbone has an ONNX file. */
  engine: 'auto' | 'tfjs' | 'onnx';
  onnxThreads?: number;
}

export function backboneEngineConfig(): BackboneEngineConfig {
  const engine = setting('SWEEP_BACKBONE_ENGINE') ?? 'auto';
  if (engine !== 'auto' && engine !== 'tfjs' && engine !== 'onnx') throw new SettingError(`SWEEP_BACKBONE_ENGINE=${engine} is not one of auto, tfjs, onnx`);
  // Checked here, not by onnxruntime: -1 failed every sweep at its first feature step, blaming backbone.uri, and "abc" was ignored.
  const threads = wholeNumber('SWEEP_ONNX_THREADS', 0, 0, 'a whole number of threads per GPU worker process, 0 for onnxruntime\'s default (a thread per core)');
  return { engine, onnxThreads: threads || undefined };
}

/**
 * onnxruntime's intra-op threads for each of `processes` GPU worker processes on one node, where
 * SWEEP_ONNX_THREADS is not set: their share of the cores (at least 1), or onnxruntime's own default
 * (a thread per core) for a node's only process. Each process's pool would otherwise take every core:
 * on 2 cores, a cold sweep of the search benchmark began training 0.6-1.8 s later with two processes'
 * pools of two than with one thread each (docs/benchmark.md, cut 25). The features are bit-identical
 * for any count.
 */
export function onnxThreadsPerProcess(processes: number, cores = os.availableParallelism()): number | undefined {
  return processes > 1 ? Math.max(1, Math.floor(cores / processes)) : undefined;
}

/**
 * TensorFlow's intra-op threads in a worker (SWEEP_TF_THREADS, default 1). A head's ops are small
 * (a batch of rows times a hidden layer), and handing each one to a pool costs more than it saves: on
 * 2 cores the same heads trained in 13 s on one thread and 24-26 s on TensorFlow's default of one per
 * core (docs/benchmark.md, cut 7). The bits are the same for any count. More cores are put to work by
 * more worker processes, each training its own trials.
 */
export function tensorflowThreads(): number {
  return positiveInt('SWEEP_TF_THREADS', 1);
}

export interface MetricsAddress {
  host: string;
  port: number;
}

/** Where a worker process serves its metrics for Prometheus: SWEEP_METRICS_ADDRESS (host:port), or none. */
export function metricsAddress(): MetricsAddress | undefined {
  const raw = setting('SWEEP_METRICS_ADDRESS');
  if (raw === undefined) return undefined;
  const match = /^(.+):(\d+)$/.exec(raw);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) throw new SettingError(`SWEEP_METRICS_ADDRESS=${raw} is not host:port (e.g. 0.0.0.0:9464, or [::]:9464)`);
  return { host: match[1], port };
}

/** This worker node's name in results: SWEEP_NODE_NAME (set per node by infra/nodes-up.sh), else the host name. */
export function nodeName(): string {
  return setting('SWEEP_NODE_NAME') ?? os.hostname();
}

/** The TensorBoard executable `sweep tensorboard` runs. */
export function tensorboardExecutable(): string {
  return setting('SWEEP_TENSORBOARD') ?? path.join(stackDir(), 'venv', 'bin', 'tensorboard');
}

/** A size setting in megabytes (0 or more), in bytes. */
function megabytes(name: string, fallback: number): number {
  return wholeNumber(name, fallback, 0, 'a whole number of megabytes, 0 or more') * 2 ** 20;
}

/**
 * `true` or `false`; anything else is refused: "1", "yes" and "TRUE" read as false before, and taking
 * "TRUE" as true now would flip a running deployment's setting without a word.
 */
function trueOrFalse(name: string, fallback: boolean): boolean {
  const raw = setting(name);
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false') throw new SettingError(`${name}=${raw} must be true or false (lower case)`);
  return raw === 'true';
}

function positiveInt(name: string, fallback: number): number {
  return wholeNumber(name, fallback, 1, 'a positive integer');
}

/** An integer setting of at least `min`; anything else is refused, saying it `must be` what is asked. */
function wholeNumber(name: string, fallback: number, min: number, mustBe: string): number {
  const raw = setting(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new SettingError(`${name}=${raw} must be ${mustBe}`);
  return value;
}
