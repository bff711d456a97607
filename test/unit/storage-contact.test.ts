import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createServer as httpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3ObjectStore, storageProbe, withStorageGate } from '../../platform/s3-store';
import { StorageContact, StorageUnreachableError } from '../../platform/storage-contact';
import { waitFor } from '../waiting';

const options = { intervalMs: 1000, probeTimeoutMs: 500, unreachableAfterMs: 2000, name: 'http://s3.test' };

/** A contact driven by hand: `record` with explicit times, no timer. */
function contactAt(start: number): StorageContact {
  return new StorageContact(async () => true, options, () => start);
}

test('S3 turns unreachable only after unreachableAfterMs without an answer and two unanswered probes in a row', () => {
  const contact = contactAt(0);
  const changes: boolean[] = [];
  contact.onChange((reachable) => changes.push(reachable));
  contact.record(false, 2500);
  assert.equal(contact.reachable, true, 'one unanswered probe, even past the silence (a probe that spanned a pause of the process), is not enough');
  contact.record(true, 2600);
  contact.record(false, 3600);
  contact.record(false, 4500);
  assert.equal(contact.reachable, true, 'two in a row, but only 1.9 s since the last answer');
  const signal = contact.signal;
  contact.record(false, 4700);
  assert.equal(contact.reachable, false);
  assert.ok(signal.aborted, 'the gate handed out before aborts');
  assert.ok(signal.reason instanceof StorageUnreachableError);
  assert.match((signal.reason as Error).message, /S3 \(http:\/\/s3\.test\) has not answered this worker for 2 s/);
  contact.record(false, 9000);
  assert.deepEqual(changes, [false], 'told once');
  contact.record(true, 9100);
  assert.equal(contact.reachable, true);
  assert.equal(contact.signal.aborted, false, 'a new gate once S3 answers');
  assert.deepEqual(changes, [false, true]);
});

test('whenReachable waits for an answer, and gives up when its own signal aborts', async () => {
  const contact = contactAt(0);
  await contact.whenReachable();
  contact.record(false, 3000);
  contact.record(false, 4000);
  let resolved = false;
  const waiting = contact.whenReachable().then(() => { resolved = true; });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(resolved, false);
  contact.record(true, 5000);
  await waiting;
  contact.record(false, 8000);
  contact.record(false, 9000);
  const stop = new AbortController();
  const given = contact.whenReachable(stop.signal);
  stop.abort(new Error('stopping'));
  await assert.rejects(given, /stopping/);
});

test('probing on its timer: an answering probe keeps S3 reachable, a hanging one is given up at probeTimeoutMs and S3 is lost', async () => {
  let answering = true;
  const probe = (signal: AbortSignal) => answering ? Promise.resolve(true) : new Promise<boolean>((resolve) => signal.addEventListener('abort', () => resolve(false)));
  const contact = new StorageContact(probe, { intervalMs: 10, probeTimeoutMs: 20, unreachableAfterMs: 60, name: 'x' }).start();
  try {
    await sleep(100);
    assert.equal(contact.reachable, true);
    answering = false;
    const lostAt = Date.now();
    await new Promise<void>((resolve) => contact.onChange((reachable) => { if (!reachable) resolve(); }));
    assert.ok(Date.now() - lostAt >= 40, 'not before the silence');
    answering = true;
    await contact.whenReachable();
  } finally {
    contact.stop();
  }
});

// An HTTP server that answers HEAD of its bucket at once and holds every other request: S3 that has
// stopped answering, as a split network does.
let server: http.Server;
let endpoint: string;
const held: http.ServerResponse[] = [];

