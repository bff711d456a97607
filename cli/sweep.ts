// The `sweep` command: start, status, results, cancel. `--json` output is a stable, documented
// shape (docs/cli-json.md) for other tools to parse.
import fs from 'node:fs';
import { Client, WorkflowHandleWithFirstExecutionRunId, WorkflowNotFoundError } from '@temporalio/client';
import { formatLeaderboard, formatTrialTable } from '../views/leaderboard-table';
import { rootMessage } from '../lib/errors';
import { Leaderboard } from '../lib/sweep-types';
import { SpecError, parseSweepSpec } from '../lib/sweep-spec';
import { SweepProgress, progressQuery, sweepWorkflow } from '../workflows';
import { connectClient, temporalAddress } from '../platform/temporal-connection';
import { getJson, getObject, parseS3Url } from '../platform/storage';
import { artifactKeys } from '../lib/artifact-keys';
import { workerConfig } from '../platform/config';
import { predict } from './predict';
import { UsageError } from './usage-error';
import { tensorboard } from './tensorboard';
import { report } from './report';
import { stopWaitingOnInterrupt, untilTemporalAnswers } from './wait-for-temporal';
import { watch } from './watch';
import { sweepStartMetadata } from '../views/workflow-metadata';

const USAGE = `usage:
  sweep start <spec.json> [--id ID] [--wait] [--json]
  sweep status <id> [--json]
  sweep results <id> [--json | --csv]
  sweep cancel <id>
  sweep predict <id> <image...> [--json]
  sweep watch <id> [--interval SECONDS] [--plain]
  sweep report <id> [--out FILE.html]
  sweep tensorboard <id> [--port 6006] [--host 127.0.0.1]`;

export async function main(argv: string[]): Promise<void> {
  const [command, target, ...rest] = argv;
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const option = (name: string) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : undefined; };
  if (!command || !target) throw new UsageError(USAGE);
  switch (command) {
    case 'start': return start(target, option('--id'), flags.has('--wait'), flags.has('--json'));
    case 'status': return status(target, flags.has('--json'));
    case 'results': return results(target, flags.has('--json') ? 'json' : flags.has('--csv') ? 'csv' : 'table');
    case 'cancel': return cancel(target);
    case 'predict': return predict(target, rest.filter((a) => !a.startsWith('--')), flags.has('--json'));
    case 'watch': return watch(target, { interval: seconds(option('--interval')), plain: flags.has('--plain') });
    case 'report': return report(target, option('--out'));
    case 'tensorboard': return tensorboard(target, { port: option('--port'), host: option('--host') });
    default: throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

function seconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0.2 && n <= 600)) throw new UsageError(`--interval ${value}: give seconds between 0.2 and 600`);
  return n;
}

/**
 * Validates a spec (so a bad one is reported before anything starts) and starts its sweep on the
 * CPU queue, with the summary and details the Web UI shows. The id defaults to name + UTC time.
 */
