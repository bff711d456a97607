// A chaos soak: grid, ASHA, median-rule and bayesian sweeps run one after another, for as long as
// asked, on a private stack (its own Temporal dev server and MinIO; workers as separate processes: one
// CPU, two GPU, one suggest) while random faults hit it, one at a time, 0.5 to 5 s apart: kill -9 of a
// GPU, the CPU or the Python suggest worker; of both GPU workers at once (a GPU node lost), or of every
// worker at once (a one-machine deployment lost); a GPU or the CPU worker redeployed (SIGTERM: it must
// drain and exit within 30 s, then starts again); a GPU or the CPU worker hung (SIGSTOP) past the 5 s
// heartbeat timeout, then woken; the Temporal server or MinIO killed (kill -9) and started again, or
// hung (SIGSTOP) for 1-12 s, so that requests hang rather than fail; a GPU worker killed while the
// Temporal server is down; a GPU, the CPU or the suggest worker cut off from the Temporal server for 2-15 s
// (the CPU and suggest workers 2-30 s) while it runs on and reaches S3, or a GPU or the CPU worker cut off
// from MinIO for 2-75 s while it reaches Temporal (network splits: each worker's connections to both go
// through links the soak cuts, cuttable-link.ts); a worker's connections to both reset (TCP RST) 1-6
// times up to 3 s apart (a flapping link, a load balancer dropping them);
// one of the node's local copies of feature shards and image packs cut short or a byte of it changed (the
// workers' SWEEP_CACHE_DIR is the stack's own). Each sweep must end as the same sweep run once without
// faults did (search-runs.ts: the same configurations, decisions, ranking, scores, per-epoch
// metrics and kept weights, bit for bit), within 10 minutes. Not part of `npm test`: it runs for as
// long as asked.
// With --pairs, each round starts two sweeps of one spec 0-3 s apart, reuse on, so they share their
// trials through the training lease (docs/guarantees.md, "Concurrent sweeps"), on a seed of the round's
// own (new trials, features not yet extracted), while the faults hit both; then that spec once more
// without faults (reuse off) as their reference. Both must end as it did, and where no early-stopping
// rule lets a trial give its lease back at a rung (grid, bayesian), every trial must have been trained
// by exactly one of the two (its checkpoint pointer moved by one sweep only, and the sweeps' summaries
// say the same: one trained, the other reused).
// The bucket keeps every version of every object, so each trial's checkpoint pointer tells who trained
// which epoch: no epoch may be trained twice (a pair with early stopping: only counted).
//   npm run soak -- [--minutes=30] [--seed=1] [--methods=grid,asha,median,bayesian] [--pairs] [--cluster] [--faults=...]
// --faults=kill-gpu-worker,... picks the kinds of fault (default: all of FAULTS, or with --cluster CLUSTER_FAULTS).
// With --cluster, the same rounds run on the cluster profile (infra/cluster-up.sh; root) with nodes of
// their own, through the faults of soak-cluster.ts (nodes lost, hung, redeployed, revoked or cut off
// from MinIO; a Temporal process, the whole server, PostgreSQL or MinIO killed).
// Prints each fault and sweep, then a summary; writes .data/soak/<time>.json; exits 1 when a sweep
// ended otherwise than its reference, or did not end, or a redeployed worker did not exit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import { randomInt, randomStream } from '../../lib/random';
import { Leaderboard } from '../../lib/sweep-types';
import { REPO_ROOT } from '../../platform/config';
import { suggestWorkerMissing } from '../../workers/suggest-worker';
import { seconds, waitFor } from '../waiting';
import { tinyFlowerDataset } from './harness';
import { CuttableLink, cuttableLink } from './cuttable-link';
import { PrivateStack, WorkerProcess, startPrivateStack } from './private-stack';
import { Arena, Chance, FaultDone } from './soak-arena';
import { CLUSTER_FAULTS, clusterArena } from './soak-cluster';
import {
  SweepMethod, SweepOutcome, SweepStore, ashaSearch, assertSameOutcome, bayesianSearch, keepEveryVersion, longGrid, medianSearch, notTrainedOnce, outcomeOf, pythonChildOf,
  startSweepOn, trainingRecord,
} from './search-runs';

