// The CLI refuses bad input before it reaches Temporal or S3 (both unreachable here: any call to
// them would fail differently), and says which of the two is down when one is.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { UsageError, parseCommandLine } from '../../cli/commands';
import { readSpecFile } from '../../cli/spec-file';
import { isTemporalUnreachable } from '../../cli/wait-for-temporal';
import { sweepIdProblem } from '../../lib/sweep-spec';
import { isStorageUnreachable } from '../../platform/s3-store';

// Nothing listens on port 1: a command that got as far as Temporal or S3 would fail with ECONNREFUSED.
process.env.TEMPORAL_ADDRESS = '127.0.0.1:1';
process.env.S3_ENDPOINT = 'http://127.0.0.1:1';
// Credentials of its own, so the S3 client gets as far as connecting without the local stack's env file.
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
const ROOT = path.join(__dirname, '..', '..');

async function usageError(argv: string[], message: RegExp): Promise<void> {
  const { main } = await import('../../cli/sweep');
  await assert.rejects(main(argv), (error: unknown) => error instanceof UsageError && message.test(error.message));
}

describe('the CLI refuses bad input before contacting a server', () => {
  test('an empty sweep id, --json with --csv, a bad --port, an id with "/" for a new sweep', async () => {
    for (const command of ['status', 'results', 'cancel', 'watch', 'report', 'tensorboard']) await usageError([command, ' '], /give a sweep id/);
    await usageError(['results', 'x', '--json', '--csv'], /give --json or --csv, not both/);
    await usageError(['tensorboard', 'x', '--port', '0'], /--port 0 is not a port number/);
    await usageError(['start', path.join(__dirname, '..', '..', 'examples', 'demo-sweep.json'), '--id', 'demo/model'], /--id: sweep id "demo\/model" is not valid/);
  });

  test('predict checks its image paths, and report its --out, before fetching anything', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-bad-input-'));
    await usageError(['predict', 'x', path.join(dir, 'nope.jpg'), dir], new RegExp(`nope\\.jpg does not exist; ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a directory`));
    // A link to itself exists (it was said not to); what is wrong with it is said instead.
    fs.symlinkSync(path.join(dir, 'loop.jpg'), path.join(dir, 'loop.jpg'));
    await usageError(['predict', 'x', path.join(dir, 'loop.jpg')], /loop\.jpg cannot be looked at \(ELOOP: too many symbolic links encountered, stat '[^']+'\); give image files/);
    await usageError(['report', 'x', '--out', dir], /--out .* is a directory; give a file path/);
    await usageError(['report', 'x', '--out', ''], /--out: give the path/);
  });

  test('spec files: an empty path and a directory say so', () => {
    assert.throws(() => readSpecFile(''), /give the path of a spec file/);
    assert.throws(() => readSpecFile(os.tmpdir()), /is a directory; give a \.json file/);
  });

  test('an option value that starts with "-" is explained, not called "no value"', () => {
    assert.throws(() => parseCommandLine(['list', '--limit', '-1']), /option --limit needs a value; for one that starts with "-", write --limit=<value>/);
  });

  test('sweep ids: what names a folder of artifacts', () => {
    for (const ok of ['demo-flowers-20261203-084819', 'a', 'x.y_z-1', 'a'.repeat(128)]) assert.equal(sweepIdProblem(ok), undefined, ok);
    for (const bad of ['', 'a/b', 'a b', '..', '.', 'a'.repeat(129), 'é']) assert.ok(sweepIdProblem(bad), JSON.stringify(bad));
  });
});

describe('which server is unreachable', () => {
  test('an S3 connection error is S3\'s, not Temporal\'s; a gRPC one is Temporal\'s', async () => {
    const { getJsonIfExists } = await import('../../platform/storage');
    const s3Error = await getJsonIfExists('x/y.json').then(() => assert.fail('S3 answered on port 1'), (error: unknown) => error);
    assert.equal(isStorageUnreachable(s3Error), true);
    assert.equal(isTemporalUnreachable(s3Error), false);
    const grpc = Object.assign(new Error('14 UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:1'), { code: 14 });
    assert.equal(isStorageUnreachable(grpc), false);
    assert.equal(isTemporalUnreachable(grpc), true);
  });

  test('a refusal that quotes the spec shows its control characters escaped', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-escape-'));
    const specFile = path.join(dir, 'spec.json');
    const spec = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'demo-sweep.json'), 'utf8'));
    fs.writeFileSync(specFile, JSON.stringify({ ...spec, data: { ...spec.data, source: path.join(dir, 'no\u001b[2Jdata') } }));
    const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sweep.js'), 'validate', specFile], { encoding: 'utf8', env: { ...process.env, SWEEP_STACK_ENV: path.join(dir, 'none.env') } });
    assert.equal(result.status, 2, result.stderr);
    assert.ok(result.stderr.includes('no\\u001b[2Jdata') && !result.stderr.includes('\u001b'), result.stderr);
  });

  test('no S3 credentials at all: the CLI says where they come from (exit 1)', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-no-credentials-'));
    const image = path.join(home, 'a.jpg');
    fs.writeFileSync(image, 'not read: the model is fetched first');
    const env = {
      PATH: process.env.PATH, HOME: home, S3_ENDPOINT: 'http://127.0.0.1:1', TEMPORAL_ADDRESS: '127.0.0.1:1',
      SWEEP_STACK_ENV: path.join(home, 'none.env'), AWS_EC2_METADATA_DISABLED: 'true',
    };
    const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sweep.js'), 'predict', 'x', image], { encoding: 'utf8', env });
    assert.match(result.stderr, /^no S3 credentials found: start the local stack \(npm run stack:up writes them to \.stack\/stack\.env\), or set AWS_ACCESS_KEY_ID/, result.stderr);
    assert.equal(result.status, 1);
  });
});
