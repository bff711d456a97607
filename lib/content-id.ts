// Content ids for artifacts: sha256 of a canonical JSON rendering (object keys sorted), so the same
// inputs give the same id on every machine and in every process.
import { createHash } from 'node:crypto';

/** sha256 of bytes, in hex: how images, heads and packs are named and checked. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function contentId(value: unknown, length = 24): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, length);
}

/** A part of several ids rendered once (canonicalJson): it renders as it would have, without the work. */
export class RenderedJson {
  constructor(readonly json: string) {}
}

export function canonicalJson(value: unknown): string {
  if (value instanceof RenderedJson) return value.json;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
