// The task queues a sweep's work goes to, and a warning for those no worker polls. Temporal keeps a
// task until a worker takes it, so a sweep started with no worker on one of its queues waits without
// a word: a bayesian sweep on the cluster profile, whose nodes ran no suggest worker, looked hung.
import type { SweepSpec } from '../lib/sweep-spec';
import type { WorkerConfig } from '../platform/config';

export type WorkerRole = 'cpu' | 'gpu' | 'suggest';

export interface SweepQueue {
  role: WorkerRole;
  name: string;
  /** What workers poll it for: the CPU queue's workflow tasks run the sweep itself and its trials. */
  type: 'workflow' | 'activity';
  work: string;
}

const ROLE_VARIABLES: Record<WorkerRole, string> = { cpu: 'SWEEP_CPU_QUEUE', gpu: 'SWEEP_GPU_QUEUE', suggest: 'SWEEP_SUGGEST_QUEUE' };

export function sweepQueues(taskQueues: SweepSpec['taskQueues']): SweepQueue[] {
  return [
    { role: 'cpu', name: taskQueues.cpu, type: 'workflow', work: 'the sweep and its trials (workflows), ingest, balance, split, ranking' },
    { role: 'gpu', name: taskQueues.gpu, type: 'activity', work: 'feature extraction and training' },
    ...(taskQueues.suggest ? [{ role: 'suggest' as const, name: taskQueues.suggest, type: 'activity' as const, work: 'bayesian suggestions (a Python worker)' }] : []),
  ];
}

/**
 * The warning for queues no worker polls (none when every queue has one), with the command that
 * starts their workers: variables set where a queue is not the one this environment's workers poll.
 */
export function idleQueuesWarning(idle: readonly SweepQueue[], configured: Pick<WorkerConfig, 'cpuQueue' | 'gpuQueue' | 'suggestQueue'>): string | undefined {
  if (idle.length === 0) return undefined;
  const configuredName: Record<WorkerRole, string> = { cpu: configured.cpuQueue, gpu: configured.gpuQueue, suggest: configured.suggestQueue };
  const variables = idle.filter((q) => q.name !== configuredName[q.role]).map((q) => `${ROLE_VARIABLES[q.role]}=${q.name} `).join('');
  return [
    `warning: no worker polls ${idle.length === 1 ? 'this queue' : 'these queues'} of the sweep, so it waits there until one does:`,
    ...idle.map((q) => `  ${q.role} queue "${q.name}": ${q.work}`),
    `start workers for ${idle.length === 1 ? 'it' : 'them'}: \`${variables}npm run workers\` on this machine (cpu, gpu and suggest), or \`${variables}infra/node.sh --import tsx workers/run-workers.ts ${idle.map((q) => q.role).join(',')}\` where they should run (docs/deploy.md)`,
  ].join('\n');
}
