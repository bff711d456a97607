// Which of a node's local copies (feature shards, image packs) go when its cache disk needs room: the
// least recently used first, as kubelet's image garbage collection and most disk caches do. A copy used
// in the last `keepRecentMs` stays: a process of the node may have found it and be about to open it (one
// it has open is safe either way: a removed file lives on while open).

export interface CachedCopy {
  file: string;
  bytes: number;
  /** When a process last used it (ms since the epoch). */
  lastUsedMs: number;
}

/** The copies to remove to free `needBytes`, the least recently used first; fewer where the rest are recent. */
export function copiesToEvict(copies: readonly CachedCopy[], needBytes: number, now: number, keepRecentMs: number): CachedCopy[] {
  const evictable = copies.filter((copy) => now - copy.lastUsedMs >= keepRecentMs)
    // Ties by name, so every process of a node picks the same copies.
    .sort((a, b) => a.lastUsedMs - b.lastUsedMs || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const chosen: CachedCopy[] = [];
  let freed = 0;
  for (const copy of evictable) {
    if (freed >= needBytes) break;
    chosen.push(copy);
    freed += copy.bytes;
  }
  return chosen;
}