// Twice the crash tests' budgets: more rungs, decisions and batches for faults to land in.
const METHODS: Record<'grid' | 'asha' | 'median' | 'bayesian', SweepMethod> = {
  grid: { grid: longGrid },
  asha: { search: { ...ashaSearch, budget: 8 } },
  median: { search: { ...medianSearch, budget: 8 } },
  bayesian: { search: { ...bayesianSearch, budget: 8 } },
};
type Method = keyof typeof METHODS;
const FAULTS = [
  'kill-gpu-worker', 'kill-cpu-worker', 'kill-suggest-worker', 'kill-gpu-node', 'kill-every-worker', 'redeploy-gpu-worker', 'redeploy-cpu-worker',
  'hang-gpu-worker', 'hang-cpu-worker', 'kill-temporal', 'kill-minio', 'kill-gpu-worker-during-outage', 'hang-temporal', 'hang-minio', 'damage-node-cache',
  'partition-gpu-worker', 'partition-cpu-worker', 'partition-gpu-worker-from-minio', 'partition-cpu-worker-from-minio', 'partition-suggest-worker',
  'reset-worker-connections',
] as const;
/** A redeployed worker (SIGTERM) cancels its activities at once and finishes its workflow tasks: it has not drained if it still runs this long after. */
const DRAIN_MS = 30_000;
type Fault = typeof FAULTS[number];
type AnyFault = Fault | typeof CLUSTER_FAULTS[number];
type Server = 'temporal' | 'minio';
/** A sweep that has not ended this long after its start has not survived (the references take well under a minute). */
const SWEEP_DEADLINE_MS = 10 * 60_000;

const { values: options } = parseArgs({ options: {
  minutes: { type: 'string', default: '30' }, seed: { type: 'string', default: '1' }, methods: { type: 'string', default: 'grid,asha,median,bayesian' }, pairs: { type: 'boolean', default: false },
  cluster: { type: 'boolean', default: false }, faults: { type: 'string' },
} });
const FAULT_KINDS: readonly AnyFault[] = options.cluster ? CLUSTER_FAULTS : FAULTS;
const methods = options.methods!.split(',') as Method[];
for (const method of methods) if (!(method in METHODS)) throw new Error(`--methods: unknown method "${method}" (methods: ${Object.keys(METHODS).join(', ')})`);
const chosenFaults = (options.faults ?? FAULT_KINDS.join(',')).split(',') as AnyFault[];
for (const fault of chosenFaults) if (!FAULT_KINDS.includes(fault)) throw new Error(`--faults: unknown fault "${fault}"${options.cluster ? ' with --cluster' : ''} (faults: ${FAULT_KINDS.join(', ')})`);
const noSuggestWorker = suggestWorkerMissing();
if (methods.includes('bayesian') && noSuggestWorker) throw new Error(`--methods: bayesian needs the suggest worker (${noSuggestWorker}); run infra/setup-search.sh, or leave bayesian out`);
const random = randomStream('soak', Number(options.seed));
const between = (low: number, high: number) => low + random() * (high - low);
const pick = <T>(items: readonly T[]) => items[randomInt(random, items.length)];
const chance: Chance = { between, pick };

interface FaultRecord extends FaultDone { kind: AnyFault; atSeconds: number }
interface SweepRecord {
  method: Method; sweepId: string; seconds: number; faults: FaultRecord[]; outcome: 'identical' | 'different' | 'not ended'; detail?: string;
  /** Trials that resumed from a checkpoint after an attempt was cut off: where the faults hit training. */
  resumedTrials?: number;
  /** Trials this sweep trained rather than reused (--pairs). */
  trainedTrials?: number;
  /** Epochs of its trials trained (a pair: by either sweep), and of those, trained more than once: from the checkpoint pointers' versions. */
  epochsTrained?: number;
  epochsTrainedTwice?: number;
}

/**
 * How the sweeps `sweepIds` trained the trials of `board` since `since` (search-runs.ts, trainingRecord):
 * epochs trained twice and, where a trial must have been trained by one sweep only (`exclusive`), the trials
 * more than one trained. Faults may cost the epoch in progress, which is never checkpointed twice.
 */
