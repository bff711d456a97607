// The `sweep` command (its commands, options and exit codes: cli/commands.ts). `--json` output is a
// stable, documented shape (docs/cli-json.md) for other tools to parse.
import fs from 'node:fs';
import path from 'node:path';
import {
  Client, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowHandleWithFirstExecutionRunId, WorkflowNotFoundError,
} from '@temporalio/client';
import { formatLeaderboard } from '../views/leaderboard-table';
import { rootMessage } from '../lib/errors';
import { Leaderboard } from '../lib/sweep-types';
import { SpecError, SweepSpec, parseSweepSpec, sweepIdProblem } from '../lib/sweep-spec';
import { sweepWorkflow } from '../workflows';
import { connectClient, temporalAddress } from '../platform/temporal-connection';
import { getObject, listKeys, parseS3Url } from '../platform/storage';
import { artifactKeys } from '../lib/artifact-keys';
import { REPO_ROOT, WorkerConfig, storageConfig, storageUnreachableAfterS, workerConfig } from '../platform/config';
import { hasNoStorageCredentials, isStorageLost, isStorageUnreachable, startStorageContact, storageTlsAdvice, storeName, withStorageGate } from '../platform/s3-store';
import { predict } from './predict';
import { fullLeaderboard, storedLeaderboard } from './full-leaderboard';
import { tensorboard } from './tensorboard';
import { report } from './report';
import { EXIT, UsageError, exitCodeOf, parseCommandLine } from './commands';
import { list } from './list';
import { describeSweepFailure, failureLine } from './sweep-failure';
import { readSpecFile } from './spec-file';
import { validate } from './validate';
import { isTemporalUnreachable, stopWaitingOnInterrupt, untilTemporalAnswers } from './wait-for-temporal';
import { watch } from './watch';
import { describeSweep } from './describe-sweep';
import { idleQueuesWarning, sweepQueues } from './idle-queues';
import { temporalPermissionAdvice } from '../platform/permission-advice';
import { idleOf, ownQueueIdle } from './sweep-waits';
import { statusText, sweepStatus } from './status';
import { sweepStartMetadata } from '../views/workflow-metadata';
import { visible } from '../lib/visible-text';

/** Runs one command line; resolves to the exit code (cli/commands.ts, EXIT). */
export async function main(argv: string[]): Promise<number> {
  const invocation = parseCommandLine(argv);
  if (invocation.kind === 'help') {
    console.log(invocation.text);
    return EXIT.ok;
  }
  if (invocation.kind === 'version') {
    console.log(`sweep ${packageVersion()}`);
    return EXIT.ok;
  }
  const [target, ...more] = invocation.positionals;
  // Every command but these takes a sweep id first; an empty one would only fail at the server.
  if (!['start', 'validate', 'list'].includes(invocation.command) && !target?.trim()) {
    throw new UsageError(`sweep ${invocation.command}: give a sweep id (\`sweep list\` shows recent ones)`);
  }
  switch (invocation.command) {
    case 'start': { const o = invocation.options; return start(target, o.id, Boolean(o.wait), Boolean(o.json)); }
    case 'validate': return validate(target, Boolean(invocation.options.json));
    case 'list': return list(positiveCount(invocation.options.limit), Boolean(invocation.options.json));
    case 'status': return status(target, Boolean(invocation.options.json));
    case 'results': {
      const o = invocation.options;
      if (o.json && o.csv) throw new UsageError('sweep results: give --json or --csv, not both');
      return results(target, o.json ? 'json' : o.csv ? 'csv' : 'table');
    }
    case 'cancel': return cancel(target);
    case 'predict': return predict(target, more, Boolean(invocation.options.json)).then(() => EXIT.ok);
    case 'watch': return watch(target, { interval: seconds(invocation.options.interval), plain: Boolean(invocation.options.plain) });
    case 'report': return report(target, invocation.options.out).then(() => EXIT.ok);
    case 'tensorboard': return tensorboard(target, invocation.options).then(() => EXIT.ok);
  }
}

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0.2 && n <= 600)) throw new UsageError(`--interval ${value}: give seconds between 0.2 and 600`);
  return n;
}

