// Seeded pseudo-random streams. Pure JS (no Node APIs) so workflows may import it.
// Every stream is a function of explicit keys (seed, trial, epoch, ...), never of process history,
// which is what makes splits reproducible and resumed trials exact.

/** 32-bit FNV-1a over a string: cheap, stable, and good enough to derive stream seeds. */
export function hashString32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A random stream in [0, 1) keyed by any list of values: same keys, same numbers. */
export function randomStream(...keys: Array<string | number>): () => number {
  return mulberry32(hashString32(keys.join('\u241f')));
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/** Fisher-Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