async function trainingProblems(stack: SweepStore, board: Leaderboard, sweepIds: string[], since: Date, exclusive: boolean): Promise<{ epochs: number; twice: number; problems: string[] }> {
  let [epochs, twice] = [0, 0];
  const problems: string[] = [];
  // A configuration drawn twice is one trial, trained once.
  for (const trial of board.ranked.filter((t) => t.sameAs === undefined)) {
    const record = await trainingRecord(stack, trial.trialId, sweepIds, since);
    epochs += record.epochs;
    twice += record.twice.length;
    if (exclusive && record.twice.length) problems.push(`run ${trial.run}: epochs ${record.twice.join(', ')} trained twice`);
    if (exclusive && record.epochs !== trial.epochsDone) problems.push(`run ${trial.run}: ${record.epochs} epochs trained of its ${trial.epochsDone}`);
    if (exclusive && record.sweeps.length > 1) problems.push(`run ${trial.run}: trained by ${record.sweeps.join(' and ')}`);
  }
  return { epochs, twice, problems };
}

/** Marks `record` different for `problems`, beside what was found before. */
function addProblems(record: SweepRecord, problems: string[]): void {
  if (!problems.length) return;
  record.outcome = 'different';
  record.detail = [record.detail, ...problems].filter(Boolean).join('\n');
}

/** Whether an early-stopping rule lets a trial give its lease back at a rung, so that two sweeps may each train part of it. */
const sharesTrialsAtRungs = (method: Method) => 'search' in METHODS[method] && 'earlyStopping' in METHODS[method].search;

const resumedTrials = (board: Leaderboard | undefined) => board?.ranked.filter((t) => (t.resumedFromEpoch ?? 0) > 0).length;

/** The workers, restarted in place when a fault kills one. */
class Workers {
  readonly all = new Map<string, WorkerProcess>();

  /** Workers that exited without a fault or the end asking them to, each with the end of its output: each is a problem. */
  readonly exitedOnTheirOwn: string[] = [];

  /** The worker processes a fault or the end has stopped, or is stopping. */
  private readonly stopped = new Set<WorkerProcess>();

  /** The workers' local copies of shards and image packs: one machine's, so one folder (not the machine's shared default, which a damage fault must not touch). */
  readonly cacheDir: string;

  /** Each worker's links to the Temporal server and to MinIO, kept across its restarts: one is cut to partition it from that server. */
  private readonly links = new Map<string, CuttableLink>();

  constructor(private readonly stack: PrivateStack, private readonly queues: { cpuQueue: string; gpuQueue: string }) {
    this.cacheDir = path.join(stack.dir, 'node-cache');
  }

  async start(name: string): Promise<WorkerProcess> {
    const env: NodeJS.ProcessEnv = { SWEEP_CACHE_DIR: this.cacheDir };
    env.TEMPORAL_ADDRESS = (await this.linkOf(name, 'temporal')).address;
    // The suggest worker (Python, Optuna) reads nothing from S3.
    if (name !== 'suggest') env.S3_ENDPOINT = `http://${(await this.linkOf(name, 'minio')).address}`;
    const worker = this.stack.spawnWorker(name.replace(/-\d$/, '') as 'cpu' | 'gpu' | 'suggest', this.queues, env);
    this.all.set(name, worker);
    // A worker must only end when it is told to; one that ends by itself is reported, and started again.
    void worker.exited.then(async (code) => {
      if (this.stopped.has(worker)) return;
      const problem = `${name} exited on its own (code ${code}):\n${worker.output().slice(-2000)}`;
      this.exitedOnTheirOwn.push(problem);
      console.log(`[soak] ${problem}`);
      await this.start(name);
    });
    await worker.ready;
    return worker;
  }

  /** Sends `signal` (SIGKILL, SIGTERM) to the named worker, whose exit is then expected. */
  stop(name: string, signal: NodeJS.Signals): WorkerProcess {
    const worker = this.all.get(name)!;
    this.stopped.add(worker);
    worker.kill(signal);
    return worker;
  }

  /** Every worker's exit is expected from now on (the stack is being destroyed). */
  stopAll(): void {
    for (const worker of this.all.values()) this.stopped.add(worker);
  }

  private async linkOf(name: string, server: Server): Promise<CuttableLink> {
    const key = `${name} to ${server}`;
    if (!this.links.has(key)) {
      const upstream = server === 'temporal' ? this.stack.env.TEMPORAL_ADDRESS! : new URL(this.stack.env.S3_ENDPOINT!).host;
      this.links.set(key, await cuttableLink(upstream));
    }
    return this.links.get(key)!;
  }

