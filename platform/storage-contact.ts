// Whether this worker process reaches S3. A worker cut off from S3 while it still reaches Temporal
// (a network split, a broken route, an endpoint down for its node alone) would go on taking steps
// that can only wait for S3, each up to the S3 client's 60 s socket timeout, and a step's retry could
// land on it again. With a contact, such a worker stops taking tasks until S3 answers again
// (workers/storage-gate.ts), and its steps' S3 requests fail at once (platform/s3-store.ts,
// withStorageGate), so they are retried on workers that reach S3.

/** Why a step's S3 request was cut off, or not sent: this worker has lost S3 (see StorageContact). */
export class StorageUnreachableError extends Error {
  override name = 'StorageUnreachableError';
}

export interface StorageContactOptions {
  /** How often S3 is asked (one probe at a time). */
  intervalMs: number;
  /** A probe not answered within this is not answered. */
  probeTimeoutMs: number;
  /**
   * S3 is unreachable once no probe has been answered for this long (SWEEP_S3_UNREACHABLE_AFTER_S),
   * and two probes in a row went unanswered (one that spanned a pause of this process, a stopped
   * node or a long garbage collection, is not enough).
   */
  unreachableAfterMs: number;
  /** S3 as messages name it (its endpoint). */
  name: string;
}

/**
 * `probe` asks S3 one cheap question and resolves whether it answered: any HTTP response counts (a
 * 403 is an answer: the steps report their own errors), a connection or a request that fails or
 * hangs does not (it may reject, saying why: the contact's message quotes the last reason). It must
 * give up once `signal` aborts.
 */
export type StorageProbe = (signal: AbortSignal) => Promise<boolean>;

export class StorageContact {
  private lastAnswer: number;
  private unansweredInARow = 0;
  private gate = new AbortController();
  private readonly listeners = new Set<(reachable: boolean) => void>();
  private timer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(
    private readonly probe: StorageProbe,
    private readonly options: StorageContactOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.lastAnswer = now();
  }

  /** Starts probing every `intervalMs`; the timer does not keep the process alive. */
  start(): this {
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs).unref();
    void this.tick();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get reachable(): boolean {
    return !this.gate.signal.aborted;
  }

  /**
   * Aborts, with a StorageUnreachableError as its reason, when S3 turns unreachable; a new signal is
   * handed out once S3 answers again. Requests tied to it (withStorageGate) fail at once from then on.
   */
  get signal(): AbortSignal {
    return this.gate.signal;
  }

  /** Calls `listener` on every change between reachable (true) and unreachable; returns its removal. */
  onChange(listener: (reachable: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once S3 is reachable (at once if it is); rejects with `abort`'s reason if that aborts first. */
  whenReachable(abort?: AbortSignal): Promise<void> {
    if (this.reachable) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const stopWaiting = () => { remove(); abort?.removeEventListener('abort', onAbort); };
      const onAbort = () => { stopWaiting(); reject(abort!.reason); };
      const remove = this.onChange((reachable) => { if (reachable) { stopWaiting(); resolve(); } });
      if (abort?.aborted) onAbort();
      else abort?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Records a probe's outcome at `at`, and why it got no answer where it said (the timer calls it; exposed for tests). */
  record(answered: boolean, at = this.now(), failure?: string): void {
    if (answered) {
      this.lastAnswer = at;
      this.unansweredInARow = 0;
      if (!this.reachable) {
        this.gate = new AbortController();
        this.emit(true);
      }
      return;
    }
    this.unansweredInARow++;
    const silentMs = at - this.lastAnswer;
    if (!this.reachable || this.unansweredInARow < 2 || silentMs < this.options.unreachableAfterMs) return;
    const lastTry = failure ? ` (the last try: ${failure})` : '';
    this.gate.abort(new StorageUnreachableError(
      `S3 (${this.options.name}) has not answered this worker for ${Math.round(silentMs / 1000)} s${lastTry}: its steps stop and are retried ` +
      'on workers that reach S3, and it takes no tasks until S3 answers again (SWEEP_S3_UNREACHABLE_AFTER_S)'));
    this.emit(false);
  }

  private emit(reachable: boolean): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(reachable);
      } catch (error) {
        // Called from the probes' timer: an error thrown here would end the process as unhandled.
        console.error('[worker] a listener of the S3 contact failed:', error);
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      let answered = false;
      let failure: string | undefined;
      try {
        answered = await this.probe(AbortSignal.timeout(this.options.probeTimeoutMs));
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
      this.record(answered, this.now(), failure);
    } finally {
      this.probing = false;
    }
  }
}
