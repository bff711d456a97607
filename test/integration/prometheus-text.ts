// Metrics for Prometheus as a test reads them: the text a worker process serves at /metrics
// (workers/metrics.ts; the Python suggest worker serves the SDK's own at the port after its node's others).

/** The sum of the samples of `name` whose labels include every one of `labels` (0 where none does). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  let sum = 0;
  for (const [, metric, sampleLabels = '', value] of text.matchAll(/^(\w+)(?:\{([^}]*)\})? (\S+)$/gm)) {
    if (metric === name && wanted.every((label) => sampleLabels.includes(label))) sum += Number(value);
  }
  return sum;
}

/** The suggestions `node`'s suggest worker has made, by its metrics: the SDK's count of suggestTrials executions. */
export function suggestionsCounted(text: string, node: string): number {
  return metricSum(text, 'temporal_activity_execution_latency_count', { activity_type: 'suggestTrials', node });
}
