// What ingestion found in a data source: images per class and files skipped per reason. Shown by
// `sweep status`, `sweep validate`, the leaderboard, the report and the Web UI, so nobody has to open
// the S3 manifest to learn that files were skipped and why. Pure, used inside workflows.
import { visible } from './visible-text';

export interface DataSummary {
  /** Usable images per class, in label order (but JavaScript lists keys that are whole numbers first, in numeric order: read the label order from the split). */
  counts: Record<string, number>;
  skipped: number;
  skippedByReason: Record<string, number>;
}

export function dataSummary(from: DataSummary): DataSummary {
  return { counts: from.counts, skipped: from.skipped, skippedByReason: from.skippedByReason };
}

/** "3,265 images in 4 classes (daisy 764, rose 784, …); skipped 3: unreadable image 3" */
export function formatDataSummary(data: DataSummary): string {
  const classes = Object.entries(data.counts);
  const total = classes.reduce((n, [, c]) => n + c, 0);
  const skipped = data.skipped
    ? `skipped ${data.skipped.toLocaleString('en-US')}: ${Object.entries(data.skippedByReason).map(([reason, n]) => `${visible(reason)} ${n}`).join(', ')}`
    : 'nothing skipped';
  return `${total.toLocaleString('en-US')} image${total === 1 ? '' : 's'} in ${classes.length} class${classes.length === 1 ? '' : 'es'} (${classes.map(([name, n]) => `${visible(name)} ${n}`).join(', ')}); ${skipped}`;
}
