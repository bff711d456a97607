// When the client certificate a worker presents to Temporal expires, said at start: an expired one
// keeps every node out at once (the server refuses it), a classic outage of mutual TLS.

/** Days left before a warning: the cluster profile reissues a certificate 30 days before it expires. */
export const EXPIRY_WARNING_DAYS = 30;

const DAY_MS = 86_400_000;

/** The start-up line about a client certificate: whom it names, when it expires, and a warning near the end. */
export function certificateExpiryLine(subject: string, validTo: Date, now: Date): { line: string; warn: boolean } {
  const daysLeft = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
  const when = `${validTo.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const who = subject.split('\n').find((part) => part.startsWith('CN=')) ?? subject.replace(/\n/g, ', ');
  if (validTo.getTime() <= now.getTime()) {
    return { line: `the client certificate for Temporal (${who}) expired at ${when}: the server refuses it; issue a new one (the cluster profile: infra/nodes-up.sh, infra/cluster-up.sh)`, warn: true };
  }
  const warn = daysLeft < EXPIRY_WARNING_DAYS;
  return { line: `the client certificate for Temporal (${who}) expires at ${when}, in ${daysLeft} day(s)${warn ? ': renew it before then (the cluster profile reissues it when its node starts)' : ''}`, warn };
}
