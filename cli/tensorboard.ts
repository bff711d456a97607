// `sweep tensorboard <id> [--port 6006] [--host 127.0.0.1]`: the real TensorBoard (PyPI `tensorboard`,
// installed in .stack/venv by infra/setup.sh) on the sweep's event files, read straight from S3.
//
// Without TensorFlow, TensorBoard reads s3:// through boto3 with S3_ENDPOINT. It is reported not to
// reload runs whose files change (tensorboard issue 6712), but our trials never change a file TensorBoard
// is reading: each epoch is a new object with a later name, which it picks up on its next reload (checked
// in test/integration/tensorboard.test.ts against a running sweep). So there is no local mirror.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { artifactKeys } from '../lib/artifact-keys';
import { listKeys, s3Url } from '../platform/storage';
import { storageConfig, storageRegion, tensorboardExecutable } from '../platform/config';
import { connectClient } from '../platform/temporal-connection';
import { UsageError } from './commands';
import { describeSweep } from './describe-sweep';

export interface TensorboardOptions {
  port?: string;
  host?: string;
}

export function tensorboardLogdir(sweepId: string): string {
  return s3Url(artifactKeys.tensorboard(sweepId));
}

/** The TensorBoard executable: SWEEP_TENSORBOARD, else the stack's venv. */
export function tensorboardBinary(): string {
  const binary = tensorboardExecutable();
  if (!fs.existsSync(binary)) {
    throw new Error(`TensorBoard not found at ${binary}: run \`npm run setup\` (installs tensorboard into .stack/venv) or set SWEEP_TENSORBOARD to a tensorboard executable`);
  }
  return binary;
}

/**
 * Environment for TensorBoard's boto3 S3 reader (and its Python sibling in the tests): our endpoint as
 * S3_ENDPOINT, the region, and the AWS credential variables (profile, shared credentials file) as they are.
 */
export async function tensorboardEnv(): Promise<NodeJS.ProcessEnv> {
  const config = storageConfig();
  return {
    ...process.env,
    ...(config.endpoint ? { S3_ENDPOINT: config.endpoint } : {}),
    AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION ?? await storageRegion(),
  };
}

/** Runs TensorBoard until it exits or this process gets SIGINT/SIGTERM (then TensorBoard is stopped too). */
export async function tensorboard(sweepId: string, options: TensorboardOptions = {}): Promise<void> {
  const port = Number(options.port ?? 6006);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port ${options.port} is not a port number (1-65535)`);
  const host = options.host ?? '127.0.0.1';
  const binary = tensorboardBinary();
  const logdir = tensorboardLogdir(sweepId);
  if (!(await hasObjects(artifactKeys.tensorboard(sweepId)))) {
    await assertSweepExists(sweepId);
    console.log(`no event files under ${logdir} yet; TensorBoard shows trials as they write them`);
  }

  const child = spawn(binary, ['--logdir', logdir, '--host', host, '--port', String(port), '--window_title', `sweep ${sweepId}`], {
    env: await tensorboardEnv(),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', reject);
  });
  let stopping = false;
  const stop = () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const everywhere = host === '0.0.0.0' || host === '::';
    const origin = (h: string) => `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
    if (await untilServing(`${origin(everywhere ? '127.0.0.1' : host)}/data/runs`, exited)) {
      console.log(`TensorBoard for sweep ${sweepId}: ${origin(everywhere ? os.hostname() : host)}/  (reading ${logdir}; Ctrl-C stops it)`);
    }
    const code = await exited;
    if (code !== 0 && !stopping) {
      throw new Error(`tensorboard exited with code ${code} (see its messages above); if port ${port} is in use, pass --port`);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stop();
  }
}

async function hasObjects(prefix: string): Promise<boolean> {
  for await (const _ of listKeys(`${prefix}/`)) return true;
  return false;
}

/** Throws WorkflowNotFoundError (the CLI says "no sweep with that id") when there is no such sweep, a UsageError for another workflow's id. */
async function assertSweepExists(sweepId: string): Promise<void> {
  const client = await connectClient();
  try {
    await describeSweep(client.workflow.getHandle(sweepId));
  } finally {
    await client.connection.close();
  }
}

/** Polls TensorBoard's HTTP API until it answers (true) or the process exits first (false). */
async function untilServing(url: string, exited: Promise<unknown>): Promise<boolean> {
  let gone = false;
  void exited.then(() => { gone = true; }, () => { gone = true; });
  while (!gone) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  return false;
}
