// What `sweep watch` shows: a frame of progress bars and the leaderboard so far (redrawn in place on
// a terminal), or, when the output is not a terminal, one plain line per change between two polls.
// Pure: the CLI gathers snapshots (leaderboard query + the running trials' heartbeats) and prints.
import { EpochMetrics } from '../lib/epoch-rows';
import { Params } from '../lib/grid';
import { formatTrialTable, num, pct, rankedOtherwise } from './leaderboard-table';
import { LiveLeaderboard, RunningTrial, boardCounts } from '../lib/live-leaderboard';
import { formatParams } from './workflow-metadata';
import { visible } from '../lib/visible-text';

/** Where a running trial's training is, from its trainTrial activity's last heartbeat. */
export interface TrialProgress {
  /** Epochs finished. */
  epochsDone: number;
  of: number;
  /** Batch reached in the epoch under way. */
  batch?: number;
  /** Metrics of the last finished epoch, when the last heartbeat carried them. */
  metrics?: EpochMetrics;
  /** Activity attempt: above 1 the trial is resuming from its checkpoint after a failure. */
  attempt: number;
  /** Training is over and the trial is scoring the test split. */
  evaluating?: boolean;
  /** Trained to `epochsDone`, waiting for the sweep's early-stopping decision there. */
  waiting?: boolean;
  /** Its trainTrial activity waits for a free GPU worker slot (more trials in flight than slots, or no GPU worker polling). */
  queued?: boolean;
  /** Its last attempt failed: the next one starts in `inSeconds` (Temporal's retry backoff). */
  retry?: { inSeconds: number; failure: string };
}

/** What describe() says of a trial's pending trainTrial activity, beside its last heartbeat. */
export interface PendingTraining {
  attempt: number;
  /** No worker holds it: it waits for a free slot, or (retryInSeconds) for its next attempt. */
  scheduled: boolean;
  retryInSeconds?: number;
  lastFailure?: string;
}

export interface WatchSnapshot {
  sweepId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, ... */
  status: string;
  /** Seconds since the sweep started. */
  elapsed: number;
  board?: LiveLeaderboard;
  /** By run number, for trials training now. */
  training: Record<number, TrialProgress>;
  /** Seconds the running sweep has gone without answering (no workflow worker takes its tasks): `board` is its last answer. */
  unansweredSeconds?: number;
  /** Meanwhile, its stage from its search attributes. */
  serverStage?: string;
  /** The warning for queues where a step of the running sweep waits and no worker polls (cli/idle-queues.ts). */
  waitingWarning?: string;
  /**
   * While the sweep has given no leaderboard (it had not answered when watch started): the trials the
   * server lists as running (its pending trial workflows), so their training still shows.
   */
  listed?: ListedTrial[];
}

/** A running trial as the server lists it: its run and its parameters as text (its workflow's summary). */
export interface ListedTrial {
  run: number;
  params: string;
}

/** A running trial as watch draws it: from the sweep's leaderboard, or as the server lists it (epochs unknown: 0). */
interface ShownTrial {
  run: number;
  epochs: number;
  params: string;
}

function shownTrials(snap: WatchSnapshot, params: (trial: RunningTrial) => string): ShownTrial[] {
  return snap.board ? snap.board.running.map((t) => ({ run: t.run, epochs: t.epochs, params: params(t) })) : (snap.listed ?? []).map((t) => ({ ...t, epochs: 0 }));
}

/** The stage to show: the server's while the sweep does not answer, else the sweep's own. */
function stageOf(snap: WatchSnapshot): string | undefined {
  return snap.serverStage ?? snap.board?.stage;
}

function unansweredLine(seconds: number): string {
  return `the sweep has not answered for ${Math.floor(seconds)} s: no workflow worker is taking its tasks (its CPU workers stopped, or are overloaded); ` +
    'its trials\' training is read from the server, and the sweep goes on once a CPU worker runs';
}

/**
 * trainTrial heartbeats `{epoch, of, batch, metrics?}` while an epoch is under way (epoch = the one
 * being trained, 1-based; metrics = the previous epoch's, from the second epoch on) and
 * `{epoch, of, metrics}` once it is finished.
 */