export async function startSweep(client: Client, raw: unknown, id?: string): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const spec = parseSweepSpec(raw);
  const workflowId = id ?? `${spec.name}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
  return client.workflow.start(sweepWorkflow, { taskQueue: workerConfig().cpuQueue, workflowId, args: [raw], ...sweepStartMetadata(spec) });
}

export async function start(specFile: string, id: string | undefined, wait: boolean, json: boolean): Promise<void> {
  if (!fs.existsSync(specFile)) throw new UsageError(`spec file ${specFile} does not exist; see examples/ for one`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(specFile, 'utf8'));
  } catch (error) {
    throw new UsageError(`spec file ${specFile} is not valid JSON: ${(error as Error).message}`);
  }
  const client = await connectClient();
  const handle = await startSweep(client, raw, id);
  if (!wait) {
    print(json, { sweepId: handle.workflowId, runId: handle.firstExecutionRunId }, `started sweep ${handle.workflowId}`);
    return;
  }
  if (!json) console.log(`started sweep ${handle.workflowId}; waiting for it to finish`);
  const stopHandling = stopWaitingOnInterrupt(handle.workflowId);
  const board = (await untilTemporalAnswers(() => handle.result(), { address: temporalAddress() })) as Leaderboard;
  stopHandling();
  print(json, board, formatLeaderboard(board));
}

/** The stable `sweep status --json` document. */
export interface StatusDocument {
  sweepId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
  stage?: SweepProgress['stage'];
  trialsTotal?: number;
  trialsCompleted?: number;
  trialsRunning?: number[];
  trialsFailed?: number;
  bestValAccuracy?: number;
  trials?: SweepProgress['trials'];
  failure?: string;
  /** Activities of the sweep and its running trials that are in flight or waiting to be retried. */
  pendingActivities?: PendingActivity[];
}

export interface PendingActivity {
  workflowId: string;
  activity: string;
  /** 1 for the first try; higher while Temporal retries it. */
  attempt: number;
  /** Why the previous attempt failed (innermost message), e.g. storage unreachable. */
  lastFailure?: string;
}

export async function sweepStatus(sweepId: string): Promise<StatusDocument> {
  const client = await connectClient();
  const handle = client.workflow.getHandle(sweepId);
  const description = await handle.describe();
  const document: StatusDocument = { sweepId, status: description.status.name };
  try {
    const progress = await handle.query(progressQuery);
    Object.assign(document, {
      stage: progress.stage,
      trialsTotal: progress.trialsTotal,
      trialsCompleted: progress.trials.filter((t) => t.status === 'completed').length,
      trialsRunning: progress.running,
      trialsFailed: progress.trials.filter((t) => t.status === 'failed').length,
      bestValAccuracy: progress.bestValAccuracy,
      trials: progress.trials,
    });
  } catch {
    // A closed workflow with no worker to answer the query still has a status.
  }
  if (description.status.name === 'RUNNING') {
    // Trials are child workflows: their activities (training) are pending there, not on the sweep.
    const children = description.raw.pendingChildren ?? [];
    const descriptions = [description, ...await Promise.all(children.map((c) => client.workflow.getHandle(c.workflowId!).describe().catch(() => undefined)))];
    document.pendingActivities = descriptions.flatMap((d) => (d?.raw.pendingActivities ?? []).map((a) => ({
      workflowId: d!.workflowId,
      activity: a.activityType?.name ?? '?',
      attempt: a.attempt ?? 1,
      ...(a.lastFailure ? { lastFailure: rootMessage(a.lastFailure) } : {}),
    })));
  }
  if (description.status.name === 'FAILED') {
    try { await handle.result(); } catch (error) { document.failure = rootMessage(error); }
  }
  return document;
}

async function status(sweepId: string, json: boolean): Promise<void> {
  const doc = await sweepStatus(sweepId);
  const text = [`sweep ${doc.sweepId}: ${doc.status}${doc.stage ? ` (${doc.stage})` : ''}`,
    doc.trialsTotal ? `trials: ${doc.trialsCompleted} of ${doc.trialsTotal} done, running ${doc.trialsRunning?.length ?? 0}, failed ${doc.trialsFailed}` : '',
    doc.bestValAccuracy !== undefined ? `best val accuracy so far: ${(doc.bestValAccuracy * 100).toFixed(1)}%` : '',
    doc.trials?.length ? formatTrialTable(doc.trials) : '',
    ...(doc.pendingActivities ?? []).filter((a) => a.lastFailure).map((a) =>
      `retrying ${a.activity} (${a.workflowId}), attempt ${a.attempt}: last failure: ${a.lastFailure}`),
    doc.failure ? `failure: ${doc.failure}` : ''].filter(Boolean).join('\n');
  print(json, doc, text);
}

async function results(sweepId: string, format: 'json' | 'csv' | 'table'): Promise<void> {
  const client = await connectClient();
  const handle = client.workflow.getHandle(sweepId);
  const { status } = await handle.describe();
  let board: Leaderboard;
  if (status.name === 'COMPLETED') board = (await handle.result()) as Leaderboard;
  else if (status.name === 'CANCELLED') board = await getJson<Leaderboard>(artifactKeys.sweepResults(sweepId, 'leaderboard.json'));
  else throw new UsageError(`sweep ${sweepId} is ${status.name}, so it has no final results; \`sweep status ${sweepId}\` shows its progress`);
  if (format === 'csv') {
    const { bucket, key } = parseS3Url(board.artifacts.resultsCsv);
    process.stdout.write(await getObject(key, bucket));
    return;
  }
  print(format === 'json', board, formatLeaderboard(board));
}

async function cancel(sweepId: string): Promise<void> {
  const client = await connectClient();
  await client.workflow.getHandle(sweepId).cancel();
  console.log(`cancellation requested for ${sweepId}; finished trials and checkpoints are kept, a partial leaderboard is written`);
}

function print(json: boolean, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text);
}

/** Entry point of the `sweep` bin: exit 2 for usage and spec errors, 1 for anything else. */
export function run(): void {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error) => {
      if (error instanceof UsageError || error instanceof SpecError) console.error(error.message);
      else if (error instanceof WorkflowNotFoundError) console.error(`no sweep with that id: ${error.message}`);
      else console.error(error);
      process.exit(error instanceof UsageError || error instanceof SpecError ? 2 : 1);
    },
  );
}

if (require.main === module) run();