  /** The worker cut off from `server` for `ms`, still running and reaching the other. */
  async partition(name: string, server: Server, ms: number): Promise<void> {
    const link = await this.linkOf(name, server);
    link.cut();
    await sleep(ms);
    link.heal();
  }

  /**
   * Every open connection of the named worker to the Temporal server and MinIO reset (TCP RST both
   * ways), `times` times, up to 3 s apart: a flapping link, or a load balancer dropping connections.
   * Returns how many were reset.
   */
  async resetConnections(name: string, times: number): Promise<number> {
    let reset = 0;
    for (let i = 0; i < times; i++) {
      if (i > 0) await sleep(between(100, 3000));
      for (const [key, link] of this.links) if (key.startsWith(`${name} to `)) reset += link.reset();
    }
    return reset;
  }

  async closeLinks(): Promise<void> {
    await Promise.all([...this.links.values()].map((link) => link.close()));
  }

  /** kill -9 of the named workers at once (a node lost with every process on it), started again 0-3 s later. */
  async kill(...names: string[]): Promise<void> {
    const dying = names.map((name) => this.stop(name, 'SIGKILL'));
    await Promise.all(dying.map((worker) => worker.exited));
    await sleep(between(0, 3000));
    await Promise.all(names.map((name) => this.start(name)));
  }

  /** SIGTERM, as a redeploy sends it; a worker that has not exited `DRAIN_MS` later is killed, and that is the problem returned. */
  async redeploy(name: string): Promise<{ exitedMs?: number; problem?: string }> {
    const sent = Date.now();
    const worker = this.stop(name, 'SIGTERM');
    const drained = await Promise.race([worker.exited.then(() => true), sleep(DRAIN_MS).then(() => false)]);
    const exitedMs = Date.now() - sent;
    if (!drained) {
      worker.kill('SIGKILL');
      await worker.exited;
    }
    await sleep(between(0, 3000));
    await this.start(name);
    return drained ? { exitedMs } : { problem: `${name} still ran ${seconds(DRAIN_MS)} after SIGTERM:\n${worker.output().slice(-2000)}` };
  }

  async hang(name: string, ms: number): Promise<void> {
    const worker = this.all.get(name)!;
    worker.kill('SIGSTOP');
    await sleep(ms);
    worker.kill('SIGCONT');
  }
}

/**
 * Damages one of the node's local copies in place, as a disk or a stray process might: cut short, or one
 * byte changed. Readers must notice and download the object again, never train on what is there.
 */
function damageLocalCopy(dir: string): string {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)).filter((f) => !f.endsWith('.partial') && fs.statSync(f, { throwIfNoEntry: false })?.isFile()) : [];
  if (!files.length) return 'damage a local copy (none yet)';
  const file = pick(files.sort());
  const size = fs.statSync(file).size;
  const at = randomInt(random, Math.max(size, 1));
  const name = path.relative(dir, file);
  if (random() < 0.5) {
    fs.truncateSync(file, at);
    return `cut ${name} short at byte ${at} of ${size}`;
  }
  const fd = fs.openSync(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, at);
    byte[0] ^= 0xff;
    fs.writeSync(fd, byte, 0, 1, at);
  } finally {
    fs.closeSync(fd);
  }
  return `changed byte ${at} of ${size} in ${name}`;
}

