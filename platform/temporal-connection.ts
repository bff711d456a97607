// Temporal connections from Temporal's own client config (env vars or temporal.toml profile),
// so the same workers and CLI join a local dev server, a remote cluster or Temporal Cloud.
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { loadStackEnv } from './config';

function connectConfig() {
  loadStackEnv();
  const config = loadClientConnectConfig();
  config.connectionOptions.address ??= '127.0.0.1:7233';
  return config;
}

/** Where clients and workers connect, for messages. */
export function temporalAddress(): string {
  return connectConfig().connectionOptions.address!;
}

export function temporalNamespace(): string {
  return connectConfig().namespace ?? 'default';
}

export async function connectClient(): Promise<Client> {
  const { connectionOptions, namespace } = connectConfig();
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace: namespace ?? 'default' });
}

export async function connectWorker(): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = connectConfig();
  const connection = await NativeConnection.connect(connectionOptions);
  return { connection, namespace: namespace ?? 'default' };
}

/**
 * How often this project's workers heartbeat to the server (the SDK's default is 60 s): `sweep status`,
 * `watch`, `start` and `cancel` tell a killed worker from a live one by its last heartbeat, so within
 * about half a minute (cli/worker-liveness.ts).
 */
export const WORKER_HEARTBEAT_INTERVAL = '10s';

/**
 * The last heartbeat of each worker of these queues that the server keeps (its worker list, Temporal
 * 1.29+; workers whose SDK sends none are not in it). A name the list's query language cannot quote gets none.
 */
export async function queueWorkerHeartbeats(client: Client, taskQueues: readonly string[]): Promise<temporal.api.worker.v1.IWorkerHeartbeat[]> {
  const names = [...new Set(taskQueues)];
  if (names.length === 0 || names.some((name) => /['"\\]/.test(name))) return [];
  const query = names.map((name) => `TaskQueue = '${name}'`).join(' OR ');
  const beats: temporal.api.worker.v1.IWorkerHeartbeat[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.listWorkers({ namespace: client.options.namespace, query, pageSize: 200, nextPageToken });
    beats.push(...(page.workersInfo ?? []).flatMap((w) => (w.workerHeartbeat ? [w.workerHeartbeat] : [])));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return beats;
}

/** The workers polling `taskQueue` for activities (or workflow tasks), as the server last saw them (identity, last poll). */
export async function queuePollers(client: Client, taskQueue: string, type: 'activity' | 'workflow' = 'activity'): Promise<temporal.api.taskqueue.v1.IPollerInfo[]> {
  const { TASK_QUEUE_TYPE_ACTIVITY, TASK_QUEUE_TYPE_WORKFLOW } = temporal.api.enums.v1.TaskQueueType;
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: type === 'activity' ? TASK_QUEUE_TYPE_ACTIVITY : TASK_QUEUE_TYPE_WORKFLOW,
  });
  return pollers ?? [];
}
