// platform/config.ts with platform/temporal-connection.ts: where Temporal settings come from when the
// local stack's env file and a temporal.toml profile both say something. Each case runs in a fresh
// process, since the stack env file is read once per process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

function temporalTarget(env: Record<string, string>): string {
  const code = "import { temporalAddress, temporalNamespace } from './platform/temporal-connection'; console.log(`${temporalAddress()} ${temporalNamespace()}`);";
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
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