export function parseTrainHeartbeat(details: unknown, attempt = 1): TrialProgress | undefined {
  if (!details || typeof details !== 'object') return undefined;
  const { epoch, of, batch, metrics } = details as Record<string, unknown>;
  if (typeof epoch !== 'number' || typeof of !== 'number') return undefined;
  const lastMetrics = metrics && typeof metrics === 'object' ? { metrics: metrics as EpochMetrics } : {};
  if (typeof batch === 'number') return { epochsDone: epoch - 1, of, batch, ...lastMetrics, attempt };
  return { epochsDone: lastMetrics.metrics ? epoch : epoch - 1, of, ...lastMetrics, attempt };
}

/**
 * A pending trainTrial activity's progress: its last heartbeat's (a retried attempt keeps the one
 * before it). While no worker holds it, no batch is under way, and it is queued or waits to retry; a
 * new rung's activity has no heartbeat yet, so the epochs `known` from the last poll stand.
 */
export function trainActivityProgress(details: unknown, pending: PendingTraining, epochs: number, known?: TrialProgress): TrialProgress | undefined {
  const beat = parseTrainHeartbeat(details, pending.attempt);
  if (!pending.scheduled) return beat;
  const { batch: _underWay, ...reached } = beat ?? { epochsDone: known?.epochsDone ?? 0, of: epochs, attempt: pending.attempt };
  return pending.retryInSeconds === undefined
    ? { ...reached, queued: true }
    : { ...reached, retry: { inSeconds: pending.retryInSeconds, failure: (pending.lastFailure ?? 'no reason given').split('\n')[0] } };
}

