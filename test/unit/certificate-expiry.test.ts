import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificateExpiryLine } from '../../lib/certificate-expiry';

const subject = 'O=sweep cluster\nCN=gpu1';
const now = new Date('2026-12-05T17:00:00Z');

test('a certificate far from its end: whom it names, when, how many days; no warning', () => {
  assert.deepEqual(certificateExpiryLine(subject, new Date('2027-12-05T16:49:40Z'), now), {
    line: 'the client certificate for Temporal (CN=gpu1) expires at 2027-12-05 16:49 UTC, in 364 day(s)', warn: false,
  });
});

test('within 30 days of its end it warns; past its end it says the server refuses it', () => {
  const near = certificateExpiryLine(subject, new Date('2026-12-20T00:00:00Z'), now);
  assert.equal(near.warn, true);
  assert.match(near.line, /expires at 2026-12-20 00:00 UTC, in 14 day\(s\): renew it before then/);
  const past = certificateExpiryLine(subject, new Date('2026-12-01T00:00:00Z'), now);
  assert.equal(past.warn, true);
  assert.match(past.line, /^the client certificate for Temporal \(CN=gpu1\) expired at 2026-12-01 00:00 UTC: the server refuses it/);
});

test('a subject without a common name is named whole', () => {
  assert.match(certificateExpiryLine('O=acme\nOU=ml', new Date('2027-06-01T00:00:00Z'), now).line, /\(O=acme, OU=ml\)/);
});
