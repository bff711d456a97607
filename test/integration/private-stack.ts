// A Temporal dev server and a MinIO of the test's own (own stack dir, own ports), for tests that stop,
// restart or kill servers and workers without touching the shared stack. Workers and the CLI run as
// separate processes pointed at it, so they can be killed with SIGKILL like a node that dies.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { readEnvFile, REPO_ROOT, stackDir } from '../../platform/config';
import { BucketReader, bucketReader } from './bucket-reader';
import { freePorts } from './free-ports';

const SHARED_BIN = path.join(stackDir(), 'bin');

export type Component = 'temporal' | 'minio';

export interface PrivateStack extends BucketReader {
  dir: string;
  /** Environment for processes that use this stack: its stack.env over ours, and nothing of the shared stack's. */
  env: NodeJS.ProcessEnv;
  /** MinIO's root password, which is the S3 secret key every process uses. */
  secretKey: string;
  bucket: string;
  client: Client;
  s3: S3Client;
  up(component?: Component): Promise<void>;
  /** Stops a component (or all) with TERM; `kill` sends KILL at once, as a crash would. */
  down(component?: Component, options?: { kill?: boolean }): Promise<void>;
  /** The running server's pid (to hang it with SIGSTOP, as a stalled machine would). */
  serverPid(component: Component): number;
  /** A worker process for `role`; `extraEnv` overrides the stack's environment (e.g. other credentials). */
  /** `suggest` runs the Python suggest worker (as a child of the worker process) on the stack's default suggest queue. */
  /** `role`: one, or several comma-separated (`cpu,suggest`), as run-workers.ts takes them. */
  spawnWorker(role: 'cpu' | 'gpu' | 'suggest' | 'cpu,suggest', queues: { cpuQueue: string; gpuQueue: string }, extraEnv?: NodeJS.ProcessEnv): WorkerProcess;
  /** Runs `sweep <args>` (bin/sweep.js) against this stack; `extraEnv` as for workers. */
  cli(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Everything every spawned process printed, to search for secrets. */
  allOutput(): string;
  destroy(): Promise<void>;
}

export interface WorkerProcess {
  pid: number;
  /** Resolves when the worker polls its queue. */
  ready: Promise<void>;
  exited: Promise<number | null>;
  output(): string;
  kill(signal: NodeJS.Signals): void;
}

/** A private stack with one CPU and one GPU worker process, both polling; the GPU worker is the one tests kill most. */
export async function startPrivateStackWithWorkers(queues: { cpuQueue: string; gpuQueue: string }): Promise<{ stack: PrivateStack; cpuWorker: WorkerProcess; gpuWorker: WorkerProcess }> {
  const stack = await startPrivateStack();
  const cpuWorker = stack.spawnWorker('cpu', queues);
  const gpuWorker = stack.spawnWorker('gpu', queues);
  await Promise.all([cpuWorker.ready, gpuWorker.ready]);
  return { stack, cpuWorker, gpuWorker };
}

/** Starts both servers with the shared stack's installed binaries (no setup run), on free ports. */
export async function startPrivateStack(): Promise<PrivateStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-private-stack-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  for (const name of ['temporal', 'minio']) {
    const binary = fs.realpathSync(path.join(SHARED_BIN, name));
    fs.symlinkSync(binary, path.join(dir, 'bin', name));
  }
  const outputs: Array<() => string> = [];
  const children: ChildProcess[] = [];
  let scriptEnv: NodeJS.ProcessEnv = {};
  const script = async (name: string, args: string[]) => {
    const result = await runProcess('bash', [path.join(REPO_ROOT, 'infra', name), ...args], scriptEnv).result;
    if (result.code !== 0) throw new Error(`infra/${name} ${args.join(' ')} failed (exit ${result.code}):\n${result.stdout}${result.stderr}`);
  };
  // Another listener can still take a chosen port (or one the dev server picks itself) before the
  // server binds it: then stop what started and try again on other ports.
  for (let attempt = 1; ; attempt++) {
    const [temporalPort, uiPort, minioPort, consolePort] = await freePorts(4);
    scriptEnv = {
      ...cleanEnv(),
      SWEEP_STACK_DIR: dir,
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      MINIO_PORT: String(minioPort),
      MINIO_CONSOLE_PORT: String(consolePort),
    };
    try {
      await script('stack-up.sh', ['--no-setup']);
      break;
    } catch (error) {
      if (attempt === 3 || !/already in use/i.test(String(error))) throw error;
      await script('stack-down.sh', ['--kill']);
    }
  }
  // Should this process die without destroy(), take the servers and workers with it.
  const killAll = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const name of ['temporal', 'minio']) {
      const pidFile = path.join(dir, 'run', `${name}.pid`);
      try { process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL'); } catch { /* not running */ }
    }
  };
  process.once('exit', killAll);
  // Ctrl-C (or a runner's SIGTERM) ends a test process without its 'exit' handlers: stop them here, then die of the signal.
  const killAllOn = (signal: NodeJS.Signals) => () => {
    killAll();
    fs.rmSync(dir, { recursive: true, force: true });
    process.kill(process.pid, signal);
  };
  const onSignal = { SIGINT: killAllOn('SIGINT'), SIGTERM: killAllOn('SIGTERM') };
  for (const [signal, handler] of Object.entries(onSignal)) process.once(signal, handler);

  const stackEnv = readEnvFile(path.join(dir, 'stack.env'));
  const minio = readEnvFile(path.join(dir, 'minio-credentials.env'));
  const env: NodeJS.ProcessEnv = { ...cleanEnv(), ...stackEnv, SWEEP_STACK_ENV: path.join(dir, 'stack.env') };
  const connection = await Connection.connect({ address: stackEnv.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: stackEnv.TEMPORAL_NAMESPACE });
  const s3 = new S3Client({
    endpoint: stackEnv.S3_ENDPOINT,
    region: stackEnv.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: minio.MINIO_ROOT_USER, secretAccessKey: minio.MINIO_ROOT_PASSWORD },
  });
  const bucket = stackEnv.S3_BUCKET;

  const stack: PrivateStack = {
    dir,
    env,
    secretKey: minio.MINIO_ROOT_PASSWORD,
    bucket,
    client,
    s3,
    up: (component) => script('stack-up.sh', [...(component ? [component] : []), '--no-setup']),
    down: (component, options) => script('stack-down.sh', [...(component ? [component] : []), ...(options?.kill ? ['--kill'] : [])]),
    serverPid: (component) => Number(fs.readFileSync(path.join(dir, 'run', `${component}.pid`), 'utf8')),
    ...bucketReader(s3, bucket),
    spawnWorker(role, queues, extraEnv = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'workers/run-workers.ts', role], {
        cwd: REPO_ROOT,
        env: { ...env, SWEEP_CPU_QUEUE: queues.cpuQueue, SWEEP_GPU_QUEUE: queues.gpuQueue, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let text = '';
      outputs.push(() => text);
      let markReady: () => void;
      const ready = new Promise<void>((resolve) => { markReady = resolve; });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const onData = (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('[worker] polling')) markReady();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      return {
        pid: child.pid!,
        ready: Promise.race([ready, exited.then((code) => { throw new Error(`${role} worker exited (${code}) before polling:\n${text}`); })]),
        exited,
        output: () => text,
        kill: (signal) => { child.kill(signal); },
      };
    },
    cli(args, extraEnv = {}) {
      // Killed by destroy() too: a `start --wait` of a failed test would wait for the gone server for ever.
      const run = runProcess(process.execPath, [path.join(REPO_ROOT, 'bin', 'sweep.js'), ...args], { ...env, ...extraEnv }, (child) => children.push(child));
      outputs.push(run.output);
      return run.result;
    },
    allOutput: () => outputs.map((o) => o()).join('\n'),
    async destroy() {
      process.off('exit', killAll);
      for (const [signal, handler] of Object.entries(onSignal)) process.off(signal, handler);
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await connection.close();
      s3.destroy();
      await script('stack-down.sh', ['--kill']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Our environment without anything that points at the shared stack (loadStackEnv fills those in). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  const shared = path.join(stackDir(), 'stack.env');
  if (fs.existsSync(shared)) for (const key of Object.keys(readEnvFile(shared))) delete env[key];
  for (const key of ['SWEEP_STACK_ENV', 'SWEEP_STACK_DIR', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete env[key];
  return env;
}

/** Runs a process to its end; `output` reads what it printed so far, `started` is given the child. */
function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv, started?: (child: ChildProcess) => void): {
  result: Promise<{ code: number | null; stdout: string; stderr: string }>;
  output: () => string;
} {
  let stdout = '';
  let stderr = '';
  const result = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    started?.(child);
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { result, output: () => stdout + stderr };
}
