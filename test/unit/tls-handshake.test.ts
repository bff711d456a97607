// The handshake of our own against real TLS servers in this process (test certificates in
// fixtures/tls), and the Temporal connection's use of it: a client kept out by TLS is told which
// setting to change instead of "failed to connect".
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net, { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { SettingError } from '../../platform/config';
import { connectClient } from '../../platform/temporal-connection';
import { ClientTls, tlsHandshake } from '../../platform/tls-handshake';
import { isTemporalUnreachable } from '../../cli/wait-for-temporal';
import { startSuggestWorker, suggestWorkerMissing } from '../../workers/suggest-worker';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', 'tls', name));
const ca = fixture('ca.pem');
const client = { cert: fixture('client.pem'), key: fixture('client.key') };

/** A server that asks for nothing, one that requires a client certificate of the test CA, one in plaintext. */
const servers = {
  tls: tls.createServer({ cert: fixture('server.pem'), key: fixture('server.key') }),
  mutual: tls.createServer({ cert: fixture('server.pem'), key: fixture('server.key'), requestCert: true, rejectUnauthorized: true, ca }),
  plaintext: net.createServer((socket) => socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'))),
  /** Accepts, then hangs up without a word: a load balancer with no backend, a server going down. */
  hangsUp: net.createServer((socket) => socket.on('data', () => socket.destroy())),
};
const ports = {} as Record<keyof typeof servers, number>;
let closedPort: number;

before(async () => {
  for (const [name, server] of Object.entries(servers)) {
    server.on('error', () => undefined);
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports[name as keyof typeof servers] = (server.address() as AddressInfo).port;
  }
  const spare = net.createServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  closedPort = (spare.address() as AddressInfo).port;
  await new Promise((resolve) => spare.close(resolve));
});
after(() => Object.values(servers).forEach((server) => server.close()));

const handshake = (server: keyof typeof servers, clientTls: ClientTls | undefined) => tlsHandshake('127.0.0.1', ports[server], clientTls);

test('a client set up as the server wants is accepted, by address or by a name the certificate holds', async () => {
  assert.deepEqual(await handshake('tls', { ca }), { kind: 'accepted' });
  assert.deepEqual(await handshake('mutual', { ca, ...client }), { kind: 'accepted' });
  assert.deepEqual(await handshake('mutual', { ca, ...client, serverName: 'localhost' }), { kind: 'accepted' });
});

test('what goes wrong is named by the failure a person can fix', async () => {
  assert.deepEqual(await handshake('tls', undefined), { kind: 'server-wants-tls' }, 'a plaintext client');
  assert.deepEqual(await handshake('mutual', undefined), { kind: 'server-wants-tls' }, 'a plaintext client of a server that wants certificates too');
  assert.deepEqual(await handshake('plaintext', { ca }), { kind: 'server-speaks-plaintext' });
  assert.equal(((await handshake('tls', {})) as { code: string }).code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'the CA not given');
  assert.equal(((await handshake('tls', { ca: fixture('other-ca.pem') })) as { code: string }).code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'another CA given');
  assert.equal(((await handshake('mutual', { ca })) as { code: string }).code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'no client certificate');
  // (A client certificate of another CA: Node's server hangs up without an alert; Temporal's names the
  // unknown CA, which the cluster test checks.)
  assert.equal(((await handshake('tls', { ca, serverName: 'elsewhere.test' })) as { code: string }).code, 'ERR_TLS_CERT_ALTNAME_INVALID', 'a name the certificate does not hold');
  assert.deepEqual(await tlsHandshake('127.0.0.1', closedPort, { ca }), { kind: 'no-answer' }, 'nothing listening: no TLS question');
  assert.deepEqual(await handshake('hangsUp', { ca }), { kind: 'no-answer' }, 'hung up before a hello: not taken for a plaintext server (a CLI waits it out)');
  assert.deepEqual(await tlsHandshake('127.0.0.1', closedPort, undefined), { kind: 'no-answer' });
});

/** The error `connect` fails with (undefined if it does not), with these TEMPORAL_* variables and no others. */
async function connectWith(env: Record<string, string>, connect = async () => (await connectClient()).connection.close()): Promise<unknown> {
  const names = ['TEMPORAL_ADDRESS', 'TEMPORAL_TLS', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_SERVER_NAME'];
  const previous = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  Object.assign(process.env, env);
  try {
    await connect();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    for (const [name, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

test('a Temporal client kept out by TLS fails within seconds with the setting to change, not as a server to wait for', async () => {
  const began = Date.now();
  const fixtures = path.join(__dirname, 'fixtures', 'tls');
  // By the name the certificate holds, as the cluster profile connects (gRPC warns when TLS is given an address for a name).
  const noCertificate = await connectWith({
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.mutual}`, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(fixtures, 'ca.pem'), TEMPORAL_TLS_SERVER_NAME: 'localhost',
  });
  assert.ok(noCertificate instanceof SettingError, String(noCertificate));
  assert.match(noCertificate.message, new RegExp(`^Temporal at 127\\.0\\.0\\.1:${ports.mutual} requires a client certificate \\(mutual TLS\\) .*set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH`));
  assert.equal(isTemporalUnreachable(noCertificate), false, 'a CLI does not wait for it to come back');

  const plaintext = await connectWith({ TEMPORAL_ADDRESS: `127.0.0.1:${ports.tls}` });
  assert.ok(plaintext instanceof SettingError);
  assert.match(plaintext.message, /speaks TLS and this client connects without it: set TEMPORAL_TLS=true/);

  const untrusted = await connectWith({ TEMPORAL_ADDRESS: `127.0.0.1:${ports.tls}`, TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_NAME: 'localhost' });
  assert.match((untrusted as Error).message, /does not trust .*set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the PEM file of the CA that signed it/);

  assert.ok(Date.now() - began < 12_000, `told within seconds each (the SDK alone retries for 10 s): ${Date.now() - began} ms for 3`);

  const down = await connectWith({ TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` });
  assert.ok(!(down instanceof SettingError), 'a server that is down is not a setting');
  assert.equal(isTemporalUnreachable(down), true, 'a server that is down is waited for');
});

test('the Python suggest worker kept out by TLS: its launcher names the setting (Python\'s SDK says "transport error")', { skip: suggestWorkerMissing() }, async () => {
  const fixtures = path.join(__dirname, 'fixtures', 'tls');
  // The launcher passes the worker's stderr on to its own: held here, to read what the worker said.
  let said = '';
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { said += chunk.toString(); return true; }) as typeof process.stderr.write;
  const error = await connectWith(
    { TEMPORAL_ADDRESS: `127.0.0.1:${ports.mutual}`, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(fixtures, 'ca.pem'), TEMPORAL_TLS_SERVER_NAME: 'localhost' },
    async () => { await (await startSuggestWorker('tls-test-suggest')).stop(); },
  ).finally(() => { process.stderr.write = write; });
  assert.ok(error instanceof SettingError, String(error));
  assert.match(error.message, /^the suggest worker could not connect: Temporal at 127\.0\.0\.1:\d+ requires a client certificate .*set TEMPORAL_TLS_CLIENT_CERT_PATH/);
  assert.match(said, new RegExp(`^\\[suggest-worker\\] could not connect to Temporal at 127\\.0\\.0\\.1:${ports.mutual} \\([^)]+\\): .*transport`, 'm'), said);
  assert.doesNotMatch(said, /Traceback/, 'one line, not a Python traceback: the cause is the settings, not the code');
});
