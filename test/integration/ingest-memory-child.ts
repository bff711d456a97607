// Run by ingest.test.ts in a process of its own, so its peak RSS is the ingest's: ingests the folder
// given as argv[2] (classes a and b) and prints the summary with the process's memory figures.
import { MockActivityEnvironment } from '@temporalio/testing';
import { ingestDataset } from '../../activities/ingest';

async function main(): Promise<void> {
  const rssBefore = process.memoryUsage().rss;
  const summary = await new MockActivityEnvironment().run(ingestDataset, { source: process.argv[2], classes: ['a', 'b'], maxBadFraction: 0 });
  process.stdout.write(`${JSON.stringify({ summary, rssBefore, maxRss: process.resourceUsage().maxRSS * 1024 })}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
