// TFRecord framing (tensorflow/core/lib/io/record_writer.cc), the container format of event files:
//   uint64 length (little endian) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
import { maskedCrc32c } from './crc32c';

/** Frames one record. */
export function encodeRecord(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

export class TFRecordError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'TFRecordError';
  }
}

/**
 * Splits a buffer of framed records back into their payloads, checking both CRCs. Throws TFRecordError
 * on a bad CRC or a truncated record (an event file is only ever written whole here, so a truncated
 * tail means corruption, not a writer still appending).
 */
export function decodeRecords(buf: Uint8Array): Buffer[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: Buffer[] = [];
  let off = 0;
  while (off < b.length) {
    if (b.length - off < 12) throw new TFRecordError('truncated record header', off);
    const header = b.subarray(off, off + 8);
    if (b.readUInt32LE(off + 8) !== maskedCrc32c(header)) throw new TFRecordError('length CRC mismatch', off);
    const len = b.readBigUInt64LE(off);
    if (len > BigInt(b.length - off - 16)) throw new TFRecordError('truncated record data', off);
    const n = Number(len);
    const data = b.subarray(off + 12, off + 12 + n);
    if (b.readUInt32LE(off + 12 + n) !== maskedCrc32c(data)) throw new TFRecordError('data CRC mismatch', off);
    records.push(data);
    off += 16 + n;
  }
  return records;
}