/** Injects `fault` into the private stack, waits until it is whole again, and says what it did (and what went wrong, if anything did). */
async function inject(fault: Fault, stack: PrivateStack, workers: Workers): Promise<FaultDone> {
  switch (fault) {
    case 'redeploy-gpu-worker':
    case 'redeploy-cpu-worker': {
      const name = fault === 'redeploy-cpu-worker' ? 'cpu' : pick(['gpu-1', 'gpu-2']);
      const { exitedMs, problem } = await workers.redeploy(name);
      return { what: `SIGTERM ${name} (redeploy): ${problem ? 'did not exit, killed' : `exited in ${seconds(exitedMs!)}`}`, problem };
    }
    case 'kill-gpu-worker': {
      const name = pick(['gpu-1', 'gpu-2']);
      await workers.kill(name);
      return { what: `kill -9 ${name}` };
    }
    case 'kill-cpu-worker':
      await workers.kill('cpu');
      return { what: 'kill -9 cpu' };
    case 'kill-gpu-node':
      await workers.kill('gpu-1', 'gpu-2');
      return { what: 'kill -9 gpu-1 and gpu-2 at once' };
    case 'kill-every-worker': {
      const names = [...workers.all.keys()];
      await workers.kill(...names);
      return { what: `kill -9 ${names.join(', ')} at once` };
    }
    case 'kill-suggest-worker': {
      const launcher = workers.all.get('suggest')!;
      const python = pythonChildOf(launcher.pid);
      if (!python) return { what: 'kill -9 suggest (none running)' };
      process.kill(python, 'SIGKILL');
      await waitFor('the suggest worker started again', async () => { const next = pythonChildOf(launcher.pid); return next !== python && next; }, 60_000, 200);
      return { what: 'kill -9 suggest (its launcher started it again)' };
    }
    case 'hang-gpu-worker':
    case 'hang-cpu-worker': {
      const name = fault === 'hang-cpu-worker' ? 'cpu' : pick(['gpu-1', 'gpu-2']);
      const ms = between(6000, 15_000);
      await workers.hang(name, ms);
      return { what: `SIGSTOP ${name} for ${seconds(ms)}` };
    }
    case 'kill-gpu-worker-during-outage': {
      // A node lost while the server is down: its attempt can neither heartbeat nor fail until it is back.
      const name = pick(['gpu-1', 'gpu-2']);
      await stack.down('temporal', { kill: true });
      const ms = between(1000, 8000);
      await sleep(ms / 2);
      await workers.stop(name, 'SIGKILL').exited;
      await sleep(ms / 2);
      await stack.up('temporal');
      await workers.start(name);
      return { what: `kill -9 temporal, down ${seconds(ms)}, and ${name} in the middle of it` };
    }
    case 'hang-temporal':
    case 'hang-minio': {
      // Requests hang rather than fail: the clients' deadlines and timeouts, not refused connections, end them.
      const component = fault === 'hang-temporal' ? 'temporal' : 'minio';
      const pid = stack.serverPid(component);
      const ms = between(1000, 12_000);
      process.kill(pid, 'SIGSTOP');
      await sleep(ms);
      process.kill(pid, 'SIGCONT');
      return { what: `SIGSTOP ${component} for ${seconds(ms)}` };
    }
    case 'partition-gpu-worker':
    case 'partition-cpu-worker':
    case 'partition-suggest-worker':
    case 'partition-gpu-worker-from-minio':
    case 'partition-cpu-worker-from-minio': {
      const name = fault.startsWith('partition-gpu') ? pick(['gpu-1', 'gpu-2']) : fault.startsWith('partition-cpu') ? 'cpu' : 'suggest';
      const [server, other]: Server[] = fault.endsWith('from-minio') ? ['minio', 'temporal'] : ['temporal', 'minio'];
      // Past, at times, the S3 client's 60 s socket timeout, the CPU and suggest activities' 20 s heartbeat timeout and the GPU ones' 5 s.
      const ms = between(2000, server === 'minio' ? 75_000 : name.startsWith('gpu') ? 15_000 : 30_000);
      await workers.partition(name, server, ms);
      return { what: `${name} cut off from ${server} (not from ${other}) for ${seconds(ms)}` };
    }
    case 'reset-worker-connections': {
      const name = pick(['gpu-1', 'gpu-2', 'cpu', ...(workers.all.has('suggest') ? ['suggest'] : [])]);
      const times = 1 + randomInt(random, 6);
      const reset = await workers.resetConnections(name, times);
      return { what: `${name}'s connections to Temporal and MinIO reset ${times} time(s) (${reset} connections)` };
    }
    case 'damage-node-cache':
      return { what: damageLocalCopy(workers.cacheDir) };
    case 'kill-temporal':
    case 'kill-minio': {
      const component = fault === 'kill-temporal' ? 'temporal' : 'minio';
      await stack.down(component, { kill: true });
      const ms = between(1000, 8000);
      await sleep(ms);
      await stack.up(component);
      return { what: `kill -9 ${component}, down ${seconds(ms)}` };
    }
  }
}

