// A request Temporal refused for who made it: an authorizer (the cluster profile's, Temporal Cloud's)
// gives this client's certificate or API key no role for it in the namespace. Said with who the client
// is and where, since the server says only "Request unauthorized".
import { isGrpcServiceError } from '@temporalio/client';
import { findCause, rootMessage } from '../lib/errors';
import { temporalAddress, temporalClientIdentity, temporalNamespace } from '../platform/temporal-connection';

const PERMISSION_DENIED = 7;

/** The line for a request Temporal refused this client (PERMISSION_DENIED), or undefined for any other error. */
export function temporalPermissionAdvice(error: unknown): string | undefined {
  const denied = findCause(error, (e) => isGrpcServiceError(e) && e.code === PERMISSION_DENIED);
  if (!denied) return undefined;
  return `Temporal at ${temporalAddress()} refused this request in namespace ${temporalNamespace()} (${rootMessage(denied)}): ` +
    `it does not let ${temporalClientIdentity()} do this there; use credentials that may, or the namespace they are for (TEMPORAL_NAMESPACE)`;
}
