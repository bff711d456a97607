// Worker and client configuration from the environment, following each ecosystem's conventions:
// Temporal's client config (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
// or a temporal.toml profile) and the AWS SDK credential chain plus S3_ENDPOINT / S3_FORCE_PATH_STYLE.
// Variables missing from the environment are read from the local stack's env file, so a user of the
// local stack needs no exports; secrets stay in files and the environment, never in workflow inputs.
import fs from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..');
const STACK_ENV_FILE = process.env.SWEEP_STACK_ENV ?? path.join(REPO_ROOT, '.stack', 'stack.env');

let loaded = false;

/** Fills unset variables from the local stack's env file (KEY=VALUE lines), once. */
export function loadStackEnv(): void {
  if (loaded) return;
  loaded = true;
  if (!fs.existsSync(STACK_ENV_FILE)) return;
  for (const line of fs.readFileSync(STACK_ENV_FILE, 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match && process.env[match[1]] === undefined) process.env[match[1]] = match[2].replace(/^["']|["']$/g, '');
  }
}

export interface StorageConfig {
  bucket: string;
  endpoint?: string;
  forcePathStyle: boolean;
  region: string;
}

export function storageConfig(): StorageConfig {
  loadStackEnv();
  return {
    bucket: process.env.S3_BUCKET ?? 'sweep-artifacts',
    endpoint: process.env.S3_ENDPOINT || undefined,
    forcePathStyle: (process.env.S3_FORCE_PATH_STYLE ?? 'true') === 'true',
    region: process.env.AWS_REGION ?? 'us-east-1',
  };
}

export interface WorkerConfig {
  cpuQueue: string;
  gpuQueue: string;
  cpuConcurrency: number;
  gpuConcurrency: number;
}

export function workerConfig(): WorkerConfig {
  loadStackEnv();
  return {
    cpuQueue: process.env.SWEEP_CPU_QUEUE ?? 'sweep-cpu',
    gpuQueue: process.env.SWEEP_GPU_QUEUE ?? 'sweep-gpu',
    cpuConcurrency: positiveInt('SWEEP_CPU_CONCURRENCY', 4),
    gpuConcurrency: positiveInt('SWEEP_GPU_CONCURRENCY', 4),
  };
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${raw} must be a positive integer`);
  return value;
}