/**
 * The sweep's leaderboard, or why it failed, or neither when it has not ended within `ms`. Asked again
 * while the Temporal server is down (a fault): the client's own retries give up within seconds.
 */
async function outcomeWithin(handle: WorkflowHandle, ms: number): Promise<{ board?: Leaderboard; failure?: string }> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    // Cleared once the sweep ends: a pending deadline kept the soak's process up to 10 minutes after its summary.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), deadline - Date.now()); });
    try {
      const board = await Promise.race([handle.result() as Promise<Leaderboard>, late]);
      return board ? { board } : {};
    } catch (error) {
      if (error instanceof WorkflowFailedError) return { failure: `${error.message}: ${error.cause?.message ?? ''}` };
      await sleep(1000);
    } finally {
      clearTimeout(timer);
    }
  }
  return {};
}

/** Faults one at a time, each a few seconds after the arena is whole again, until `ended` settles. */
async function faultsUntil(ended: Promise<unknown>, began: number, label: string, arena: Arena): Promise<FaultRecord[]> {
  let over = false;
  const settled = ended.finally(() => { over = true; });
  const done: FaultRecord[] = [];
  while (!over) {
    await Promise.race([sleep(between(500, 5000)), settled]);
    if (over) break;
    const kind = pick(arena.faults) as AnyFault;
    const atSeconds = (Date.now() - began) / 1000;
    done.push({ kind, atSeconds, ...await arena.inject(kind) });
    console.log(`[soak]   ${label} at ${atSeconds.toFixed(1)} s: ${done.at(-1)!.what}${done.at(-1)!.problem ? `\n${done.at(-1)!.problem}` : ''}`);
  }
  return done;
}

/** How a sweep that ran through faults ended against its reference; a sweep that has not ended is terminated. */
async function judge(arena: Arena, handle: WorkflowHandle, ended: { board?: Leaderboard; failure?: string }, outcome: SweepOutcome | undefined, reference: SweepOutcome): Promise<Pick<SweepRecord, 'outcome' | 'detail'>> {
  if (ended.failure) return { outcome: 'different', detail: ended.failure };
  if (!outcome) {
    const status = await arena.status(handle.workflowId);
    await handle.terminate('soak.ts: not ended by its deadline');
    return { outcome: 'not ended', detail: status };
  }
  try {
    assertSameOutcome(outcome, reference);
    return { outcome: 'identical' };
  } catch (error) {
    return { outcome: 'different', detail: (error as Error).message };
  }
}

type Round = (method: Method, round: number) => Promise<SweepRecord[]>;

/** One sweep through faults, against the reference run before them. */
function singleRounds(arena: Arena, references: Map<Method, SweepOutcome & { seconds: number }>): Round {
  const { store: stack, queues } = arena;
  return async (method) => {
    const reference = references.get(method)!;
    const began = Date.now();
    const handle = await startSweepOn(stack, queues, `soak-${method}`, METHODS[method], 'soak');
    const result = outcomeWithin(handle, SWEEP_DEADLINE_MS);
    // The sweep's own time: it may end while a fault is still in progress (a split, a hang: the soak waits it out).
    const endedAt = result.then(() => Date.now());
    const done = await faultsUntil(result, began, handle.workflowId, arena);
    const ended = await result;
    const verdict = await judge(arena, handle, ended, ended.board && await outcomeOf(stack, ended.board), reference);
    const record: SweepRecord = { method, sweepId: handle.workflowId, seconds: (await endedAt - began) / 1000, faults: done, ...verdict, resumedTrials: resumedTrials(ended.board) };
    if (ended.board) {
      const { epochs, twice, problems } = await trainingProblems(stack, ended.board, [handle.workflowId], new Date(began - 1000), true);
      Object.assign(record, { epochsTrained: epochs, epochsTrainedTwice: twice });
      addProblems(record, problems);
    }
    console.log(`[soak] ${method} ${handle.workflowId}: ${record.outcome} after ${done.length} faults, ${record.resumedTrials ?? '?'} trials resumed, ${record.epochsTrained ?? '?'} epochs trained (${record.epochsTrainedTwice ?? '?'} twice), ${record.seconds.toFixed(1)} s (reference ${reference.seconds.toFixed(1)} s) [load ${os.loadavg()[0].toFixed(1)}]${record.detail ? `\n${record.detail}` : ''}`);
    return [record];
  };
}

