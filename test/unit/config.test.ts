// platform/config.ts with platform/temporal-connection.ts: where Temporal settings come from when the
// local stack's env file and a temporal.toml profile both say something. Each case runs in a fresh
// process, since the stack env file is read once per process.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

/** What `code` prints, run in a fresh process with only PATH, HOME (a temporary folder) and `env` set. */
function printedInFreshProcess(code: string, env: Record<string, string>): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

function temporalTarget(env: Record<string, string>): string {
  return printedInFreshProcess("import { temporalAddress, temporalNamespace } from './platform/temporal-connection'; console.log(`${temporalAddress()} ${temporalNamespace()}`);", env);
}

describe('Temporal settings: the local stack file and a profile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-test-'));
  const stackEnv = path.join(dir, 'stack.env');
  const toml = path.join(dir, 'temporal.toml');
  fs.writeFileSync(stackEnv, 'TEMPORAL_ADDRESS=127.0.0.1:7233\nTEMPORAL_NAMESPACE=default\n');
  fs.writeFileSync(toml, '[profile.prod]\naddress = "prod.example:7233"\nnamespace = "sweeps"\n');

  test('without a profile the stack file is the local default', () => {
    assert.equal(temporalTarget({ SWEEP_STACK_ENV: stackEnv }), '127.0.0.1:7233 default');
  });

  test('a named profile wins over the stack file (it pointed production workers at the local server)', () => {
    assert.equal(temporalTarget({ SWEEP_STACK_ENV: stackEnv, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }), 'prod.example:7233 sweeps');
  });

  test('variables set in the environment still override the profile, as Temporal\'s own clients do', () => {
    assert.equal(temporalTarget({ SWEEP_STACK_ENV: stackEnv, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'other' }), 'prod.example:7233 other');
  });
});

