// The split manifest the GPU steps read: every feature shard and every trial's test evaluation names
// the same one. At a million images it is ~120 MB of JSON and a second of parsing, once per 256-image
// shard before it was kept. Its key is the hash of what made it, so a kept copy is never stale; one is
// kept, as a worker works on one sweep's split at a time. Callers share it: they must not change it.
import { keepLast } from '../lib/keep-last';
import { SplitManifest } from '../lib/manifest';
import { getJson } from '../platform/storage';

export const splitManifest = keepLast((splitKey: string) => getJson<SplitManifest>(splitKey));