/** Two sweeps of one spec at once through faults, sharing their trials, then their reference without faults. */
function pairRounds(arena: Arena): Round {
  const { store: stack, queues } = arena;
  return async (method, round) => {
    const seed = 1000 + round;
    const began = Date.now();
    const start = (name: string) => startSweepOn(stack, queues, `soak-${method}-${name}`, METHODS[method], 'soak', { reuse: true, seed });
    const first = await start('a');
    await sleep(between(0, 3000));
    const handles = [first, await start('b')];
    const results = handles.map((handle) => outcomeWithin(handle, SWEEP_DEADLINE_MS));
    const endedAt = Promise.all(results).then(() => Date.now());
    const done = await faultsUntil(Promise.all(results), began, `${handles[0].workflowId} and b`, arena);
    const ended = await Promise.all(results);
    const seconds = (await endedAt - began) / 1000;
    // Read before the reference: it trains the same trials again and rewrites what they stored.
    const outcomes = await Promise.all(ended.map((e) => e.board && outcomeOf(stack, e.board)));
    const referenceBegan = Date.now();
    const reference = await outcomeOf(stack, await (await startSweepOn(stack, queues, `soak-${method}-reference`, METHODS[method], 'soak', { seed })).result() as Leaderboard);
    const referenceSeconds = (Date.now() - referenceBegan) / 1000;
    const records: SweepRecord[] = [];
    for (const [i, handle] of handles.entries()) {
      const verdict = await judge(arena, handle, ended[i], outcomes[i], reference);
      const board = ended[i].board;
      records.push({ method, sweepId: handle.workflowId, seconds, faults: i === 0 ? done : [], ...verdict, resumedTrials: resumedTrials(board), trainedTrials: board?.ranked.filter((t) => !t.reused).length });
    }
    const [a, b] = ended.map((e) => e.board);
    if (a && b) {
      const exclusive = !sharesTrialsAtRungs(method);
      const { epochs, twice, problems } = await trainingProblems(stack, a, handles.map((h) => h.workflowId), new Date(began - 1000), exclusive);
      Object.assign(records[0], { epochsTrained: epochs, epochsTrainedTwice: twice });
      const flags = notTrainedOnce(a, b);
      addProblems(records[1], [...problems, ...(exclusive && flags.length ? [`not reported trained by exactly one of the two sweeps: ${flags.join(', ')}`] : [])]);
    }
    console.log(`[soak] ${method} pair ${handles.map((h) => h.workflowId).join(' + ')} (seed ${seed}): ${records.map((r) => `${r.outcome}, ${r.trainedTrials ?? '?'} trained, ${r.resumedTrials ?? '?'} resumed`).join('; ')} ` +
      `after ${done.length} faults, ${records[0].epochsTrained ?? '?'} epochs trained (${records[0].epochsTrainedTwice ?? '?'} twice), ${seconds.toFixed(1)} s (reference after, ${referenceSeconds.toFixed(1)} s) [load ${os.loadavg()[0].toFixed(1)}]${records.map((r) => (r.detail ? `\n${r.detail}` : '')).join('')}`);
    return records;
  };
}

/** A private dev stack with its workers as processes of their own: one CPU, two GPU (one node), the suggest worker for bayesian sweeps. */
async function devArena(): Promise<Arena> {
  const queues = { cpuQueue: 'soak-cpu', gpuQueue: 'soak-gpu' };
  const stack = await startPrivateStack();
  await keepEveryVersion(stack);
  const workers = new Workers(stack, queues);
  await Promise.all(['cpu', 'gpu-1', 'gpu-2', ...(methods.includes('bayesian') ? ['suggest'] : [])].map((name) => workers.start(name)));
  return {
    store: stack,
    queues,
    faults: (chosenFaults as Fault[]).filter((f) => !f.endsWith('suggest-worker') || workers.all.has('suggest')),
    inject: (fault) => inject(fault as Fault, stack, workers),
    status: async (workflowId) => { const { stdout, stderr } = await stack.cli(['status', workflowId]); return `${stdout}${stderr}`; },
    async close() {
      workers.stopAll();
      // How often a step worker (GPU, or a CPU process's) lost S3 and stopped taking tasks (workers/storage-gate.ts), and came back.
      const output = stack.allOutput();
      const count = (line: string) => output.split(line).length - 1;
      const storageLosses = (worker: string) => ({ lost: count(`shutting ${worker} down`), answeredAgain: count(`S3 answers again: ${worker} takes tasks again`) });
      const figures = { gpuWorkersLostStorage: storageLosses('the GPU worker'), cpuStepWorkersLostStorage: storageLosses('the CPU step worker') };
      await stack.destroy();
      await workers.closeLinks();
      return { exitedOnTheirOwn: workers.exitedOnTheirOwn, figures };
    },
  };
}

