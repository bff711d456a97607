// Worker versioning settings: off unless SWEEP_BUILD_ID is set, so `npm run workers` and the demo run
// unversioned; on, every workflow is pinned and the worker identity names the build. Bad settings
// fail at start with the fix.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { workerConfig } from '../../platform/config';
import { versioningOptions } from '../../workers/run-workers';

function withEnv(env: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

const saved = { SWEEP_BUILD_ID: process.env.SWEEP_BUILD_ID, SWEEP_DEPLOYMENT_NAME: process.env.SWEEP_DEPLOYMENT_NAME };
afterEach(() => withEnv(saved));

test('unversioned when SWEEP_BUILD_ID is unset', () => {
  withEnv({ SWEEP_BUILD_ID: undefined, SWEEP_DEPLOYMENT_NAME: undefined });
  assert.equal(workerConfig().deployment, undefined);
  assert.deepEqual(versioningOptions(undefined), {});
});

test('SWEEP_BUILD_ID alone joins the sweep-engine deployment, every workflow pinned', () => {
  withEnv({ SWEEP_BUILD_ID: '3f2c1ab', SWEEP_DEPLOYMENT_NAME: undefined });
  const { deployment } = workerConfig();
  assert.deepEqual(deployment, { deploymentName: 'sweep-engine', buildId: '3f2c1ab' });
  const options = versioningOptions(deployment);
  assert.deepEqual(options.workerDeploymentOptions, { useWorkerVersioning: true, version: deployment, defaultVersioningBehavior: 'PINNED' });
  assert.match(options.identity!, /^\d+@.+ sweep-engine:3f2c1ab$/);
});

test('SWEEP_DEPLOYMENT_NAME names the deployment', () => {
  withEnv({ SWEEP_BUILD_ID: 'b2', SWEEP_DEPLOYMENT_NAME: 'sweeps-eu' });
  assert.deepEqual(workerConfig().deployment, { deploymentName: 'sweeps-eu', buildId: 'b2' });
});

test('bad settings are refused with the fix', () => {
  withEnv({ SWEEP_BUILD_ID: undefined, SWEEP_DEPLOYMENT_NAME: 'sweeps-eu' });
  assert.throws(() => workerConfig(), /SWEEP_DEPLOYMENT_NAME=sweeps-eu is set but SWEEP_BUILD_ID is not: set SWEEP_BUILD_ID/);
  withEnv({ SWEEP_BUILD_ID: 'b2', SWEEP_DEPLOYMENT_NAME: 'sweeps.eu' });
  assert.throws(() => workerConfig(), /contains '\.', which Temporal does not allow.*use '-' instead/);
  withEnv({ SWEEP_BUILD_ID: ' b2', SWEEP_DEPLOYMENT_NAME: undefined });
  assert.throws(() => workerConfig(), /leading or trailing spaces/);
});
