// Reads event files back (tests, debugging, merging): TFRecord framing with CRC checks, then Events.
import { decodeEvent, type EventData } from './proto';
import { decodeRecords } from './tfrecord';

export function readEventFile(bytes: Uint8Array): EventData[] {
  return decodeRecords(bytes).map(decodeEvent);
}
