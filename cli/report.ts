// `sweep report <id> [--out file.html]`: the sweep's HTML report on this machine. It is built the
// way the sweep's own report step builds sweeps/<id>/report.html, from the results in S3, so it
// also works for sweeps that finished before the report step existed or whose report failed.
import fs from 'node:fs';
import path from 'node:path';
import { leaderboardKey } from '../activities/leaderboard-file';
import { buildSweepReport, reportKey } from '../activities/report';
import { objectExists, s3Url } from '../platform/storage';
import { UsageError } from './commands';

/** The report's file name when --out is not given: the sweep id, with path separators made harmless. */
const defaultName = (sweepId: string) => `${sweepId.replace(/[/\\]/g, '_')}-report.html`;

export async function report(sweepId: string, out = defaultName(sweepId)): Promise<void> {
  // Checked before the report is built from S3, which takes a while on a large sweep.
  if (!out.trim()) throw new UsageError('--out: give the path of the HTML file to write');
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a directory; give a file path, e.g. ${path.join(out, defaultName(sweepId))}`);
  const leaderboard = leaderboardKey(sweepId);
  // Not an error of the tool (exit 1) but of the request: the sweep has not ranked its trials.
  if (!(await objectExists(leaderboard))) {
    throw new UsageError(`sweep ${sweepId} has no ${s3Url(leaderboard)}: the report is made once the sweep has ranked its trials (\`sweep status ${sweepId}\` says where it is)`);
  }
  const html = await buildSweepReport(sweepId);
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, html);
  const stored = await objectExists(reportKey(sweepId));
  console.log(`wrote ${out} (${(html.length / 1024).toFixed(0)} KiB, works offline)` +
    (stored ? `; the sweep's copy is ${s3Url(reportKey(sweepId))}` : ''));
}
