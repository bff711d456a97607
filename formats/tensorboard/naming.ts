// Event file names, and how a trial's event files are laid out on S3.
//
// S3 objects cannot be appended to, so instead of one growing file per run we write a series of small,
// complete event files, each uploaded with a single PUT (atomic: a reader sees the old object or the new
// one, never half a file). TensorBoard treats every file whose name contains "tfevents" in a directory as
// part of that directory's run and reads them in file-name order, so names follow TensorBoard's own
// convention and sort in write order:
//
//     events.out.tfevents.<timestamp>.<host>.<sequence>
//     timestamp: whole seconds, zero-padded to 10 digits; sequence: zero-padded to 8 digits
//
// No duplicate steps after a resume. Every name is a pure function of (base time, host, sequence), and a
// trial's base time and host token are fixed once, when the trial is created, and kept in durable
// (workflow) state; they are NOT the wall clock or the hostname of whichever worker runs the activity.
// The sequence is derived from the epoch (EventFileSeries below): file k holds exactly the events of
// epoch k (its scalars, histograms, all at steps belonging to that epoch). A retried activity or a trial
// resumed from a checkpoint therefore recomputes the same object key for an epoch it writes again, and
// the PUT replaces the earlier file instead of adding a second copy of the same steps. Layout of a run:
//
//     sequence 0            header: hparams session_start_info (+ graph)        EventFileSeries.headerName()
//     sequence epoch+1      that epoch's scalars/histograms                     EventFileSeries.epochName(e)
//     sequence 99999999     footer: hparams session_end_info (status), sorts last   EventFileSeries.footerName()
//
// The one case a rewrite cannot cover: a crashed attempt uploaded epochs beyond the checkpoint the trial
// resumed from, and the resumed attempt stops earlier (e.g. early stopping) and never rewrites them. When
// a trial resumes from epoch k (or when it finishes), list the run directory and delete
// `series.staleEpochFiles(keys, lastEpoch)`. A stale footer (e.g. "failure" from the crashed attempt) is
// simply overwritten by the next footerName() PUT; write status "running" there on resume if it matters.
//
// Caveat for a TensorBoard that is watching the bucket live: loaders read each file incrementally and
// may not notice that an object was replaced under the same name; restart TensorBoard (or reload with a
// fresh process) to be sure to see rewritten epochs. Files with new names are picked up normally.

export const EVENT_FILE_PREFIX = 'events.out.tfevents.';
export const TIMESTAMP_WIDTH = 10;
export const SEQUENCE_WIDTH = 8;
export const MAX_SEQUENCE = 10 ** SEQUENCE_WIDTH - 1;

function checkInteger(what: string, v: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new RangeError(`${what} must be an integer in [0, ${max}], got ${v}`);
}

/** Replaces characters that could break a path or the name's structure; throws if nothing usable is left. */
export function sanitizeHost(host: string): string {
  const h = host.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+|\.+$/g, '');
  if (!h) throw new Error(`unusable host token ${JSON.stringify(host)}`);
  return h;
}

/**
 * `events.out.tfevents.<timestamp>.<host>.<sequence>`. `wallTimeSeconds` is floored (pass the run's fixed
 * base time, not the flush time; see above). Names of one (timestamp, host) series sort by sequence.
 */
export function eventFileName(wallTimeSeconds: number, host: string, sequence: number): string {
  const ts = Math.floor(wallTimeSeconds);
  checkInteger('timestamp', ts, 10 ** TIMESTAMP_WIDTH - 1);
  checkInteger('sequence', sequence, MAX_SEQUENCE);
  return `${EVENT_FILE_PREFIX}${String(ts).padStart(TIMESTAMP_WIDTH, '0')}.${sanitizeHost(host)}.${String(sequence).padStart(SEQUENCE_WIDTH, '0')}`;
}

export interface ParsedEventFileName {
  timestamp: number;
  host: string;
  sequence: number;
}

const NAME_RE = new RegExp(`^${EVENT_FILE_PREFIX.replace(/\./g, '\\.')}(\\d{${TIMESTAMP_WIDTH}})\\.(.+)\\.(\\d{${SEQUENCE_WIDTH}})$`);

/** Parses a name produced by eventFileName (a full key or path is accepted: only the basename is used). */
export function parseEventFileName(nameOrKey: string): ParsedEventFileName | null {
  const base = nameOrKey.slice(nameOrKey.lastIndexOf('/') + 1);
  const m = NAME_RE.exec(base);
  return m ? { timestamp: Number(m[1]), host: m[2], sequence: Number(m[3]) } : null;
}

/** The event file names of one run (trial), from its durable base time and host token. */
export class EventFileSeries {
  static readonly HEADER_SEQUENCE = 0;
  static readonly FOOTER_SEQUENCE = MAX_SEQUENCE;
  readonly host: string;
  readonly baseTimeSeconds: number;

  constructor(baseTimeSeconds: number, host: string) {
    this.baseTimeSeconds = Math.floor(baseTimeSeconds);
    this.host = sanitizeHost(host);
    eventFileName(this.baseTimeSeconds, this.host, 0); // validate early
  }

  headerName(): string {
    return eventFileName(this.baseTimeSeconds, this.host, EventFileSeries.HEADER_SEQUENCE);
  }

  /** Epochs may be 0- or 1-based; any integer in [0, MAX_SEQUENCE - 2] works. */
  epochName(epoch: number): string {
    checkInteger('epoch', epoch, MAX_SEQUENCE - 2);
    return eventFileName(this.baseTimeSeconds, this.host, epoch + 1);
  }

  footerName(): string {
    return eventFileName(this.baseTimeSeconds, this.host, EventFileSeries.FOOTER_SEQUENCE);
  }

  /** Whether a name (or key) belongs to this series. */
  owns(nameOrKey: string): boolean {
    const p = parseEventFileName(nameOrKey);
    return p !== null && p.timestamp === this.baseTimeSeconds && p.host === this.host;
  }

  /**
   * Of `existing` names/keys (a listing of the run directory), the epoch files of this series for epochs
   * after `lastEpoch`: left over from an earlier attempt, to delete so they don't show steps the final
   * attempt never produced. Header, footer and other series' files are never returned.
   */
  staleEpochFiles(existing: Iterable<string>, lastEpoch: number): string[] {
    const out: string[] = [];
    for (const name of existing) {
      const p = parseEventFileName(name);
      if (!p || !this.owns(name)) continue;
      if (p.sequence === EventFileSeries.HEADER_SEQUENCE || p.sequence === EventFileSeries.FOOTER_SEQUENCE) continue;
      if (p.sequence - 1 > lastEpoch) out.push(name);
    }
    return out;
  }
}
