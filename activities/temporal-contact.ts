// Whether this worker process reaches Temporal: a training attempt's evidence that its heartbeats
// still arrive. Temporal gives up on an attempt whose heartbeats stop for the heartbeat timeout and
// starts a retry elsewhere; an attempt that could not reach Temporal for that long is presumed dead
// and stops, instead of racing its own retry through an outage, a partition or a pause of its node.
export class TemporalContact {
  private lastContact = Date.now();
  /** Stretches without contact longer than two probe intervals, oldest first, kept for an hour. */
  private silences: Array<{ from: number; to: number }> = [];
  private inFlight = false;
  private readonly timer: NodeJS.Timeout;

  /**
   * `probe` is one cheap call to the server, run every `intervalMs`, that must fail within `timeoutMs`;
   * probing ends once `closed()` (the worker using the connection has stopped).
   */
  constructor(
    private readonly probe: (deadline: number) => Promise<unknown>,
    private readonly closed: () => boolean = () => false,
    private readonly intervalMs = 500,
    private readonly timeoutMs = 2000,
  ) {
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.closed()) {
      this.stop();
      return;
    }
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      await this.probe(Date.now() + this.timeoutMs);
      this.contact(Date.now());
    } catch {
      // Unreachable: the silence grows until the next successful probe.
    } finally {
      this.inFlight = false;
    }
  }

  /** Records a successful call at `now` (probes call it; exposed for tests). */
  contact(now: number): void {
    if (now - this.lastContact > 2 * this.intervalMs) this.silences.push({ from: this.lastContact, to: now });
    this.lastContact = now;
    while (this.silences.length && this.silences[0].to < now - 3_600_000) this.silences.shift();
  }

  /** The longest time without contact within [since, now], the current silence included. */
  longestSilenceSince(since: number, now = Date.now()): number {
    let longest = now - Math.max(this.lastContact, since);
    for (const { from, to } of this.silences) if (to > since) longest = Math.max(longest, to - Math.max(from, since));
    return longest;
  }

  stop(): void {
    clearInterval(this.timer);
    contacts.delete(this);
  }
}

const contacts = new Set<TemporalContact>();

/** Registered by a worker that runs training; with none (as in unit tests) nothing is checked. */
export function watchTemporalContact(contact: TemporalContact): void {
  contacts.add(contact);
}

/** The process's longest silence since `since`: the shortest over its workers' connections, any of which carries heartbeats. */
export function longestSilenceSince(since: number): number | undefined {
  return contacts.size ? Math.min(...[...contacts].map((c) => c.longestSilenceSince(since))) : undefined;
}
