import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { ServiceError } from '@temporalio/client';
import { temporalPermissionAdvice } from '../../platform/permission-advice';

const fixtures = path.join(__dirname, 'fixtures', 'tls');
const names = ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_API_KEY'];
const previous = Object.fromEntries(names.map((name) => [name, process.env[name]]));
after(() => {
  for (const [name, value] of Object.entries(previous)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** What the client throws when the server's authorizer says no, as it throws it. */
function refused(code = 7, text = 'PERMISSION_DENIED: Request unauthorized.'): ServiceError {
  const grpc = Object.assign(new Error(`${code} ${text}`), { code, details: text.replace(/^\w+: /, ''), metadata: {} });
  return new ServiceError('Failed to list workflows', { cause: grpc });
}

test('a request refused for who made it says who (the certificate\'s subject, or an API key), the namespace, and what to change', () => {
  Object.assign(process.env, {
    TEMPORAL_ADDRESS: '10.0.0.1:7333', TEMPORAL_NAMESPACE: 'sweeps',
    TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(fixtures, 'client.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(fixtures, 'client.key'),
  });
  assert.match(temporalPermissionAdvice(refused())!, new RegExp('^Temporal at 10\\.0\\.0\\.1:7333 refused this request in namespace sweeps \\(7 PERMISSION_DENIED: Request unauthorized\\.\\): ' +
    'it does not let the client certificate .*CN=.* \\(TEMPORAL_TLS_CLIENT_CERT_PATH\\) do this there; use credentials that may, or the namespace they are for \\(TEMPORAL_NAMESPACE\\)$'));
  delete process.env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  delete process.env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  process.env.TEMPORAL_API_KEY = 'not-a-real-key';
  assert.match(temporalPermissionAdvice(refused())!, /it does not let the API key \(TEMPORAL_API_KEY\) do this there/);
  assert.doesNotMatch(temporalPermissionAdvice(refused())!, /not-a-real-key/, 'never the key itself');
});

test('a worker refused (the Rust core\'s Status in a TransportError\'s message) is said the same way, with the server\'s words only', () => {
  process.env.TEMPORAL_NAMESPACE = 'temporal-system';
  const core = new Error('Namespace temporal-system was not found or otherwise could not be described: Status { code: PermissionDenied, message: "Request unauthorized.", ' +
    'details: b"\\x08\\x07", metadata: MetadataMap { headers: {} }, source: None }');
  core.name = 'TransportError';
  assert.match(temporalPermissionAdvice(core)!, /^Temporal at \S+ refused this request in namespace temporal-system \(PermissionDenied: Request unauthorized\.\): it does not let /);
  assert.equal(temporalPermissionAdvice(new Error('Status { code: NotFound, message: "namespace not found" }')), undefined);
});

test('other errors are not a refusal', () => {
  assert.equal(temporalPermissionAdvice(refused(5, 'NOT_FOUND: workflow not found')), undefined);
  assert.equal(temporalPermissionAdvice(refused(16, 'UNAUTHENTICATED: bad token')), undefined);
  assert.equal(temporalPermissionAdvice(new Error('7 PERMISSION_DENIED in a message only')), undefined);
});