function positiveCount(value: string | undefined): number {
  if (value === undefined) return 20;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--limit ${value}: give a whole number from 1 to 1000`);
  return n;
}

/**
 * Validates a spec (so a bad one is reported before anything starts) and starts its sweep on the
 * CPU queue, with the summary and details the Web UI shows. The id defaults to name + UTC time
 * (`now`) to the second, with -2, -3, ... after it for sweeps of one name started in the same second
 * (a script starting one per seed): a default id is never the user's mistake.
 */
export async function startSweep(client: Client, raw: unknown, id?: string, now = new Date()): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const queued = withWorkerQueues(raw);
  const spec = parseSweepSpec(queued);
  // An id is a sweep's folder of artifacts (sweeps/<id>/): one used before, even by a sweep that has
  // ended, would mix two sweeps' results, models and TensorBoard runs.
  const start = (workflowId: string) => client.workflow.start(sweepWorkflow, {
    taskQueue: spec.taskQueues.cpu, workflowId, args: [queued], workflowIdReusePolicy: 'REJECT_DUPLICATE', ...sweepStartMetadata(spec),
  });
  if (id !== undefined) return start(id);
  const stamped = `${spec.name}-${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
  for (let n = 1; ; n++) {
    try {
      return await start(n === 1 ? stamped : `${stamped}-${n}`);
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError) || n === MAX_SAME_SECOND) throw error;
    }
  }
}

/** Sweeps of one name a default id tells apart within one second. */
const MAX_SAME_SECOND = 100;

/**
 * The spec with the task queues the workers of this environment poll (SWEEP_CPU_QUEUE, ...) where it
 * names none. The sweep's workflow starts on its CPU queue, and its steps and trials go to the queues
 * its spec names: without this, SWEEP_*_QUEUE moved the workflow but its steps waited on the defaults.
 */
export function withWorkerQueues(raw: unknown, config: Pick<WorkerConfig, 'cpuQueue' | 'gpuQueue' | 'suggestQueue'> = workerConfig()): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const spec = raw as Record<string, unknown>;
  const named = typeof spec.taskQueues === 'object' && spec.taskQueues !== null ? spec.taskQueues as Record<string, unknown> : {};
  const bayesian = (spec.search as { method?: unknown } | undefined)?.method === 'bayesian';
  return {
    ...spec,
    taskQueues: { cpu: config.cpuQueue, gpu: config.gpuQueue, ...(bayesian ? { suggest: config.suggestQueue } : {}), ...named },
  };
}

async function start(specFile: string, id: string | undefined, wait: boolean, json: boolean): Promise<number> {
  const raw = readSpecFile(specFile);
  // Before connecting: a bad spec or id is reported as such even when Temporal is down.
  parseSweepSpec(raw);
  const idProblem = id === undefined ? undefined : sweepIdProblem(id);
  if (idProblem) throw new UsageError(`--id: ${idProblem}`);
  const client = await connectClient();
  // Temporal forgets a closed sweep after its namespace's retention; its folder in S3 stays.
  if (id !== undefined && await sweepFolderUsed(id)) throw await idTaken(client, id);
  const handle = await startSweep(client, raw, id).catch(async (error: unknown) => {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    throw await idTaken(client, error.workflowId);
  });
  const idle = warnOfIdleQueues(client, parseSweepSpec(withWorkerQueues(raw)).taskQueues);
  if (!wait) {
    print(json, { sweepId: handle.workflowId, runId: handle.firstExecutionRunId }, `started sweep ${handle.workflowId}`);
    await idle;
    return EXIT.ok;
  }
  if (!json) console.log(`started sweep ${handle.workflowId}; waiting for it to finish`);
  await idle;
  const stopHandling = stopWaitingOnInterrupt(handle.workflowId);
  try {
    const board = await fullLeaderboard(await untilTemporalAnswers(() => handle.result(), { address: temporalAddress() }) as Leaderboard);
    print(json, board, formatLeaderboard(board));
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    return reportClosedSweep(handle.workflowId, error, json);
  } finally {
    stopHandling();
  }
}

/**
 * Warns on stderr of the sweep's queues no worker polls. Advisory: where the server will not describe
 * a queue (permissions, an older server), the sweep runs on without the warning.
 */
