// What a failed TLS connection means for the person who configured it, and which setting fixes it.
// Node and OpenSSL name the problem by an error code; gRPC clients (Temporal's) hide it behind "failed
// to connect", so platform/tls-handshake.ts makes a handshake of its own to learn it.
import { findCause } from './errors';

/** How a TLS handshake with a server went, as this client would make it (platform/tls-handshake.ts). */
export type HandshakeOutcome =
  /** Refused, timed out, no route: not a TLS question. */
  | { kind: 'no-answer' }
  /** The handshake completed and the server kept the connection open. */
  | { kind: 'accepted' }
  /** This client speaks plaintext and the server speaks TLS. */
  | { kind: 'server-wants-tls' }
  /** This client speaks TLS and the server does not. */
  | { kind: 'server-speaks-plaintext' }
  /** The handshake failed: a Node/OpenSSL error code and its message. */
  | { kind: 'failed'; code: string; message: string };

/** The settings a message names, for one service (Temporal, S3). */
export interface TlsSettingNames {
  /** The service and where, e.g. "Temporal at 10.0.0.1:7233". */
  server: string;
  /** Turns TLS on, e.g. "TEMPORAL_TLS=true" or "an https:// S3_ENDPOINT". */
  tlsOn: string;
  /** Turns it off. */
  tlsOff: string;
  /** The CA file, e.g. TEMPORAL_TLS_SERVER_CA_CERT_PATH or AWS_CA_BUNDLE. */
  ca: string;
  /** Its value now, where it is set (a machine may set AWS_CA_BUNDLE for every tool to the system's CAs). */
  caNow?: string;
  /** The client certificate and key, where the service can ask for one. */
  clientCertificate?: string;
  /** Where the certificate's name can be overridden, if anywhere. */
  serverName?: string;
}

/** The certificate chain did not lead to a CA this client trusts. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
]);
const OUT_OF_DATE = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
/** The server wanted a client certificate and got none (TLS 1.3, then 1.2's generic alert). */
const CERTIFICATE_REQUIRED = new Set(['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']);
/** The server refused the certificate this client sent. */
const CERTIFICATE_REFUSED = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE', 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
]);
/** What a TLS client reads when the server answers in plaintext. */
const PLAINTEXT_ANSWER = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

/** Whether `code` is what a TLS client reads when the server answers in plaintext. */
export const isPlaintextAnswer = (code: string) => PLAINTEXT_ANSWER.has(code);

/** Whether `code` is a TLS problem tlsAdvice can explain (so a caller tells it from a server that is down). */
export function isTlsErrorCode(code: string): boolean {
  return UNTRUSTED.has(code) || OUT_OF_DATE.has(code) || CERTIFICATE_REQUIRED.has(code) || CERTIFICATE_REFUSED.has(code)
    || PLAINTEXT_ANSWER.has(code) || code === 'ERR_TLS_CERT_ALTNAME_INVALID';
}

/** The problem and its fix, one line; undefined where the outcome is not a TLS problem. */
export function tlsAdvice(outcome: HandshakeOutcome, names: TlsSettingNames, sentClientCertificate: boolean): string | undefined {
  const { server } = names;
  switch (outcome.kind) {
    case 'no-answer':
    case 'accepted':
      return undefined;
    case 'server-wants-tls':
      return `${server} speaks TLS and this client connects without it: set ${names.tlsOn}, and ${names.ca} to the PEM file of its CA where a private CA signed its certificate`;
    case 'server-speaks-plaintext':
      return `${server} does not speak TLS and this client does: set ${names.tlsOff}`;
    case 'failed':
      return failedAdvice(outcome, names, sentClientCertificate);
  }
}

function failedAdvice({ code, message }: { code: string; message: string }, names: TlsSettingNames, sentClientCertificate: boolean): string | undefined {
  const { server } = names;
  const detail = `${code}: ${firstLine(message)}`;
  if (UNTRUSTED.has(code)) {
    const fix = names.caNow
      ? `${names.ca}=${names.caNow} holds no CA that signed it: set ${names.ca} to that CA's PEM file (a variable set in the environment wins over the stack's env file)`
      : `set ${names.ca} to the PEM file of the CA that signed it`;
    return `${server} presented a certificate this client does not trust (${detail}): ${fix}`;
  }
  if (OUT_OF_DATE.has(code)) return `${server} presented a certificate outside its validity dates (${detail}): renew the server's certificate, or correct this machine's clock`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `${server} presented a certificate for another name (${detail}): connect by a name or address the certificate holds${names.serverName ? `, or set ${names.serverName} to one` : ''}`;
  }
  if (PLAINTEXT_ANSWER.has(code)) return `${server} answered in plaintext (${detail}): set ${names.tlsOff}`;
  const certificate = names.clientCertificate ?? 'a client certificate';
  // TLS 1.2 servers say only "handshake failure" when a required client certificate is missing.
  if (!sentClientCertificate && (CERTIFICATE_REQUIRED.has(code) || code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE')) {
    return `${server} requires a client certificate (mutual TLS) and this client sends none (${detail}): set ${certificate}`;
  }
  if (CERTIFICATE_REFUSED.has(code) || CERTIFICATE_REQUIRED.has(code)) {
    return `${server} refused this client's certificate (${detail}): use one signed by a CA the server trusts (${certificate})`;
  }
  return undefined;
}

/** A message as a person reads it: OpenSSL's reason alone (not its "<hex>:error:<hex>:SSL routines:<function>:" frame), Node's hint left out. */
function firstLine(text: string): string {
  const line = text.split('\n')[0];
  return /error:[0-9A-F]+:SSL routines:[^:]*:([^:]+)/.exec(line)?.[1] ?? line.replace(/; if the root CA is installed locally.*$/, '');
}

/** The first TLS error code in an error's cause chain (the AWS SDK and fetch wrap Node's). */
export function tlsErrorCodeOf(error: unknown): { code: string; message: string } | undefined {
  const found = findCause(error, (e) => typeof e.code === 'string' && isTlsErrorCode(e.code));
  return found && { code: found.code as string, message: String(found.message ?? '') };
}