export function progressBar(done: number, total: number, width: number): string {
  const filled = total > 0 ? Math.round(Math.min(1, done / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function formatElapsed(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** Between rungs no training runs: the sweep says the trial waits at an epoch for its early-stopping decision. */
export function waitingProgress(trial: Pick<RunningTrial, 'waitingAt' | 'epochs'>): TrialProgress | undefined {
  return trial.waitingAt === undefined ? undefined : { epochsDone: trial.waitingAt, of: trial.epochs, attempt: 1, waiting: true };
}

/** A running trial's training in words, as the frame and `sweep status` show it ("starting" while nothing is known). */
export function trialProgressText(p: TrialProgress | undefined): string {
  const epochs = !p ? 'starting' : p.evaluating ? 'evaluating on the test split'
    : p.queued ? `queued for a free GPU worker slot${p.epochsDone ? ` (${p.epochsDone}/${p.of} epochs done)` : ''}`
    : p.retry ? `retrying in ${Math.ceil(p.retry.inSeconds)} s after a failure: ${visible(p.retry.failure)}`
    : p.waiting ? `at epoch ${p.epochsDone}/${p.of}, waiting for the early-stopping decision`
    : `epoch ${String(Math.min(p.epochsDone + 1, p.of)).padStart(String(p.of).length)}/${p.of}${p.batch ? ` batch ${p.batch}` : ''}`;
  const metrics = p?.metrics ? ` · epoch ${p.metrics.epoch} val acc ${pct(p.metrics.valAccuracy)} loss ${num(p.metrics.valLoss)}` : '';
  return `${epochs}${metrics}${p && p.attempt > 1 ? ` · attempt ${p.attempt} (resumed)` : ''}`;
}

/** The fewest rows the leaderboard takes: a blank line, its title, the table's header, one row and "… N more". */
const LEADERBOARD_MIN_ROWS = 5;

/**
 * The terminal frame, at most `maxRows` lines (from 8 up) so an in-place redraw never scrolls.
 * `leaderboard: false` leaves the table out (the last frame, when the final leaderboard follows).
 */
export function renderFrame(snap: WatchSnapshot, opts: { width: number; maxRows: number; leaderboard?: boolean }): string[] {
  const board = snap.board;
  // Only the hyperparameters that differ between trials, so the rows fit a terminal.
  const shown = board ? variedParams([...board.ranked, ...board.notCompleted, ...board.running]) : (params: Params) => params;
  const withTable = opts.leaderboard !== false && board && (board.ranked.length > 0 || board.notCompleted.length > 0);
  const stage = stageOf(snap);
  const lines = [`sweep ${snap.sweepId} · ${snap.status}${stage ? ` · ${stage}` : ''} · ${formatElapsed(snap.elapsed)}`];
  if (snap.unansweredSeconds !== undefined) lines.push(unansweredLine(snap.unansweredSeconds));
  if (snap.waitingWarning) lines.push(...snap.waitingWarning.split('\n'));
  if (board && board.trialsTotal > 0) {
    const counts = boardCounts(board);
    lines.push(`trials   ${progressBar(counts.ranked + counts.failed + counts.cancelled, board.trialsTotal, 30)} ${countsLine(board)}`);
  }
  const running = shownTrials(snap, (trial) => formatParams(shown(trial.params)));
  // More running trials than rows (a high concurrency): the first ones, then how many more, leaving the table its rows.
  const room = Math.max(1, opts.maxRows - lines.length - (withTable ? LEADERBOARD_MIN_ROWS : 0));
  const drawn = running.length > room ? running.slice(0, room - 1) : running;
  for (const trial of drawn) {
    const p = snap.training[trial.run];
    lines.push(`  run ${String(trial.run).padStart(3)} ${progressBar(p?.epochsDone ?? 0, p?.of ?? trial.epochs, 20)} ${trialProgressText(p)} · ${trial.params}`);
  }
  if (drawn.length < running.length) lines.push(`  … ${running.length - drawn.length} more running`);
  if (withTable) {
    // Rows for the table's header, its rows and, when they do not all fit, the "… N more" line.
    const room = Math.max(LEADERBOARD_MIN_ROWS - 2, opts.maxRows - lines.length - 2);
    const table = formatTrialTable([...board.ranked, ...board.notCompleted].map((t) => ({ ...t, params: shown(t.params) }))).split('\n');
    lines.push('', 'leaderboard so far', ...(table.length <= room ? table
      : [...table.slice(0, room - 1), `  … ${table.length - room + 1} more (sweep status ${snap.sweepId})`]));
  }
  return lines.map((line) => (line.length > opts.width ? `${line.slice(0, opts.width - 1)}…` : line));
}

/** Picks the parameters whose values differ between the trials (all of them when none do). */
function variedParams(trials: ReadonlyArray<{ params: Params }>): (params: Params) => Params {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))]
    .filter((name) => new Set(trials.map((t) => String(t.params[name]))).size > 1);
  return names.length ? (params) => Object.fromEntries(names.filter((n) => n in params).map((n) => [n, params[n]])) : (params) => params;
}

/**
 * The trials under a closed sweep's last line. With no leaderboard at all, the sweep answered no query
 * (a closed sweep needs a worker to answer one; one that failed before planning answers none), so
 * nothing is known about its trials: "no trial finished" would be false for a sweep that failed after
 * some trials did.
 */
export function closedSweepTrials(sweepId: string, board: LiveLeaderboard | undefined): string {
  if (!board) return `its trials could not be read: the sweep answered no leaderboard query (no worker is running, or it failed before planning any trial); with the workers running (npm run workers), \`sweep watch ${sweepId}\` shows them`;
  const trials = [...board.ranked, ...board.notCompleted];
  return trials.length ? formatTrialTable(trials) : 'no trial finished';
}

/** Plain-line mode: what changed since the previous snapshot (everything, for the first). */
export function changeLines(prev: WatchSnapshot | undefined, next: WatchSnapshot): string[] {
  const lines: string[] = [];
  const say = (text: string) => lines.push(`[${formatElapsed(next.elapsed).padStart(6)}] ${text}`);
  const before = prev?.board;
  const board = next.board;
  if (prev?.status !== next.status) say(`sweep ${next.sweepId} ${next.status}`);
  // Once when it starts and once when it ends: the seconds grow at every poll.
  if (next.unansweredSeconds !== undefined && prev?.unansweredSeconds === undefined) say(unansweredLine(next.unansweredSeconds));
  const running = next.status === 'RUNNING';
  if (running && next.unansweredSeconds === undefined && prev?.unansweredSeconds !== undefined) say('the sweep answers again');
  if (running && next.waitingWarning !== prev?.waitingWarning) {
    if (next.waitingWarning) next.waitingWarning.split('\n').forEach(say);
    else say('a worker now polls each queue where the sweep waited');
  }
  const stage = stageOf(next);
  if (stage && stage !== (prev && stageOf(prev))) say(`stage: ${stage}${board?.trialsTotal ? ` (${board.trialsTotal} trials)` : ''}`);
  if (board) {
    // Finished trials before newly started ones: the order in which they happened.
    const seen = new Set([...(before?.ranked ?? []), ...(before?.notCompleted ?? [])].map((t) => t.run));
    const finished = [...board.ranked, ...board.notCompleted].filter((t) => !seen.has(t.run)).sort((a, b) => a.run - b.run);
    for (const trial of finished) {
      say(trial.status === 'completed' || trial.status === 'stopped'
        ? `run ${trial.run} ${trial.stopped ? `stopped at epoch ${trial.stopped.epoch} (${trial.stopped.rule})` : 'completed'}: val acc ${pct(trial.valAccuracy)} · test acc ${pct(trial.test?.accuracy)} · rank ${board.ranked.indexOf(trial) + 1}` +
          (trial.reused ? ' · reused from an earlier sweep' : '')
        : `run ${trial.run} ${trial.status}: ${visible(trial.error ?? '')}`);
    }
    if (finished.length) say(`trials: ${countsLine(board)}`);
  }
  const started = (trial: RunningTrial) => `${formatParams(trial.params)} (${trial.epochs} epochs)`;
  const wasRunning = new Set(prev ? shownTrials(prev, started).map((t) => t.run) : []);
  for (const trial of shownTrials(next, started)) {
    // A trial the server lists was seen running, not starting.
    if (!wasRunning.has(trial.run)) say(`run ${trial.run} ${board ? 'started' : 'running'}: ${trial.params}`);
    const was = prev?.training[trial.run];
    const now = next.training[trial.run];
    if (now?.evaluating && !was?.evaluating) say(`run ${trial.run} evaluating on the test split`);
    else if (now?.queued && !was?.queued) say(`run ${trial.run} queued for a free GPU worker slot`);
    else if (now?.retry && (!was?.retry || now.attempt !== was.attempt)) say(`run ${trial.run} attempt failed (${visible(now.retry.failure)}); retrying in ${Math.ceil(now.retry.inSeconds)} s`);
    else if (now?.waiting && !was?.waiting) say(`run ${trial.run} at epoch ${now.epochsDone}/${now.of}: waiting for the early-stopping decision`);
    else if (now && now.epochsDone > (was?.epochsDone ?? 0)) {
      const m = now.metrics?.epoch === now.epochsDone ? now.metrics : undefined;
      say(`run ${trial.run} epoch ${now.epochsDone}/${now.of} done` +
        (m ? `: train loss ${num(m.trainLoss)} acc ${pct(m.trainAccuracy)} · val loss ${num(m.valLoss)} acc ${pct(m.valAccuracy)}` : ''));
    }
    // Said once a worker runs the attempt: during the retry backoff and in the queue it only waits.
    const runs = (p: TrialProgress | undefined) => p !== undefined && !p.queued && !p.retry;
    if (now && runs(now) && now.attempt > 1 && (now.attempt > (was?.attempt ?? 1) || !runs(was))) say(`run ${trial.run} attempt ${now.attempt}: resuming from its last checkpoint`);
  }
  return lines;
}

function countsLine(board: LiveLeaderboard): string {
  const best = board.ranked[0];
  const counts = boardCounts(board);
  return `${counts.ranked}/${board.trialsTotal} done · ${board.running.length} running · ${counts.failed} failed` +
    (counts.cancelled ? ` · ${counts.cancelled} cancelled` : '') +
    (best ? ` · best val acc ${pct(best.valAccuracy)} (run ${best.run}${rankedOtherwise(board.objective)})` : '');
}
