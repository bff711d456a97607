// activities/ingest.ts zipEntryName: zip names as the tools that wrote them meant them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { zipEntryName } from '../../activities/ingest';

const entry = (raw: Buffer, flags = 0, extraFields: Array<{ id: number; data: Buffer }> = []) => ({ generalPurposeBitFlag: flags, fileNameRaw: raw, extraFields });

test('UTF-8 names without the UTF-8 flag (macOS, Linux zip) read as UTF-8, as flagged ones do', () => {
  for (const name of ['éclair/1.jpg', 'éclair/1.jpg'.normalize('NFD'), 'fleur de lys ⚜/a.png', 'daisy/1.jpg']) {
    assert.equal(zipEntryName(entry(Buffer.from(name, 'utf8'), 0x800)), name);
    assert.equal(zipEntryName(entry(Buffer.from(name, 'utf8'))), name, 'unflagged');
  }
});

test('names that are not valid UTF-8 read as code page 437, as the format says', () => {
  // 0x82 is "é" in CP437, and a lone continuation byte in UTF-8.
  assert.equal(zipEntryName(entry(Buffer.from([0x63, 0x61, 0x66, 0x82, 0x2f, 0x31]))), 'café/1');
});

test("Info-ZIP's Unicode path field, when present, decides", () => {
  const raw = Buffer.from('e?clair/1.jpg', 'latin1');
  const name = Buffer.from('éclair/1.jpg', 'utf8');
  const field = Buffer.alloc(5 + name.length);
  field.writeUInt8(1, 0);
  field.writeUInt32LE(zlib.crc32(raw) >>> 0, 1);
  name.copy(field, 5);
  assert.equal(zipEntryName(entry(raw, 0, [{ id: 0x7075, data: field }])), 'éclair/1.jpg');
});

test('backslashes (Windows tools) are folder separators in every decoding, as yauzl makes them', () => {
  for (const flags of [0, 0x800]) {
    assert.equal(zipEntryName(entry(Buffer.from('flowers\\rose\\', 'utf8'), flags)), 'flowers/rose/');
    assert.equal(zipEntryName(entry(Buffer.from('flowers\\rosé\\1.jpg', 'utf8'), flags)), 'flowers/rosé/1.jpg');
  }
  assert.equal(zipEntryName(entry(Buffer.from([0x63, 0x61, 0x66, 0x82, 0x5c, 0x31]))), 'café/1', 'CP437');
});
