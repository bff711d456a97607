#!/usr/bin/env node
// The `sweep` CLI, run through tsx so no build step is needed.
const MIN_MAJOR = 24; // the project's Node line; infra/node.sh installs it where the machine's is older
if (Number(process.versions.node.split('.')[0]) < MIN_MAJOR) {
  // Started by an older node (e.g. `npx sweep`): run again on the project's Node.
  const path = require('node:path');
  const { spawnSync } = require('node:child_process');
  const script = path.join(__dirname, '..', 'infra', 'node.sh');
  const result = spawnSync('bash', [script, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.error) {
    console.error(`sweep: could not start the project's Node ${MIN_MAJOR} with ${script}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.signal) process.kill(process.pid, result.signal);
  process.exit(result.status ?? 1);
}
require('tsx/cjs');
require('../cli/sweep.ts').run();
