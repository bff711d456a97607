// The Python suggest worker's metrics for Prometheus, as a test reads them (workers/metrics.ts: it serves
// the SDK's own at the port after its node's other processes').

/** The suggestions `node`'s suggest worker has made, by its metrics text: the SDK's count of suggestTrials executions. */
export function suggestionsCounted(metrics: string, node: string): number {
  return [...metrics.matchAll(/^temporal_activity_execution_latency_count\{([^}]*)\} (\d+)$/gm)]
    .filter(([, labels]) => labels.includes('activity_type="suggestTrials"') && labels.includes(`node="${node}"`))
    .reduce((sum, [, , count]) => sum + Number(count), 0);
}
