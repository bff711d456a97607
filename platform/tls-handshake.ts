// A TLS handshake of our own with a server a client could not reach, made as that client would make
// it, to learn why (lib/tls-advice.ts says what it means): gRPC clients report only "failed to connect".
import net from 'node:net';
import tls from 'node:tls';
import { type HandshakeOutcome, isPlaintextAnswer } from '../lib/tls-advice';

/** How the client connects: TLS with these (ca undefined: Node's CAs), or plaintext (undefined). */
export interface ClientTls {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  serverName?: string;
}

/**
 * After the handshake, how long to wait for a refusal: a TLS 1.3 server checks the client's certificate
 * after the client has finished its side, so its "certificate required" alert comes a round trip later.
 */
const REFUSAL_WAIT_MS = 300;

/** Connects to host:port as the client would (`clientTls`, else plaintext) and reports what the handshake found. */
export async function tlsHandshake(host: string, port: number, clientTls: ClientTls | undefined, timeoutMs = 3000): Promise<HandshakeOutcome> {
  if (!clientTls) {
    // A plaintext client: does the server speak TLS? Ask in TLS, trusting anything.
    const outcome = await handshakeWith(host, port, { rejectUnauthorized: false }, timeoutMs);
    // A completed handshake, or an alert (a certificate it wants): either way it speaks TLS.
    return outcome.kind === 'accepted' || outcome.kind === 'failed' ? { kind: 'server-wants-tls' } : { kind: 'no-answer' };
  }
  const { ca, cert, key, serverName } = clientTls;
  return handshakeWith(host, port, {
    ca, cert, key,
    // Node sends no SNI for an address, and warns when told to (RFC 6066).
    servername: serverName ?? (net.isIP(host) ? undefined : host),
    // The name is checked against the override, as gRPC checks it.
    ...(serverName ? { checkServerIdentity: (_host: string, peer: tls.PeerCertificate) => tls.checkServerIdentity(serverName, peer) } : {}),
  }, timeoutMs);
}

function handshakeWith(host: string, port: number, options: tls.ConnectionOptions, timeoutMs: number): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = tls.connect({ host, port, ALPNProtocols: ['h2', 'http/1.1'], ...options });
    const timer = setTimeout(() => settle({ kind: 'no-answer' }), timeoutMs).unref();
    function settle(outcome: HandshakeOutcome) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    }
    let secure = false;
    socket.once('secureConnect', () => {
      secure = true;
      setTimeout(() => settle({ kind: 'accepted' }), REFUSAL_WAIT_MS);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      // Only bytes that are not TLS say "plaintext" (a plaintext gRPC or HTTP server answers so); a
      // connection closed before the server's hello may be a load balancer without a backend, or a
      // server going down: no answer, which a CLI waits out.
      if (isPlaintextAnswer(code)) settle({ kind: 'server-speaks-plaintext' });
      else if (/^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|ECONNRESET)$/.test(code)) settle({ kind: 'no-answer' });
      else settle({ kind: 'failed', code, message: error.message });
    });
    // Closed after the handshake without an alert: the server dropped us, but said nothing TLS could name.
    socket.once('close', () => settle(secure ? { kind: 'accepted' } : { kind: 'no-answer' }));
  });
}