describe('the stack env file (infra/common.sh write_client_files)', () => {
  test('a stack folder whose path holds a space: bash sources the file and Node parses it to the same values', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack env '));
    const script = [
      'set -euo pipefail', 'source infra/common.sh',
      `ENV_FILE=${JSON.stringify(path.join(dir, 'stack.env'))} AWS_CREDS_FILE=${JSON.stringify(path.join(dir, 'aws-credentials'))}`,
      'TEMPORAL_ADDRESS=127.0.0.1:7233 TEMPORAL_NAMESPACE=default TEMPORAL_UI_PORT=8233 HOST=127.0.0.1 MINIO_CONSOLE_PORT=9001',
      'S3_ENDPOINT=http://127.0.0.1:9000 S3_BUCKET=sweep-artifacts AWS_PROFILE_NAME=sweep-local MINIO_ROOT_USER=u MINIO_ROOT_PASSWORD=p',
      'write_client_files',
      'env -i bash -c \'set -euo pipefail; set -a; . "$1"; set +a; printf "%s\\n" "$AWS_SHARED_CREDENTIALS_FILE" "$TEMPORAL_UI_URL"\' _ "$ENV_FILE"',
    ].join('\n');
    const run = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const credentials = path.join(dir, 'aws-credentials');
    assert.deepEqual(run.stdout.trim().split('\n'), [credentials, 'http://127.0.0.1:8233']);
    const parse = "import { readEnvFile } from './platform/config'; console.log(JSON.stringify(readEnvFile(process.argv[1])));";
    const node = spawnSync(process.execPath, ['--import', 'tsx', '-e', parse, path.join(dir, 'stack.env')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(node.status, 0, node.stderr);
    const parsed = JSON.parse(node.stdout) as Record<string, string>;
    assert.equal(parsed.AWS_SHARED_CREDENTIALS_FILE, credentials);
    assert.equal(parsed.S3_ENDPOINT, 'http://127.0.0.1:9000');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('the S3 region (platform/config.ts storageRegion)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'region-test-'));
  const configFile = path.join(dir, 'config');
  const credentials = path.join(dir, 'credentials');
  fs.writeFileSync(configFile, '[default]\nregion = ap-south-1\n[profile prod]\nregion = eu-west-3\n');
  fs.writeFileSync(credentials, '[prod]\naws_access_key_id = a\naws_secret_access_key = b\n');
  const noStack = path.join(dir, 'no-stack.env');

  function region(env: Record<string, string>): string {
    return printedInFreshProcess("import { storageRegion } from './platform/config'; storageRegion().then((r) => console.log(r));",
      { HOME: dir, SWEEP_STACK_ENV: noStack, AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: credentials, ...env });
  }

  test('the named profile\'s region (a fixed us-east-1 ignored it, and S3 refuses a bucket addressed in the wrong region)', () => {
    assert.equal(region({ AWS_PROFILE: 'prod' }), 'eu-west-3');
    assert.equal(region({}), 'ap-south-1');
  });

  test('AWS_REGION wins over the profile, as in the SDK', () => {
    assert.equal(region({ AWS_PROFILE: 'prod', AWS_REGION: 'us-west-2' }), 'us-west-2');
  });

  test('us-east-1 (which MinIO accepts) when neither says', () => {
    const other = path.join(dir, 'other-config');
    fs.writeFileSync(other, '[profile other]\nregion = eu-west-3\n');
    assert.equal(region({ AWS_PROFILE: 'prod', AWS_CONFIG_FILE: other }), 'us-east-1');
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));
});

describe('the task queues of the worker roles (platform/config.ts workerConfig)', () => {
  const names = ['SWEEP_CPU_QUEUE', 'SWEEP_GPU_QUEUE', 'SWEEP_SUGGEST_QUEUE'] as const;
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  const setQueues = (values: Partial<Record<(typeof names)[number], string>>) => {
    for (const n of names) {
      if (values[n] === undefined) delete process.env[n];
      else process.env[n] = values[n];
    }
  };
  after(() => setQueues(saved as Record<string, string>));

  test('a queue given to two roles is refused, naming both variables; distinct ones are taken', async () => {
    const { workerConfig } = await import('../../platform/config');
    setQueues({ SWEEP_CPU_QUEUE: 'a', SWEEP_SUGGEST_QUEUE: 'a' });
    assert.throws(() => workerConfig(), /^SettingError: SWEEP_SUGGEST_QUEUE: "a" is also SWEEP_CPU_QUEUE, but each role's workers run only their own steps/);
    setQueues({ SWEEP_CPU_QUEUE: 'a', SWEEP_GPU_QUEUE: 'b' });
    assert.deepEqual([workerConfig().cpuQueue, workerConfig().gpuQueue, workerConfig().suggestQueue], ['a', 'b', 'sweep-suggest']);
  });
});

describe('S3_FORCE_PATH_STYLE (platform/config.ts storageConfig)', () => {
  restoredAfter('S3_FORCE_PATH_STYLE');

  test('true unless set; true or false; anything else refused ("1", "yes" and "TRUE" read as false before)', async () => {
    const { storageConfig } = await import('../../platform/config');
    delete process.env.S3_FORCE_PATH_STYLE;
    assert.equal(storageConfig().forcePathStyle, true);
    for (const [value, style] of [['false', false], ['true', true]] as const) {
      process.env.S3_FORCE_PATH_STYLE = value;
      assert.equal(storageConfig().forcePathStyle, style, value);
    }
    for (const bad of ['1', 'yes', 'TRUE', 'False']) {
      process.env.S3_FORCE_PATH_STYLE = bad;
      assert.throws(() => storageConfig(), new RegExp(`^SettingError: S3_FORCE_PATH_STYLE=${bad} must be true or false \\(lower case\\)$`));
    }
  });
});

describe('the free space kept on a node\'s cache disk (platform/config.ts cacheMinFreeBytes)', () => {
  restoredAfter('SWEEP_CACHE_MIN_FREE_MB');

  test('2 GiB unless set; 0 is allowed; anything but a whole number of megabytes is refused, naming the variable', async () => {
    const { cacheMinFreeBytes } = await import('../../platform/config');
    delete process.env.SWEEP_CACHE_MIN_FREE_MB;
    assert.equal(cacheMinFreeBytes(), 2048 * 2 ** 20);
    process.env.SWEEP_CACHE_MIN_FREE_MB = '0';
    assert.equal(cacheMinFreeBytes(), 0);
    for (const bad of ['-1', '1.5', '2G']) {
      process.env.SWEEP_CACHE_MIN_FREE_MB = bad;
      assert.throws(() => cacheMinFreeBytes(), new RegExp(`^SettingError: SWEEP_CACHE_MIN_FREE_MB=${bad} must be a whole number of megabytes, 0 or more`));
    }
  });
});

describe('the CAs trusted for an https S3 endpoint (AWS_CA_BUNDLE, platform/config.ts caBundleCertificates)', () => {
  test('a PEM file of certificates is read; a missing file, or one without a certificate, is refused naming the variable and the fix', async () => {
    const { caBundleCertificates } = await import('../../platform/config');
    const fixtures = path.join(__dirname, 'fixtures', 'tls');
    assert.match(caBundleCertificates(path.join(fixtures, 'ca.pem')).toString(), /^-----BEGIN CERTIFICATE-----/);
    assert.throws(() => caBundleCertificates(path.join(fixtures, 'missing.pem')),
      /^SettingError: AWS_CA_BUNDLE=.*missing\.pem cannot be read \(ENOENT\): point it at the PEM file of the CA that signed S3's certificate/);
    assert.throws(() => caBundleCertificates(path.join(fixtures, 'client.key')), /^SettingError: AWS_CA_BUNDLE=.*client\.key holds no PEM certificate/);
  });
});

describe('where a worker process serves its metrics (platform/config.ts metricsAddress, workers/metrics.ts)', () => {
  restoredAfter('SWEEP_METRICS_ADDRESS');

  test('host:port, IPv6 in brackets; none unless set; anything else refused, naming the variable and an example', async () => {
    const { metricsAddress } = await import('../../platform/config');
    delete process.env.SWEEP_METRICS_ADDRESS;
    assert.equal(metricsAddress(), undefined);
    process.env.SWEEP_METRICS_ADDRESS = '0.0.0.0:9464';
    assert.deepEqual(metricsAddress(), { host: '0.0.0.0', port: 9464 });
    process.env.SWEEP_METRICS_ADDRESS = '[::]:9464';
    assert.deepEqual(metricsAddress(), { host: '[::]', port: 9464 });
    for (const bad of ['9464', 'localhost', 'host:0', 'host:70000', ':9464']) {
      process.env.SWEEP_METRICS_ADDRESS = bad;
      assert.throws(() => metricsAddress(), new RegExp(`^SettingError: SWEEP_METRICS_ADDRESS=${bad} is not host:port \\(e\\.g\\. 0\\.0\\.0\\.0:9464`));
    }
  });

  test('the GPU processes started beside the first take the next ports, then the suggest worker; none set, none given', async () => {
    const { metricsAddressOfProcess, metricsEnv, metricsTelemetry, suggestWorkerProcessIndex } = await import('../../workers/metrics');
    const address = { host: '10.0.0.5', port: 9464 };
    const envOf = (index: number) => metricsEnv(metricsAddressOfProcess(index, address));
    assert.deepEqual([1, 2].map((i) => envOf(i)), [{ SWEEP_METRICS_ADDRESS: '10.0.0.5:9465' }, { SWEEP_METRICS_ADDRESS: '10.0.0.5:9466' }]);
    assert.deepEqual(metricsEnv(metricsAddressOfProcess(1, undefined)), {});
    // A GPU node of 3 processes serves 9464-9466, its suggest worker 9467; a CPU node 9464 and 9465.
    assert.deepEqual(envOf(suggestWorkerProcessIndex(['cpu', 'gpu', 'suggest'], 3)), { SWEEP_METRICS_ADDRESS: '10.0.0.5:9467' });
    assert.deepEqual(envOf(suggestWorkerProcessIndex(['gpu', 'suggest'], 1)), { SWEEP_METRICS_ADDRESS: '10.0.0.5:9465' });
    assert.deepEqual(envOf(suggestWorkerProcessIndex(['cpu', 'suggest'], 2)), { SWEEP_METRICS_ADDRESS: '10.0.0.5:9465' });
    assert.deepEqual(envOf(suggestWorkerProcessIndex(['suggest'], 1)), { SWEEP_METRICS_ADDRESS: '10.0.0.5:9465' });
    assert.equal(metricsTelemetry(undefined), undefined);
    assert.deepEqual((metricsTelemetry(address)?.metrics as { prometheus: unknown }).prometheus, { bindAddress: '10.0.0.5:9464', countersTotalSuffix: true, useSecondsForDurations: true });
  });
});

/** Puts the variable back as it was once the suite has run. */
function restoredAfter(name: string): void {
  const saved = process.env[name];
  after(() => {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  });
}

describe('a GPU worker started with a setting its steps cannot run with', () => {
  const notAFolder = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'not-a-folder-')), 'file');
  fs.writeFileSync(notAFolder, '');
  test('stops as it starts, naming the setting (each of its steps failed on it, retried for ever on a one-node stack)', () => {
    for (const [name, value, message] of [
      ['SWEEP_BACKBONE_ENGINE', 'onxx', /^error: SWEEP_BACKBONE_ENGINE=onxx is not one of auto, tfjs, onnx$/m],
      ['SWEEP_CACHE_MIN_FREE_MB', '2GB', /^error: SWEEP_CACHE_MIN_FREE_MB=2GB must be a whole number of megabytes, 0 or more$/m],
      // Read as NaN before: every feature set, however small, was streamed from disk.
      ['SWEEP_FEATURE_MEMORY_MB', '1GB', /^error: SWEEP_FEATURE_MEMORY_MB=1GB must be a whole number of megabytes, 0 or more$/m],
      // Passed to onnxruntime before: every sweep failed at its first feature step, blaming backbone.uri.
      ['SWEEP_ONNX_THREADS', '-1', /^error: SWEEP_ONNX_THREADS=-1 must be a whole number of threads per GPU worker process, 0 for onnxruntime's default/m],
      // A folder under a file: each download failed with the bare ENOTDIR, retried every 30 s.
      ['SWEEP_CACHE_DIR', path.join(notAFolder, 'cache'), /^error: SWEEP_CACHE_DIR=.*\/cache cannot be written by this worker \(ENOTDIR\); point it at a folder on a local disk it may write/m],
    ] as const) {
      // No Temporal listens there: the worker must stop before it connects.
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'workers/run-workers.ts', 'gpu'], {
        cwd: ROOT, encoding: 'utf8', timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), SWEEP_STACK_ENV: path.join(os.tmpdir(), 'no-stack.env'), TEMPORAL_ADDRESS: '127.0.0.1:1', [name]: value },
      });
      assert.equal(run.status, 1, `${name}=${value}: exit ${run.status}\n${run.stdout}${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });
});
