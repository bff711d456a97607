import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TemporalContact } from '../../activities/temporal-contact';

test('the longest silence counts past and current gaps since a moment, and only the part after it', () => {
  const contact = new TemporalContact(async () => undefined, () => true, 100);
  contact.stop();
  const t0 = Date.now();
  contact.contact(t0);
  contact.contact(t0 + 100); // normal probing: no silence recorded
  contact.contact(t0 + 6100); // a 6 s outage
  contact.contact(t0 + 6200);
  assert.equal(contact.longestSilenceSince(t0, t0 + 6300), 6000);
  assert.equal(contact.longestSilenceSince(t0 + 3100, t0 + 6300), 3000, 'only the part of the outage after the attempt started');
  assert.equal(contact.longestSilenceSince(t0 + 6150, t0 + 6300), 100, 'an attempt that started after the outage saw none of it');
  assert.equal(contact.longestSilenceSince(t0 + 6150, t0 + 9200), 3000, 'the current silence counts too');
});

test('probing records contact while the probe answers and stops once the worker is closed', async () => {
  let calls = 0;
  let closed = false;
  const contact = new TemporalContact(async () => { calls++; }, () => closed, 10);
  await sleep(80);
  assert.ok(calls >= 3, `${calls} probes`);
  assert.ok(contact.longestSilenceSince(0) < 60);
  closed = true;
  await sleep(30);
  const after = calls;
  await sleep(50);
  assert.equal(calls, after, 'no probes after the worker closed');
});
