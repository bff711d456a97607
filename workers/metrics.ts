// A worker process's metrics for Prometheus, where SWEEP_METRICS_ADDRESS asks for them: the Temporal
// SDK's own (task slots, polls, schedule-to-start and execution latencies, failures, sticky cache), served
// by its runtime at http://<address>/metrics, and this product's beside them, made with the runtime's
// meter so that one endpoint serves both: whether the process reaches S3, epochs trained, and when its
// client certificate for Temporal expires. The Python suggest worker serves the SDK's at a port of its own.
import type { X509Certificate } from 'node:crypto';
import { Runtime, TelemetryOptions } from '@temporalio/worker';
import { MetricsAddress, WorkerRole, nodeName } from '../platform/config';
import { StorageContact } from '../platform/storage-contact';

/** The runtime's telemetry for this process: Prometheus at the address, every metric tagged with the node. */
export function metricsTelemetry(address: MetricsAddress | undefined): TelemetryOptions | undefined {
  if (!address) return undefined;
  return {
    metrics: {
      // Prometheus's conventions: counters end in _total, durations in seconds.
      prometheus: { bindAddress: `${address.host}:${address.port}`, countersTotalSuffix: true, useSecondsForDurations: true },
      globalTags: { node: nodeName() },
    },
  };
}

/**
 * Where the `index`th process started beside this one on the node serves its metrics: the next port, so
 * that every process serves its own (a port serves one process).
 */
export function metricsAddressOfProcess(index: number, address: MetricsAddress | undefined): MetricsAddress | undefined {
  return address && { host: address.host, port: address.port + index };
}

/** The setting that makes a process serve its metrics at `address` (none: no setting). */
export function metricsEnv(address: MetricsAddress | undefined): NodeJS.ProcessEnv {
  return address ? { SWEEP_METRICS_ADDRESS: `${address.host}:${address.port}` } : {};
}

/**
 * Which of the processes beside this one the suggest worker (Python, the launcher's child) counts as
 * for its metrics port: the one after the node's further GPU processes.
 */
export function suggestWorkerProcessIndex(roles: readonly WorkerRole[], gpuProcesses: number): number {
  return roles.includes('gpu') ? gpuProcesses : 1;
}

/** `sweep_s3_reachable`: 1 while the process reaches S3, 0 once it has lost it (its step workers then take no tasks). */
export function reportStorageReachable(contact: StorageContact): void {
  const gauge = Runtime.instance().metricMeter.createGauge('sweep_s3_reachable', 'int', '',
    'whether this worker process reaches S3 (0: it has not answered for SWEEP_S3_UNREACHABLE_AFTER_S, and its step workers take no tasks)');
  const set = (reachable: boolean) => gauge.set(reachable ? 1 : 0);
  set(contact.reachable);
  contact.onChange(set);
}

/**
 * `sweep_tls_client_certificate_expiry_seconds`: when the client certificate this process presents to
 * Temporal expires (Unix time), to alert on well before (an expired one keeps the node out).
 */
export function reportClientCertificateExpiry(certificate: X509Certificate): void {
  Runtime.instance().metricMeter.createGauge('sweep_tls_client_certificate_expiry_seconds', 'int', 's',
    'when the client certificate this worker process presents to Temporal expires (Unix time)').set(Math.floor(Date.parse(certificate.validTo) / 1000));
}