async function main(): Promise<void> {
  const deadline = Date.now() + Number(options.minutes) * 60_000;
  console.log(`[soak] seed ${options.seed}, ${options.minutes} minutes, ${options.pairs ? 'pairs of ' : ''}${methods.join(', ')} sweeps${options.cluster ? ' on the cluster profile' : ''}; faults: ${chosenFaults.join(', ')}`);
  await tinyFlowerDataset();
  const arena = options.cluster ? await clusterArena(chosenFaults, chance, methods.includes('bayesian')) : await devArena();
  const { store: stack, queues } = arena;
  const references = new Map<Method, SweepOutcome & { seconds: number }>();
  const sweeps: SweepRecord[] = [];
  let closed: Awaited<ReturnType<Arena['close']>>;
  try {
    if (!options.pairs) {
      for (const method of methods) {
        const began = Date.now();
        const board = await (await startSweepOn(stack, queues, `soak-${method}-reference`, METHODS[method], 'soak')).result() as Leaderboard;
        references.set(method, { ...await outcomeOf(stack, board), seconds: (Date.now() - began) / 1000 });
        console.log(`[soak] reference ${method}: ${seconds(Date.now() - began)}, ${board.ranked.length} trials, ${board.ranked.filter((t) => t.status === 'stopped').length} stopped [load ${os.loadavg()[0].toFixed(1)}]`);
      }
    }
    const runRound = options.pairs ? pairRounds(arena) : singleRounds(arena, references);
    for (let round = 0; Date.now() < deadline; round++) sweeps.push(...await runRound(methods[round % methods.length], round));
  } finally {
    closed = await arena.close();
  }

  const byKind = Object.fromEntries(FAULT_KINDS.map((f) => [f, 0]));
  for (const sweep of sweeps) for (const fault of sweep.faults) byKind[fault.kind]++;
  const summary = {
    seed: Number(options.seed), minutes: Number(options.minutes), methods, cluster: options.cluster, machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    pairs: options.pairs, references: Object.fromEntries([...references].map(([m, r]) => [m, { seconds: r.seconds, trials: r.board.ranked.length }])),
    sweeps: sweeps.length, faults: sweeps.reduce((n, s) => n + s.faults.length, 0), faultsByKind: byKind,
    identical: sweeps.filter((s) => s.outcome === 'identical').length,
    failures: sweeps.filter((s) => s.outcome !== 'identical'),
    epochsTrained: sweeps.reduce((n, s) => n + (s.epochsTrained ?? 0), 0), epochsTrainedTwice: sweeps.reduce((n, s) => n + (s.epochsTrainedTwice ?? 0), 0),
    faultProblems: sweeps.flatMap((s) => s.faults.filter((f) => f.problem).map((f) => ({ sweepId: s.sweepId, ...f }))),
    workersExitedOnTheirOwn: closed.exitedOnTheirOwn,
    ...closed.figures,
    log: sweeps,
  };
  const out = path.join(REPO_ROOT, '.data', 'soak', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(summary, null, 2));
  console.log(`[soak] ${summary.sweeps} sweeps, ${summary.faults} faults (${Object.entries(byKind).map(([k, n]) => `${k} ${n}`).join(', ')}): ${summary.identical} identical to their reference, ${summary.failures.length} not; ${summary.epochsTrained} epochs trained, ${summary.epochsTrainedTwice} of them twice; ${summary.faultProblems.length} faults with a problem (a worker that did not drain on SIGTERM, a node that did not come back); ${summary.workersExitedOnTheirOwn.length} workers exited on their own; ${Object.entries(closed.figures).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join('; ')}; ${out}`);
  process.exitCode = summary.failures.length || summary.faultProblems.length || summary.workersExitedOnTheirOwn.length ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
