import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HandshakeOutcome, TlsSettingNames, tlsAdvice, tlsErrorCodeOf } from '../../lib/tls-advice';

const temporal: TlsSettingNames = {
  server: 'Temporal at t:7233', tlsOn: 'TEMPORAL_TLS=true', tlsOff: 'TEMPORAL_TLS=false', ca: 'CA_PATH',
  clientCertificate: 'CERT_PATH and KEY_PATH', serverName: 'SERVER_NAME',
};
const failed = (code: string, message = 'the message'): HandshakeOutcome => ({ kind: 'failed', code, message });

test('no advice where the handshake says nothing about TLS: no answer (a server down), or accepted', () => {
  assert.equal(tlsAdvice({ kind: 'no-answer' }, temporal, false), undefined);
  assert.equal(tlsAdvice({ kind: 'accepted' }, temporal, true), undefined);
  assert.equal(tlsAdvice(failed('ERR_SOMETHING_ELSE'), temporal, true), undefined, 'an error it cannot name is left to the caller');
});

test('each TLS problem names the setting that fixes it', () => {
  assert.match(tlsAdvice({ kind: 'server-wants-tls' }, temporal, false)!, /^Temporal at t:7233 speaks TLS and this client connects without it: set TEMPORAL_TLS=true, and CA_PATH/);
  assert.match(tlsAdvice({ kind: 'server-speaks-plaintext' }, temporal, false)!, /does not speak TLS and this client does: set TEMPORAL_TLS=false$/);
  for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT']) {
    assert.match(tlsAdvice(failed(code), temporal, true)!, new RegExp(`does not trust \\(${code}: the message\\): set CA_PATH to the PEM file of the CA that signed it$`));
  }
  assert.match(tlsAdvice(failed('SELF_SIGNED_CERT_IN_CHAIN'), { ...temporal, caNow: '/etc/ssl/certs/ca-certificates.crt' }, true)!,
    /: CA_PATH=\/etc\/ssl\/certs\/ca-certificates\.crt holds no CA that signed it: set CA_PATH to that CA's PEM file \(a variable set in the environment wins over the stack's env file\)$/,
    'a CA file set, but not the right one (a machine that sets AWS_CA_BUNDLE for every tool), says so');
  assert.match(tlsAdvice(failed('CERT_HAS_EXPIRED'), temporal, true)!, /outside its validity dates .*renew the server's certificate, or correct this machine's clock/);
  assert.match(tlsAdvice(failed('ERR_TLS_CERT_ALTNAME_INVALID'), temporal, true)!, /for another name .*or set SERVER_NAME to one$/);
  assert.match(tlsAdvice(failed('ERR_SSL_WRONG_VERSION_NUMBER'), temporal, true)!, /answered in plaintext .*set TEMPORAL_TLS=false$/);
});

test('a missing client certificate is told from a refused one', () => {
  const required = failed('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  assert.match(tlsAdvice(required, temporal, false)!, /requires a client certificate \(mutual TLS\) and this client sends none .*: set CERT_PATH and KEY_PATH$/);
  // TLS 1.2 servers say only "handshake failure": a missing certificate where none was sent, nothing we can name where one was.
  assert.match(tlsAdvice(failed('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), temporal, false)!, /requires a client certificate/);
  assert.equal(tlsAdvice(failed('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), temporal, true), undefined);
  assert.match(tlsAdvice(failed('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), temporal, true)!, /refused this client's certificate .*use one signed by a CA the server trusts \(CERT_PATH and KEY_PATH\)$/);
});

test('messages read as a person would: OpenSSL\'s reason without its frame, Node\'s system-CA hint left out', () => {
  const openssl = '404DF0815A7F0000:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 116\n';
  assert.match(tlsAdvice(failed('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', openssl), temporal, false)!, /\(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required\)/);
  const node = 'unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca';
  assert.match(tlsAdvice(failed('UNABLE_TO_VERIFY_LEAF_SIGNATURE', node), temporal, true)!, /\(UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate\): set/);
});

test('tlsErrorCodeOf finds a TLS code down an error\'s cause chain, and nothing in other errors', () => {
  const tlsError = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  const wrapped = new Error('request failed', { cause: new Error('socket', { cause: tlsError }) });
  assert.deepEqual(tlsErrorCodeOf(wrapped), { code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain' });
  assert.equal(tlsErrorCodeOf(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), undefined);
  assert.equal(tlsErrorCodeOf('a string'), undefined);
});
