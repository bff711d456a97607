// The split manifest the GPU steps read: every feature shard and every trial's test evaluation names
// the same one. At a million images it is ~120 MB of JSON and a second of parsing, once per 256-image
// shard before it was kept. Its key is the hash of what made it, so a kept copy is never stale. One is
// kept (the last asked), so a GPU process holds it, parsed, after its sweep's extraction too (as the
// test evaluation did); sweeps extracting side by side on one process read theirs again in turns.
// Callers share it: they must not change it.
import { keepLast } from '../lib/keep-last';
import { SplitManifest } from '../lib/manifest';
import { getJson } from '../platform/storage';

export const splitManifest = keepLast((splitKey: string) => getJson<SplitManifest>(splitKey));
