// The task queues a sweep's work goes to, and a warning for those no running worker serves (as far as
// the server knows: cli/worker-liveness.ts).
// Temporal keeps a task until a worker takes it, so a sweep started with no worker on one of its queues
// waits without a word: a bayesian sweep on the cluster profile, whose nodes ran no suggest worker,
// looked hung.
import type { SweepSpec } from '../lib/sweep-spec';
import { QUEUE_VARIABLES, type WorkerConfig, type WorkerRole } from '../platform/config';
import { GPU_ACTIVITY_NAMES } from '../workflows/contract';
import type { GoneWorker } from './worker-liveness';

export interface SweepQueue {
  role: WorkerRole;
  name: string;
  /** What workers poll it for: the CPU queue's workflow tasks run the sweep itself and its trials. */
  type: 'workflow' | 'activity';
  work: string;
}

/** A queue no running worker serves, and the workers that served it and are gone, the last heard first (the server lists them for some minutes at least). */
export interface IdleQueue extends SweepQueue {
  gone?: readonly GoneWorker[];
}

const ROLE_WORK: Record<WorkerRole, string> = {
  cpu: 'the sweep and its trials (workflows), ingest, balance, split, ranking',
  gpu: 'feature extraction and training',
  suggest: 'bayesian suggestions (a Python worker)',
};

/**
 * The CPU queue's steps, when they wait though its workflows are served (a step on the sweep's own
 * queue is reported only then: cli/sweep-waits.ts): its CPU workers run but take no steps, which is
 * what a CPU worker process does while S3 does not answer it (workers/storage-gate.ts).
 */
const CPU_STEPS_WAITING = 'ingest, balance, split, ranking; its CPU workers run the sweep but take none of its steps: a CPU worker that has lost S3 takes none until S3 answers (its log says so)';

export function sweepQueue(role: WorkerRole, name: string, type: SweepQueue['type'] = role === 'cpu' ? 'workflow' : 'activity'): SweepQueue {
  return { role, name, type, work: role === 'cpu' && type === 'activity' ? CPU_STEPS_WAITING : ROLE_WORK[role] };
}

export function sweepQueues(taskQueues: SweepSpec['taskQueues']): SweepQueue[] {
  return [
    sweepQueue('cpu', taskQueues.cpu),
    sweepQueue('gpu', taskQueues.gpu),
    ...(taskQueues.suggest ? [sweepQueue('suggest', taskQueues.suggest)] : []),
  ];
}

/**
 * The queue a running sweep's pending step waits on, as the role whose workers poll it: workflow tasks
 * (the sweep's and its trials') go to CPU workers, and an activity to the role that serves it.
 */
export function pendingStepQueue(step: { activity?: string; taskQueue: string }): SweepQueue {
  if (step.activity === undefined) return sweepQueue('cpu', step.taskQueue, 'workflow');
  const role = step.activity === 'suggestTrials' ? 'suggest' : GPU_ACTIVITY_NAMES.includes(step.activity) ? 'gpu' : 'cpu';
  return sweepQueue(role, step.taskQueue, 'activity');
}

/**
 * The warning for queues no worker polls (none when every queue has one), with the command that
 * starts their workers: variables set where a queue is not the one this environment's workers poll.
 */
export function idleQueuesWarning(idle: readonly IdleQueue[], configured: Pick<WorkerConfig, 'cpuQueue' | 'gpuQueue' | 'suggestQueue'>): string | undefined {
  if (idle.length === 0) return undefined;
  const configuredName: Record<WorkerRole, string> = { cpu: configured.cpuQueue, gpu: configured.gpuQueue, suggest: configured.suggestQueue };
  const variables = idle.filter((q) => q.name !== configuredName[q.role]).map((q) => `${QUEUE_VARIABLES[q.role]}=${q.name} `).join('');
  return [
    // Stopped: by their heartbeats (cli/worker-liveness.ts), though the server lists a poll for minutes.
    `warning: no running worker serves ${idle.length === 1 ? 'this queue' : 'these queues'} of the sweep (none polled ${idle.length === 1 ? 'it' : 'them'} in the last minutes, or those that did have stopped), so it waits there until one does:`,
    ...idle.flatMap((q) => [`  ${q.role} queue "${q.name}": ${q.work}`, ...(q.gone?.length ? [`    ${goneText(q)}`] : [])]),
    `start workers for ${idle.length === 1 ? 'it' : 'them'}: \`${variables}npm run workers\` on this machine (cpu, gpu and suggest), or \`${variables}infra/node.sh --import tsx workers/run-workers.ts ${idle.map((q) => q.role).join(',')}\` where they should run (docs/deploy.md)`,
  ].join('\n');
}

/** Gone workers named in a warning; the rest are counted. */
const GONE_NAMED = 3;

/**
 * Its gone workers, and what each kind of end may mean. A worker process shuts its steps down while S3
 * does not answer it (workers/storage-gate.ts) and takes them again when S3 does; the suggest worker and
 * a CPU process's workflow worker never do. Times are absolute, so `watch` says the line once.
 */
function goneText(queue: IdleQueue): string {
  const gone = queue.gone ?? [];
  const named = gone.slice(0, GONE_NAMED).map((w) => `${w.identity} ${w.how === 'shut down' ? 'shut down at' : 'silent since'} ${utc(w.at)}`);
  const more = gone.length > GONE_NAMED ? `; and ${gone.length - GONE_NAMED} more` : '';
  const why: Record<GoneWorker['how'], string> = {
    'shut down': queue.type === 'activity' && queue.role !== 'suggest'
      ? 'stopped, redeployed, or shut down until S3 answers it again: its log says which'
      : 'stopped or redeployed',
    silent: 'killed, or cut off from Temporal',
  };
  const kinds = (['shut down', 'silent'] as const).filter((how) => gone.some((w) => w.how === how));
  const whyText = kinds.length === 1 ? why[kinds[0]] : kinds.map((how) => `${how}: ${why[how]}`).join('; ');
  return `its last ${gone.length === 1 ? 'worker' : 'workers'}: ${named.join('; ')}${more} (${whyText})`;
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
