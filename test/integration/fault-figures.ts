// Shared by the tests that break things on purpose (resilience.test.ts, cluster.test.ts): waiting
// for a condition with a deadline, and the "[figure]" lines the docs report.

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Polls `probe` until it returns something truthy, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds(timeoutMs)} waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Figures printed as they are measured and kept for the summary at the end of the file. */
export class Figures {
  private readonly lines: string[] = [];

  add(text: string): void {
    this.lines.push(text);
    console.log(`[figure] ${text}`);
  }

  summary(): string {
    return `[figure] summary\n  ${this.lines.join('\n  ')}`;
  }
}
