// A byte count as people read it in messages: megabytes (MiB), one decimal at most, thousands grouped.

export function megabytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toLocaleString('en-US', { maximumFractionDigits: 1 })} MB`;
}