async function warnOfIdleQueues(client: Client, taskQueues: SweepSpec['taskQueues']): Promise<void> {
  const warning = idleQueuesWarning(await idleOf(client, sweepQueues(taskQueues)), workerConfig());
  if (warning) console.error(warning);
}

/**
 * A sweep that ended without a leaderboard: one line (or document) with the stage, the step, the
 * reason and what to do for a failure; the status for a cancel, termination or timeout.
 */
async function reportClosedSweep(sweepId: string, error: WorkflowFailedError, json: boolean): Promise<number> {
  const { status } = await untilTemporalAnswers(async () => (await (await connectClient()).workflow.getHandle(sweepId).describe()), { address: temporalAddress() });
  if (status.name === 'FAILED') {
    const failure = describeSweepFailure(sweepId, error.cause ?? error);
    if (json) print(true, { sweepId, status: status.name, failure }, '');
    else console.error(failureLine(failure));
    return EXIT.sweepFailed;
  }
  const left = status.name === 'CANCELLED' ? `\`sweep results ${sweepId}\` shows the trials ranked before it ended` : whatIsLeft(sweepId, status.name);
  print(json, { sweepId, status: status.name }, `sweep ${sweepId} ended ${status.name}; ${left}`);
  return exitCodeOf(status.name);
}

async function status(sweepId: string, json: boolean): Promise<number> {
  const doc = await sweepStatus(sweepId);
  print(json, doc, statusText(doc));
  return exitCodeOf(doc.status);
}

async function results(sweepId: string, format: 'json' | 'csv' | 'table'): Promise<number> {
  const client = await connectClient();
  const handle = client.workflow.getHandle(sweepId);
  const { status } = await describeSweep(handle);
  let board: Leaderboard | undefined;
  if (status.name === 'COMPLETED') board = await fullLeaderboard(await handle.result() as Leaderboard);
  // Cancelled while preparing the data, a sweep ranks nothing and writes no leaderboard.
  else if (status.name === 'CANCELLED') board = await storedLeaderboard(sweepId);
  else if (status.name === 'RUNNING') throw new UsageError(`sweep ${sweepId} is RUNNING, so it has no final results; \`sweep status ${sweepId}\` shows its progress`);
  if (!board) {
    // A sweep that ended without results exits as status does (3 failed, 4 stopped).
    console.error(visible(`sweep ${sweepId} ended ${status.name} without results${status.name === 'CANCELLED' ? ' (cancelled before any trial was ranked)' : ''}; ${whatIsLeft(sweepId, status.name)}`));
    return exitCodeOf(status.name);
  }
  if (format === 'csv') {
    const { bucket, key } = parseS3Url(board.artifacts.resultsCsv);
    process.stdout.write(await getObject(key, bucket));
    return EXIT.ok;
  }
  print(format === 'json', board, formatLeaderboard(board));
  return EXIT.ok;
}

/** Whether sweeps/<id>/ holds anything, i.e. a sweep ran under the id. Unknown (S3 not reachable from here) counts as no: Temporal's own check still holds. */
async function sweepFolderUsed(sweepId: string): Promise<boolean> {
  try {
    for await (const _ of listKeys(`${artifactKeys.sweep(sweepId)}/`)) return true;
    return false;
  } catch {
    return false;
  }
}

/**
 * Why a sweep cannot start under this id: one runs under it, or it was used before. An id is a sweep's
 * folder of artifacts, and a second sweep under it would mix two sweeps' results, models and TensorBoard runs.
 */
async function idTaken(client: Client, sweepId: string): Promise<UsageError> {
  const holder = await client.workflow.getHandle(sweepId).describe().catch(() => undefined);
  const isSweep = holder?.type === sweepWorkflow.name;
  if (isSweep && holder.status.name === 'RUNNING') {
    return new UsageError(`a sweep with id ${sweepId} is already running; give another --id, or follow that one with \`sweep watch ${sweepId}\``);
  }
  const by = holder ? `a ${isSweep ? 'sweep' : holder.type} that ${holder.status.name === 'RUNNING' ? 'is running' : `ended ${holder.status.name}`}`
    : `an earlier sweep, whose artifacts are under ${artifactKeys.sweep(sweepId)}/`;
  return new UsageError(`the id ${sweepId} was used by ${by}; give a new --id (without one, the sweep gets its name and the time): a sweep started again under a new id reuses the finished trials`);
}

