// Run by ingest.test.ts in a process of its own, so its peak RSS is the ingest's: ingests the small
// folder given as argv[2], then the big one given as argv[3] (classes a and b), and prints the big
// one's summary with the process's memory figures. The warm-up grows the heap to its working size
// first (how far V8 lets it grow before collecting differs between Node versions), so the growth
// measured is what the big data set adds.
import { MockActivityEnvironment } from '@temporalio/testing';
import { IngestSummary, ingestDataset } from '../../activities/ingest';

async function main(): Promise<void> {
  const ingest = (source: string): Promise<IngestSummary> => new MockActivityEnvironment().run(ingestDataset, { source, classes: ['a', 'b'], maxBadFraction: 0 });
  const warm = await ingest(process.argv[2]);
  const rssBefore = process.memoryUsage().rss;
  const summary = await ingest(process.argv[3]);
  process.stdout.write(`${JSON.stringify({ summary, warmManifestKey: warm.manifestKey, rssBefore, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