before(async () => {
  server = http.createServer((request, response) => {
    if (request.method === 'HEAD') response.end();
    else held.push(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, { S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
});

after(async () => {
  for (const response of held) response.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('a request tied to a gate fails with its reason as soon as it aborts, and a new one is not sent; untied requests are left alone', async () => {
  const store = new S3ObjectStore();
  const gate = new AbortController();
  const waiting = withStorageGate(gate, () => store.get('bucket', 'key'));
  const untied = store.get('bucket', 'other');
  // The client's first requests resolve its region and credentials first: slow on a busy machine.
  await waitFor('both requests to reach the server', async () => held.length >= 2, 10_000, 20);
  const sent = held.length;
  assert.equal(sent, 2, 'both requests reached the server and wait');
  const lost = new StorageUnreachableError('S3 lost');
  const abortedAt = Date.now();
  gate.abort(lost);
  await assert.rejects(waiting, (error) => error === lost);
  assert.ok(Date.now() - abortedAt < 1000, 'at once, not after the socket timeout');
  await assert.rejects(withStorageGate(gate, () => store.put('bucket', 'key', 'x')), (error) => error === lost);
  assert.equal(held.length, sent, 'the request after the abort was not sent');
  let untiedSettled = false;
  void untied.finally(() => { untiedSettled = true; }).catch(() => undefined);
  await sleep(50);
  assert.equal(untiedSettled, false, 'a request outside the gate still waits');
});

test('tied to a contact itself (a CLI command), requests fail at once while S3 is lost and are sent again once it answers', async () => {
  const store = new S3ObjectStore();
  const contact = contactAt(0);
  contact.record(false, 2500);
  contact.record(false, 3500);
  assert.equal(contact.reachable, false);
  const sent = held.length;
  // One command, tied once at its start, as cli/sweep.ts runs it.
  await withStorageGate(contact, async () => {
    await assert.rejects(store.get('bucket', 'key'), (error) => error instanceof StorageUnreachableError);
    assert.equal(held.length, sent, 'not sent while S3 is lost');
    contact.record(true, 4000);
    void store.get('bucket', 'key').catch(() => undefined);
  });
  await waitFor('the request sent once S3 answers', async () => held.length > sent, 10_000, 20);
  assert.equal(held.length, sent + 1, 'sent once S3 answers again (a signal taken at the start would have stayed aborted)');
});

const TLS_FIXTURES = path.join(__dirname, 'fixtures', 'tls');
const fixture = (name: string) => fs.readFileSync(path.join(TLS_FIXTURES, name));

/**
 * The probe's verdict against a server that handles requests with `handle`: over HTTPS with the test
 * CA's server certificate where `https` is given, trusting AWS_CA_BUNDLE=`https.caBundle` (else Node's CAs).
 */
async function probeAgainst(handle: http.RequestListener, timeoutMs: number, https?: { caBundle?: string }): Promise<boolean> {
  const other = https ? httpsServer({ cert: fixture('server.pem'), key: fixture('server.key') }, handle) : http.createServer(handle);
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const previous = { S3_ENDPOINT: process.env.S3_ENDPOINT, AWS_CA_BUNDLE: process.env.AWS_CA_BUNDLE };
  process.env.S3_ENDPOINT = `${https ? 'https' : 'http'}://127.0.0.1:${(other.address() as AddressInfo).port}`;
  if (https?.caBundle) process.env.AWS_CA_BUNDLE = https.caBundle;
  else delete process.env.AWS_CA_BUNDLE;
  try {
    return await storageProbe()(AbortSignal.timeout(timeoutMs));
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  }
}

const forbidden: http.RequestListener = (_request, response) => { response.statusCode = 403; response.end(); };

test('the probe counts any HTTP answer, and a request that gets none does not', async () => {
  assert.equal(await storageProbe()(AbortSignal.timeout(2000)), true, 'HEAD of the bucket answered');
  // Wrong credentials are S3 answering: the steps report S3's own error; the worker is not taken off the queue.
  assert.equal(await probeAgainst(forbidden, 2000), true, 'a 403 is an answer');
  await assert.rejects(probeAgainst(() => { /* never answers */ }, 200), 'no answer within the probe timeout');
});

test('over HTTPS with a private CA: the probe trusts AWS_CA_BUNDLE; without it, it says which setting is missing', async () => {
  assert.equal(await probeAgainst(forbidden, 2000, { caBundle: path.join(TLS_FIXTURES, 'ca.pem') }), true, 'answered over TLS, the CA trusted');
  await assert.rejects(probeAgainst(forbidden, 2000, {}), (error: Error) => {
    assert.match(error.message, /^S3 at https:\/\/127\.0\.0\.1:\d+ presented a certificate this client does not trust \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate\): set AWS_CA_BUNDLE to the PEM file of the CA that signed it$/);
    return true;
  });
  await assert.rejects(probeAgainst(forbidden, 2000, { caBundle: path.join(TLS_FIXTURES, 'other-ca.pem') }),
    /does not trust .*: AWS_CA_BUNDLE=.*other-ca\.pem holds no CA that signed it: set AWS_CA_BUNDLE to that CA's PEM file/, 'another CA is no better, and named');
});

test('a missing artifact bucket: the worker says so once as it starts probing, and a step\'s S3 error names the bucket and the fix, still retried (it said only "The specified bucket does not exist")', async (t) => {
  const bucket = `sweep-no-such-bucket-${process.pid}`;
  // Answers as S3 does for a bucket that does not exist: HEAD a bare 404, other requests its NoSuchBucket error.
  const missing = http.createServer((request, response) => {
    response.writeHead(404, { 'Content-Type': 'application/xml' });
    response.end(request.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>${bucket}</BucketName></Error>`);
  });
  await new Promise<void>((resolve) => missing.listen(0, '127.0.0.1', resolve));
  t.after(() => { missing.closeAllConnections(); missing.close(); });
  // A fresh process: the store's client is made once per process, from the settings it finds then.
  const code = "import { S3ObjectStore, isStorageError, storageProbe } from './platform/s3-store'; import { storageConfig } from './platform/config'; " +
    "(async () => { const probe = storageProbe(storageConfig(), (message) => console.warn('[worker] ' + message)); for (let i = 0; i < 3; i++) console.log('probe answered', await probe(AbortSignal.timeout(5000))); " +
    "await new S3ObjectStore().put(storageConfig().bucket, 'key', 'x').catch((e) => console.log(JSON.stringify({ message: e.message, stack: e.stack.split('\\n')[0], retried: isStorageError(e) }))); })();";
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: path.join(__dirname, '..', '..'),
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SWEEP_STACK_ENV: '/nonexistent', S3_ENDPOINT: `http://127.0.0.1:${(missing.address() as AddressInfo).port}`,
      S3_FORCE_PATH_STYLE: 'true', S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1',
    },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => { out += chunk; });
  child.stderr.on('data', (chunk: Buffer) => { err += chunk; });
  await new Promise((resolve) => child.on('close', resolve));
  const said = `the artifact bucket S3_BUCKET=${bucket} does not exist at \\S+: create it \\(aws s3 mb s3://${bucket}, or mc mb\\), or set S3_BUCKET to one that does`;
  const logged = new RegExp(`^\\[worker\\] ${said}; steps that store artifacts are retried until it exists$`);
  assert.equal(err.split('\n').filter((line) => logged.test(line)).length, 1, `said once in three probes: ${err}`);
  const lines = out.trim().split('\n');
  assert.deepEqual(lines.slice(0, 3), ['probe answered true', 'probe answered true', 'probe answered true'], out);
  const failed = JSON.parse(lines[3]) as { message: string; stack: string; retried: boolean };
  assert.match(failed.message, new RegExp(`^${said}$`));
  // Temporal shows the stack, which began with S3's words.
  assert.match(failed.stack, new RegExp(`^NoSuchBucket: ${said}$`));
  assert.equal(failed.retried, true);
});

test('the contact\'s message quotes why the last probe got no answer', () => {
  const contact = contactAt(0);
  contact.record(false, 1000, 'first reason');
  contact.record(false, 2500, 'S3 at https://s3.test presented a certificate this client does not trust');
  assert.match((contact.signal.reason as Error).message,
    /has not answered this worker for 3 s \(the last try: S3 at https:\/\/s3\.test presented a certificate this client does not trust\): its steps stop/);
});

test('over HTTPS with a private CA, a PUT large enough to expect 100-continue trusts AWS_CA_BUNDLE too (the SDK\'s handler makes such a request an agent of its own)', async () => {
  const expected: string[] = [];
  const server = httpsServer({ cert: fixture('server.pem'), key: fixture('server.key') }, (request, response) => {
    expected.push(String(request.headers.expect));
    request.resume();
    request.on('end', () => { response.setHeader('ETag', '"e"'); response.end(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    // A fresh process: the store's client is made once per process, from the settings it finds then.
    const code = "import { S3ObjectStore } from './platform/s3-store'; new S3ObjectStore().put('bucket', 'key', Buffer.alloc(3 * 2 ** 20)).then(() => console.log('stored'), (e) => console.log(e.code ?? e.message));";
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], {
      cwd: path.join(__dirname, '..', '..'),
      env: {
        PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SWEEP_STACK_ENV: '/nonexistent', S3_ENDPOINT: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        AWS_CA_BUNDLE: path.join(TLS_FIXTURES, 'ca.pem'), AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1',
      },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk; });
    child.stderr.on('data', (chunk: Buffer) => { out += chunk; });
    await new Promise((resolve) => child.on('close', resolve));
    assert.equal(out.trim().split('\n').pop(), 'stored', out);
    assert.deepEqual(expected, ['100-continue'], 'the request expected 100-continue (the case the handler gives an agent of its own)');
  } finally {
    server.close();
  }
});