/** Where to look once a sweep has ended without a leaderboard, for each way it can end. */
function whatIsLeft(sweepId: string, status: string): string {
  const kept = 'finished trials and checkpoints are kept: the same spec started again (under a new id) reuses them';
  return status === 'FAILED' ? `\`sweep status ${sweepId}\` says why it failed; ${kept}` : kept;
}

async function cancel(sweepId: string): Promise<number> {
  const client = await connectClient();
  const handle = client.workflow.getHandle(sweepId);
  // The server takes a cancellation of a sweep that has ended without a word: say it had ended.
  const description = await describeSweep(handle);
  const { status } = description;
  if (status.name !== 'RUNNING') {
    console.error(`sweep ${sweepId} already ended ${status.name}: nothing to cancel; \`sweep status ${sweepId}\` shows its trials`);
    return exitCodeOf(status.name);
  }
  await handle.cancel();
  console.log(`cancellation requested for ${sweepId}; finished trials and checkpoints are kept, and the trials ranked so far are written as a partial leaderboard (\`sweep results ${sweepId}\`)`);
  // The sweep acts on the request in its next workflow task: with no worker to run one, not yet.
  const idle = await ownQueueIdle(client, description);
  if (idle.length) console.error(`${idleQueuesWarning(idle, workerConfig())}\n(the sweep ends cancelled, and writes its partial leaderboard, once a CPU worker takes it up)`);
  return EXIT.ok;
}

function print(json: boolean, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text);
}

/** Entry point of the `sweep` bin; exit codes as in `sweep --help` (cli/commands.ts, EXIT). */
export function run(): void {
  // A command that needs S3 while S3 does not answer (MinIO hung, a broken route) fails once S3 has
  // been silent for SWEEP_S3_UNREACHABLE_AFTER_S, saying so; each request would otherwise wait out
  // the S3 client's 60 s socket timeout, three times over (`sweep report` sat silent for 190 s).
  Promise.resolve().then(() => withStorageGate(startStorageContact(), () => main(process.argv.slice(2)))).then(
    (code) => process.exit(code),
    (error) => {
      const tlsProblem = storageTlsAdvice(error);
      const refused = temporalPermissionAdvice(error);
      // Line by line: a spec's problems are one per line, and may quote a class folder's name.
      if (error instanceof UsageError || error instanceof SpecError) console.error(error.message.split('\n').map(visible).join('\n'));
      else if (error instanceof WorkflowNotFoundError) console.error(`no sweep with that id: ${error.message}; \`sweep list\` shows recent sweeps`);
      else if (tlsProblem) console.error(tlsProblem);
      else if (isStorageLost(error)) {
        console.error(`S3 at ${storeName(storageConfig())} has not answered for ${storageUnreachableAfterS()} s (SWEEP_S3_UNREACHABLE_AFTER_S): is it running, and reachable from here? ` +
          'npm run stack:up starts the local one; otherwise check S3_ENDPOINT and the network to it');
      } else if (isStorageUnreachable(error)) console.error(`S3 at ${storeName(storageConfig())} is unreachable: ${rootMessage(error)}; is it running (npm run stack:up)? Otherwise check S3_ENDPOINT`);
      else if (hasNoStorageCredentials(error)) console.error('no S3 credentials found: start the local stack (npm run stack:up writes them to .stack/stack.env), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for your S3');
      else if (refused) console.error(refused);
      else if (isTemporalUnreachable(error)) console.error(`Temporal at ${temporalAddress()} is unreachable: ${rootMessage(error)}; is it running (npm run stack:up)? Otherwise check TEMPORAL_ADDRESS`);
      else console.error(`error: ${visible(rootMessage(error))}`);
      // An unknown sweep id is a bad command line: nothing was started.
      process.exit(error instanceof UsageError || error instanceof SpecError || error instanceof WorkflowNotFoundError ? EXIT.usage : EXIT.error);
    },
  );
}

if (require.main === module) run();
