// A request Temporal refused for who made it: an authorizer (the cluster profile's, Temporal Cloud's)
// gives this client's certificate or API key no role for it in the namespace. Said with who the client
// is and where, since the server says only "Request unauthorized".
import { isGrpcServiceError } from '@temporalio/client';
import { findCause, rootMessage } from '../lib/errors';
import { temporalAddress, temporalClientIdentity, temporalNamespace } from './temporal-connection';

const PERMISSION_DENIED = 7;

/**
 * The server's words when it refused this client: from the TS client's gRPC error, or from a worker's
 * (the Rust core's Status, in the message of a TransportError); undefined for any other error.
 */
function refusal(error: unknown): string | undefined {
  const grpc = findCause(error, (e) => isGrpcServiceError(e) && e.code === PERMISSION_DENIED);
  if (grpc) return rootMessage(grpc);
  const core = findCause(error, (e) => /\bcode: PermissionDenied\b/.test(String(e.message ?? '')));
  return core && `PermissionDenied: ${/message: "([^"]*)"/.exec(String(core.message))?.[1] ?? 'refused'}`;
}

/** The line for a request Temporal refused this client (PERMISSION_DENIED), or undefined for any other error. */
export function temporalPermissionAdvice(error: unknown): string | undefined {
  const refused = refusal(error);
  if (!refused) return undefined;
  return `Temporal at ${temporalAddress()} refused this request in namespace ${temporalNamespace()} (${refused}): ` +
    `it does not let ${temporalClientIdentity()} do this there; use credentials that may, or the namespace they are for (TEMPORAL_NAMESPACE)`;
}
