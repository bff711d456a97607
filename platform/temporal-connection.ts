// Temporal connections from Temporal's own client config (env vars or temporal.toml profile),
// so the same workers and CLI join a local dev server, a remote cluster or Temporal Cloud.
import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { tlsAdvice } from '../lib/tls-advice';
import { SettingError, loadStackEnv } from './config';
import { ClientTls, tlsHandshake } from './tls-handshake';

function connectConfig() {
  loadStackEnv();
  const config = loadClientConnectConfig();
  config.connectionOptions.address ??= '127.0.0.1:7233';
  return config;
}

type ConnectionOptions = ReturnType<typeof connectConfig>['connectionOptions'];

/** The TLS the SDK makes of the options (an API key turns it on), for a handshake of our own. */
function clientTlsOf({ tls, apiKey }: ConnectionOptions): ClientTls | undefined {
  if (!tls && !apiKey) return undefined;
  const settings = (typeof tls === 'object' && tls) || {};
  const asBuffer = (bytes?: Uint8Array) => (bytes ? Buffer.from(bytes) : undefined);
  return {
    ca: asBuffer(settings.serverRootCACertificate), cert: asBuffer(settings.clientCertPair?.crt), key: asBuffer(settings.clientCertPair?.key),
    serverName: settings.serverNameOverride,
  };
}

/**
 * What keeps this client out where it is TLS, as a line naming the setting that fixes it: the server
 * wants TLS or a client certificate, or this client does not trust its certificate. The SDK says only
 * that it failed to connect, so a handshake of our own, made as the SDK makes it, asks.
 */
async function tlsProblem(options: ConnectionOptions): Promise<string | undefined> {
  const address = options.address!;
  const target = /^\[?(.*?)\]?:(\d+)$/.exec(address);
  if (!target) return undefined;
  const clientTls = clientTlsOf(options);
  const advice = tlsAdvice(await tlsHandshake(target[1], Number(target[2]), clientTls), {
    server: `Temporal at ${address}`,
    tlsOn: 'TEMPORAL_TLS=true',
    tlsOff: 'TEMPORAL_TLS=false and no TEMPORAL_TLS_* certificate or TEMPORAL_API_KEY',
    ca: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    caNow: process.env.TEMPORAL_TLS_SERVER_CA_CERT_PATH || undefined,
    clientCertificate: 'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH',
    serverName: 'TEMPORAL_TLS_SERVER_NAME',
  }, !!clientTls?.cert);
  // With a temporal.toml profile, the profile's tls settings are what to change (the variables override it).
  const profileNamed = !!(process.env.TEMPORAL_PROFILE || process.env.TEMPORAL_CONFIG_FILE);
  return advice && (profileNamed ? `${advice}, or the same in the tls settings of the temporal.toml profile in use` : advice);
}

/** A connect that has not succeeded within this is asked about TLS (the SDK retries a refused handshake for 10 s). */
const TLS_CHECK_AFTER_MS = 1000;

/**
 * `connect`, failing with a SettingError that names the TLS setting to change where TLS keeps the
 * client out (tlsProblem), as soon as that is known; any other failure, a server down above all, is
 * rethrown as it was (a CLI waits for the server; a worker exits). A connect that succeeds within a
 * second costs nothing more.
 */
async function connectOrExplain<T extends { close(): Promise<void> }>(connect: () => Promise<T>, options: ConnectionOptions): Promise<T> {
  const connecting = connect();
  const settled = connecting.then(() => 'connected' as const, () => 'failed' as const);
  // Asked once the connect has failed or is slow; not at all when it succeeds in time.
  const checkDue = Promise.race([settled, sleep(TLS_CHECK_AFTER_MS, 'slow' as const, { ref: false })]);
  const problem = checkDue.then((why) => (why === 'connected' ? undefined : tlsProblem(options)));
  const early = await Promise.race([problem, settled.then(() => undefined)]);
  if (early === undefined) {
    try {
      return await connecting;
    } catch (error) {
      const advice = await problem;
      // No cause: callers tell "unreachable" (wait and retry) by the cause chain, and this is not that.
      if (advice) throw new SettingError(advice);
      throw error;
    }
  }
  void connecting.then((connection) => connection.close(), () => undefined);
  throw new SettingError(early);
}

/** What keeps clients of this process's settings out of Temporal where it is TLS (tlsProblem), for a client that cannot say: the Python suggest worker. */
export function temporalTlsProblem(): Promise<string | undefined> {
  return tlsProblem(connectConfig().connectionOptions);
}

/** The client certificate this process presents to Temporal (a variable, or the profile's), if any. */
export function temporalClientCertificate(): X509Certificate | undefined {
  const pem = clientTlsOf(connectConfig().connectionOptions)?.cert;
  return pem ? new X509Certificate(pem) : undefined;
}

/** Who this client is to Temporal, for messages: its certificate's subject, its API key, or neither. */
export function temporalClientIdentity(): string {
  const certificate = temporalClientCertificate();
  if (certificate) return `the client certificate ${certificate.subject.split('\n').join(', ')} (TEMPORAL_TLS_CLIENT_CERT_PATH)`;
  return connectConfig().connectionOptions.apiKey ? 'the API key (TEMPORAL_API_KEY)' : 'a client without a certificate or API key';
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
  const connection = await connectOrExplain(() => Connection.connect(connectionOptions), connectionOptions);
  return new Client({ connection, namespace: namespace ?? 'default' });
}

export async function connectWorker(): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = connectConfig();
  const connection = await connectOrExplain(() => NativeConnection.connect(connectionOptions), connectionOptions);
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
