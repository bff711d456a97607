// lib/live-leaderboard.ts, views/watch-view.ts and views/workflow-metadata.ts: the live leaderboard the
// sweep answers queries with, what `sweep watch` prints from it, and the Web UI's texts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSweepSpec } from '../../lib/sweep-spec';
import { LiveLeaderboard, liveLeaderboard, trialWorkflowId } from '../../lib/live-leaderboard';
import { TrialPlan, TrialSummary } from '../../lib/sweep-types';
import { TrialProgress, WatchSnapshot, changeLines, closedSweepTrials, parseTrainHeartbeat, progressBar, renderFrame, trainActivityProgress, waitingProgress } from '../../views/watch-view';
import { formatTrialTable } from '../../views/leaderboard-table';
import { STOP_REASONS_SHOWN } from '../../views/stop-reasons';
import { sweepCurrentDetails, sweepStartMetadata, trialStartMetadata, trialSummaryParams } from '../../views/workflow-metadata';

const plan = (run: number, hidden: number): TrialPlan => ({
  trialId: `t${run}`, run, params: { hidden_units: hidden, lr: 0.01 },
  head: { hidden_units: hidden, dropout: 0.5, lr: 0.01, batch_size: 8, n_epochs: 5, num_classes: 4 },
});
const done = (run: number, valAccuracy: number, valLoss = 1): TrialSummary => ({
  trialId: `t${run}`, run, params: plan(run, 16 * run).params, status: 'completed', epochsDone: 5, valAccuracy, valLoss, trainLoss: 1, trainAccuracy: 0.5,
});
const plans = [1, 2, 3, 4].map((run) => plan(run, 16 * run));
const sweep = { sweepId: 's1', name: 'demo', stage: 'training', trialsTotal: 4 };

describe('liveLeaderboard', () => {
  test('ranks completed trials, lists the others by run, and describes the running ones', () => {
    const failed: TrialSummary = { trialId: 't3', run: 3, params: {}, status: 'failed', error: 'boom', epochsDone: 0 };
    const board = liveLeaderboard(sweep, [done(1, 0.6), failed, done(2, 0.8)], [4], plans);
    assert.deepEqual(board.ranked.map((t) => t.run), [2, 1]);
    assert.deepEqual(board.notCompleted.map((t) => t.run), [3]);
    assert.deepEqual(board.running, [{ run: 4, trialId: 't4', params: plans[3].params, workflowId: 's1.trial-004', epochs: 5 }]);
    assert.equal(trialWorkflowId('s1', 12), 's1.trial-012');
  });
});

describe('parseTrainHeartbeat', () => {
  test('a batch heartbeat is the epoch under way, with the previous epoch\'s metrics; an epoch-end heartbeat is a finished epoch', () => {
    assert.deepEqual(parseTrainHeartbeat({ epoch: 1, of: 5, batch: 7 }), { epochsDone: 0, of: 5, batch: 7, attempt: 1 });
    const metrics = { epoch: 2, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1.1, valAccuracy: 0.4, epochDuration: 1, runDuration: 3 };
    assert.deepEqual(parseTrainHeartbeat({ epoch: 3, of: 5, batch: 7, metrics }), { epochsDone: 2, of: 5, batch: 7, metrics, attempt: 1 });
    const finished = { ...metrics, epoch: 3 };
    assert.deepEqual(parseTrainHeartbeat({ epoch: 3, of: 5, metrics: finished }, 2), { epochsDone: 3, of: 5, metrics: finished, attempt: 2 });
  });

  test('anything else is not a training heartbeat', () => {
    for (const details of [undefined, null, 'x', { epoch: '1', of: 2 }, { of: 2 }]) assert.equal(parseTrainHeartbeat(details), undefined);
  });
});

describe('progressBar', () => {
  test('fills in proportion, clamped, and is always width + 2 wide', () => {
    assert.equal(progressBar(0, 4, 8), '[........]');
    assert.equal(progressBar(1, 4, 8), '[##......]');
    assert.equal(progressBar(9, 4, 8), '[########]');
    assert.equal(progressBar(0, 0, 8), '[........]');
  });
});

function snap(board: LiveLeaderboard | undefined, training: WatchSnapshot['training'] = {}, status = 'RUNNING', elapsed = 10): WatchSnapshot {
  return { sweepId: 's1', status, elapsed, board, training };
}

describe('changeLines (plain output)', () => {
  const metrics = (epoch: number) => ({ epoch, trainLoss: 1.5, trainAccuracy: 0.25, valLoss: 1.25, valAccuracy: 0.5, epochDuration: 1, runDuration: epoch });

  test('the first snapshot says everything; an unchanged one says nothing', () => {
    const first = snap(liveLeaderboard(sweep, [], [1, 2], plans));
    const lines = changeLines(undefined, first);
    assert.match(lines[0], /sweep s1 RUNNING/);
    assert.match(lines[1], /stage: training \(4 trials\)/);
    assert.match(lines[2], /run 1 started: hidden_units=16 lr=0.01 \(5 epochs\)/);
    assert.match(lines[3], /run 2 started/);
    assert.equal(lines.length, 4);
    assert.deepEqual(changeLines(first, { ...first, elapsed: 12 }), []);
  });

  test('a new finished epoch, a resumed attempt, finished trials with the counts', () => {
    const a = snap(liveLeaderboard(sweep, [], [1, 2], plans), { 1: { epochsDone: 1, of: 5, metrics: metrics(1), attempt: 1 } });
    const b = snap(liveLeaderboard(sweep, [done(2, 0.75)], [1, 3], plans), { 1: { epochsDone: 2, of: 5, metrics: metrics(2), attempt: 2 } }, 'RUNNING', 75);
    const lines = changeLines(a, b);
    assert.deepEqual(lines.map((l) => l.replace(/^\[\s*\S+\] /, '')), [
      'run 2 completed: val acc 75.0% · test acc - · rank 1',
      'trials: 1/4 done · 2 running · 0 failed · best val acc 75.0% (run 2)',
      'run 1 epoch 2/5 done: train loss 1.5000 acc 25.0% · val loss 1.2500 acc 50.0%',
      'run 1 attempt 2: resuming from its last checkpoint',
      'run 3 started: hidden_units=48 lr=0.01 (5 epochs)',
    ]);
    assert.match(lines[0], /^\[ 1m15s\] /);
  });

  test('an epoch seen only through batches is reported without metrics rather than with stale ones', () => {
    const metrics = { epoch: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1.1, valAccuracy: 0.4, epochDuration: 1, runDuration: 1 };
    const a = snap(liveLeaderboard(sweep, [], [1], plans), { 1: { epochsDone: 1, of: 5, metrics, attempt: 1 } });
    const b = snap(liveLeaderboard(sweep, [], [1], plans), { 1: { epochsDone: 3, of: 5, batch: 4, metrics, attempt: 1 } });
    assert.deepEqual(changeLines(a, b).map((l) => l.replace(/^\[\s*\S+\] /, '')), ['run 1 epoch 3/5 done']);
  });

  test('a trial that moved on to the test split says so (once), and a reused one is marked', () => {
    const a = snap(liveLeaderboard(sweep, [], [1], plans), { 1: { epochsDone: 3, of: 5, attempt: 1 } });
    const b = snap(liveLeaderboard(sweep, [], [1], plans), { 1: { epochsDone: 5, of: 5, attempt: 1, evaluating: true } });
    const strip = (lines: string[]) => lines.map((l) => l.replace(/^\[\s*\S+\] /, ''));
    assert.deepEqual(strip(changeLines(a, b)), ['run 1 evaluating on the test split']);
    assert.deepEqual(changeLines(b, { ...b, elapsed: 11 }), []);
    const c = snap(liveLeaderboard(sweep, [{ ...done(1, 0.5), reused: true }], [], plans));
    assert.deepEqual(strip(changeLines(b, c)).slice(0, 1), ['run 1 completed: val acc 50.0% · test acc - · rank 1 · reused from an earlier sweep']);
  });
});

describe('a trial between rungs, waiting for its early-stopping decision', () => {
  test('the live leaderboard says where it waits; watch shows it waiting and, once it trains on, repeats no epoch', () => {
    const board = liveLeaderboard(sweep, [], [1, 2], plans, undefined, undefined, new Map([[2, 3]]));
    assert.deepEqual(board.running.map((t) => t.waitingAt), [undefined, 3]);
    const waiting = waitingProgress(board.running[1])!;
    assert.equal(waitingProgress(board.running[0]), undefined);
    const frame = renderFrame(snap(board, { 2: waiting }), { width: 160, maxRows: 40 });
    assert.match(frame.find((line) => line.includes('run   2'))!, /at epoch 3\/5, waiting for the early-stopping decision/);
    const strip = (lines: string[]) => lines.map((l) => l.replace(/^\[\s*\S+\] /, ''));
    const metrics = { epoch: 3, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1, valAccuracy: 0.5, epochDuration: 1, runDuration: 3 };
    const trained = snap(board, { 2: { epochsDone: 3, of: 5, metrics, attempt: 1 } });
    const waits = snap(board, { 2: waiting });
    const resumed = snap(board, { 2: { epochsDone: 3, of: 5, batch: 1, metrics, attempt: 1 } });
    assert.deepEqual(strip(changeLines(trained, waits)), ['run 2 at epoch 3/5: waiting for the early-stopping decision']);
    assert.deepEqual(changeLines(waits, resumed), [], 'the next rung\'s first heartbeat repeats nothing');
  });
});

describe('a trial queued for a GPU worker slot (concurrency above the slots), or waiting to retry', () => {
  const strip = (lines: string[]) => lines.map((l) => l.replace(/^\[\s*\S+\] /, ''));
  const scheduled = { attempt: 1, scheduled: true };
  const frameLine = (board: LiveLeaderboard, training: WatchSnapshot['training'], run: number) =>
    renderFrame(snap(board, training), { width: 200, maxRows: 40 }).find((line) => line.includes(`run ${String(run).padStart(3)}`))!;

  test('shown as queued, not as training, until a worker picks its activity up; then its epochs as before', () => {
    const board = liveLeaderboard(sweep, [], [1, 2], plans);
    const queued = trainActivityProgress(undefined, scheduled, 5)!;
    assert.deepEqual(queued, { epochsDone: 0, of: 5, attempt: 1, queued: true });
    const training = trainActivityProgress({ epoch: 1, of: 5, batch: 3 }, { attempt: 1, scheduled: false }, 5);
    assert.deepEqual(training, { epochsDone: 0, of: 5, batch: 3, attempt: 1 });
    assert.equal(trainActivityProgress(undefined, { attempt: 1, scheduled: false }, 5), undefined, 'started, no heartbeat yet: "starting" as before');
    assert.match(frameLine(board, { 2: queued }, 2), /\] queued for a free GPU worker slot · /);
    assert.deepEqual(strip(changeLines(snap(board), snap(board, { 2: queued }))), ['run 2 queued for a free GPU worker slot']);
    assert.deepEqual(changeLines(snap(board, { 2: queued }), { ...snap(board, { 2: queued }), elapsed: 11 }), [], 'said once');
  });

  test('a rung\'s next segment, queued with no heartbeat yet, keeps the epochs known from the last poll; its first heartbeat repeats none', () => {
    const board = liveLeaderboard(sweep, [], [1], plans);
    const waiting: TrialProgress = { epochsDone: 3, of: 5, attempt: 1, waiting: true };
    const queued = trainActivityProgress(undefined, scheduled, 5, waiting)!;
    assert.equal(queued.epochsDone, 3);
    assert.match(frameLine(board, { 1: queued }, 1), /queued for a free GPU worker slot \(3\/5 epochs done\)/);
    const trainingOn = trainActivityProgress({ epoch: 4, of: 5, batch: 1 }, { attempt: 1, scheduled: false }, 5, queued)!;
    assert.deepEqual(strip(changeLines(snap(board, { 1: queued }), snap(board, { 1: trainingOn }))), []);
  });

  test('an attempt that failed and waits out its retry backoff says so, with the failure, not "queued"', () => {
    const board = liveLeaderboard(sweep, [], [1], plans);
    const before = trainActivityProgress({ epoch: 4, of: 5, batch: 7, metrics: { epoch: 3 } }, { attempt: 1, scheduled: false }, 5)!;
    const retrying = trainActivityProgress({ epoch: 4, of: 5, batch: 7, metrics: { epoch: 3 } },
      { attempt: 2, scheduled: true, retryInSeconds: 11.2, lastFailure: 'out of memory\nstack...' }, 5)!;
    assert.equal(retrying.queued, undefined);
    assert.deepEqual(retrying.retry, { inSeconds: 11.2, failure: 'out of memory' });
    assert.equal(retrying.epochsDone, 3, 'the epochs its last attempt reached');
    assert.equal(retrying.batch, undefined);
    assert.match(frameLine(board, { 1: retrying }, 1), /retrying in 12 s after a failure: out of memory.*attempt 2 \(resumed\)/);
    assert.deepEqual(strip(changeLines(snap(board, { 1: before }), snap(board, { 1: retrying }))),
      ['run 1 attempt failed (out of memory); retrying in 12 s'], 'not resuming yet: no worker runs the attempt');
    const requeued = trainActivityProgress(undefined, { attempt: 2, scheduled: true }, 5, retrying)!;
    assert.match(frameLine(board, { 1: requeued }, 1), /queued for a free GPU worker slot \(3\/5 epochs done\).*attempt 2 \(resumed\)/);
    assert.deepEqual(strip(changeLines(snap(board, { 1: retrying }), snap(board, { 1: requeued }))), ['run 1 queued for a free GPU worker slot']);
    const resumed = trainActivityProgress({ epoch: 4, of: 5, batch: 1 }, { attempt: 2, scheduled: false }, 5, requeued)!;
    assert.deepEqual(strip(changeLines(snap(board, { 1: requeued }), snap(board, { 1: resumed }))), ['run 1 attempt 2: resuming from its last checkpoint']);
    assert.deepEqual(changeLines(snap(board, { 1: resumed }), { ...snap(board, { 1: resumed }), elapsed: 11 }), [], 'said once');
  });
});

describe('a sweep that does not answer (its workflow worker gone), or waits on a queue no worker polls', () => {
  const warning = 'warning: no running worker serves this queue ...\n  cpu queue "q": the sweep\nstart workers for it: ...';

  test('plain: the notice once when it starts (the seconds grow), the server\'s stage, epochs still shown, then "answers again"', () => {
    const board = liveLeaderboard(sweep, [], [1], plans);
    const a = snap(board, { 1: { epochsDone: 1, of: 5, attempt: 1 } });
    const b: WatchSnapshot = { ...snap(board, { 1: { epochsDone: 2, of: 5, attempt: 1 } }), unansweredSeconds: 11, serverStage: 'training' };
    const lines = changeLines(a, b);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0], /\] the sweep has not answered for 11 s: no workflow worker is taking its tasks/);
    assert.match(lines[1], /\] run 1 epoch 2\/5 done$/);
    const c: WatchSnapshot = { ...b, unansweredSeconds: 12.5, training: { 1: { epochsDone: 3, of: 5, attempt: 1 } } };
    assert.deepEqual(changeLines(b, c).map((l) => l.replace(/^\[[^\]]*\] /, '')), ['run 1 epoch 3/5 done']);
    const d = snap(board, { 1: { epochsDone: 3, of: 5, attempt: 1 } });
    assert.deepEqual(changeLines(c, d).map((l) => l.replace(/^\[[^\]]*\] /, '')), ['the sweep answers again']);
  });

  test('plain: the server\'s stage before any answer; a stage line only when it changes', () => {
    const first: WatchSnapshot = { sweepId: 's1', status: 'RUNNING', elapsed: 3, training: {}, serverStage: 'extracting features' };
    assert.deepEqual(changeLines(undefined, first).map((l) => l.replace(/^\[[^\]]*\] /, '')), ['sweep s1 RUNNING', 'stage: extracting features']);
    const answered = snap(liveLeaderboard({ ...sweep, stage: 'extracting features' }, [], [], plans));
    assert.deepEqual(changeLines(first, answered), []);
  });

  test('plain: the idle-queue warning when it appears or changes, a line when it clears; none for a closed sweep', () => {
    const board = liveLeaderboard(sweep, [], [], plans);
    const waiting: WatchSnapshot = { ...snap(board), waitingWarning: warning };
    assert.deepEqual(changeLines(snap(board), waiting).map((l) => l.replace(/^\[[^\]]*\] /, '')), warning.split('\n'));
    assert.deepEqual(changeLines(waiting, { ...waiting, elapsed: 20 }), []);
    assert.deepEqual(changeLines(waiting, snap(board)).map((l) => l.replace(/^\[[^\]]*\] /, '')), ['a worker now polls each queue where the sweep waited']);
    assert.deepEqual(changeLines(waiting, { ...snap(board), status: 'TERMINATED' }).map((l) => l.replace(/^\[[^\]]*\] /, '')), ['sweep s1 TERMINATED']);
  });

  test('terminal: the notice and the warning under the title, the server\'s stage in it', () => {
    const frame = renderFrame({ ...snap(liveLeaderboard({ ...sweep, stage: 'extracting features' }, [], [], plans)), unansweredSeconds: 14.9, serverStage: 'training', waitingWarning: warning }, { width: 400, maxRows: 40 });
    assert.match(frame[0], /^sweep s1 · RUNNING · training · 10s$/);
    assert.match(frame[1], /^the sweep has not answered for 14 s/);
    assert.deepEqual(frame.slice(2, 5), warning.split('\n'));
  });
});

describe('a sweep that has not answered since watch started: the trials the server lists', () => {
  const listed = [{ run: 2, params: 'hidden_units=32 lr=0.01' }, { run: 5, params: 'hidden_units=64 lr=0.1' }];
  const first: WatchSnapshot = { sweepId: 's1', status: 'RUNNING', elapsed: 40, training: { 2: { epochsDone: 3, of: 9, batch: 4, attempt: 1 } }, serverStage: 'training', unansweredSeconds: 0, listed };
  const strip = (lines: string[]) => lines.map((l) => l.replace(/^\[[^\]]*\] /, ''));

  test('plain: each listed trial once, then its epochs; no "started" for it once the sweep answers', () => {
    assert.deepEqual(strip(changeLines(undefined, first)).slice(-3), ['run 2 running: hidden_units=32 lr=0.01', 'run 2 epoch 3/9 done', 'run 5 running: hidden_units=64 lr=0.1']);
    const later: WatchSnapshot = { ...first, elapsed: 42, training: { 2: { epochsDone: 4, of: 9, attempt: 1 }, 5: { epochsDone: 1, of: 9, attempt: 2 } } };
    assert.deepEqual(strip(changeLines(first, later)), ['run 2 epoch 4/9 done', 'run 5 epoch 1/9 done', 'run 5 attempt 2: resuming from its last checkpoint']);
    const board = liveLeaderboard(sweep, [], [2, 5], [1, 2, 3, 4, 5].map((run) => plan(run, 16 * run)));
    const answered = snap(board, later.training);
    assert.doesNotMatch(changeLines(later, answered).join('\n'), /started/);
  });

  test('terminal: a bar per listed trial with its parameters, no trials line (the total is unknown)', () => {
    const frame = renderFrame(first, { width: 400, maxRows: 40 });
    assert.match(frame[0], /^sweep s1 · RUNNING · training · 40s$/);
    assert.doesNotMatch(frame.join('\n'), /^trials /m);
    assert.match(frame.find((l) => l.includes('run   2'))!, /\[#{7}\.{13}\] epoch 4\/9 batch 4 · hidden_units=32 lr=0\.01$/);
    assert.match(frame.find((l) => l.includes('run   5'))!, /starting · hidden_units=64 lr=0\.1$/);
  });

  test('the summary a trial starts with gives its parameters back', () => {
    const metadata = trialStartMetadata(plan(3, 48), parseSweepSpec({ name: 'demo', data: { source: '/data/flowers' }, backbone: { uri: '/b/demo-cnn/model.json' }, grid: { hidden_units: [16, 48] } }), 's1');
    assert.equal(trialSummaryParams(metadata.staticSummary), 'hidden_units=48 lr=0.01');
  });
});

describe('closedSweepTrials (the end of `sweep watch` for a sweep without a leaderboard)', () => {
  test('the trials it knows of, ranked then not completed; "no trial finished" only when it knows there is none', () => {
    const board = liveLeaderboard(sweep, [done(1, 0.6), done(2, 0.8)], [], plans);
    assert.deepEqual(closedSweepTrials('s1', board).split('\n').slice(1).map((line) => line.trim().split(/\s+/)[1]), ['2', '1']);
    assert.equal(closedSweepTrials('s1', liveLeaderboard(sweep, [], [], plans)), 'no trial finished');
  });

  test('no leaderboard (the query unanswered): says so and how to see the trials, not "no trial finished"', () => {
    const text = closedSweepTrials('s1', undefined);
    assert.doesNotMatch(text, /no trial finished/);
    assert.match(text, /could not be read: the sweep answered no leaderboard query \(no worker is running, or it failed before planning any trial\).*npm run workers.*`sweep watch s1`/);
  });
});

describe('renderFrame (terminal)', () => {
  test('bars for the sweep and each running trial, then the leaderboard, every line within the width', () => {
    const board = liveLeaderboard(sweep, [done(1, 0.6), done(2, 0.8)], [3, 4], plans);
    const frame = renderFrame(snap(board, { 3: { epochsDone: 2, of: 5, batch: 4, attempt: 1 } }), { width: 120, maxRows: 40 });
    assert.match(frame[0], /^sweep s1 · RUNNING · training · 10s$/);
    assert.match(frame[1], /^trials +\[#{15}\.{15}\] 2\/4 done · 2 running · 0 failed · best val acc 80\.0% \(run 2\)$/);
    assert.match(frame[2], /run +3 \[#{8}\.{12}\] epoch 3\/5 batch 4 · hidden_units=48$/, 'only the hyperparameters that vary (lr is 0.01 throughout)');
    assert.match(frame[3], /run +4 \[\.{20}\] starting/);
    const evaluating = renderFrame(snap(board, { 4: { epochsDone: 5, of: 5, attempt: 1, evaluating: true } }), { width: 120, maxRows: 40 });
    assert.match(evaluating[3], /run +4 \[#{20}\] evaluating on the test split/);
    const table = frame.slice(frame.indexOf('leaderboard so far') + 1);
    assert.match(table[0], /^rank +run +hidden_units +epochs +train_loss/);
    assert.match(table[1], /^ +1 +2 /, 'run 2 (80%) ranks first');
    assert.ok(frame.every((line) => line.length <= 120));
    const withMetrics = renderFrame(snap(board, { 3: { epochsDone: 4, of: 5, attempt: 1, metrics: { epoch: 2, trainLoss: 1, trainAccuracy: 0.5, valLoss: 0.75, valAccuracy: 0.625, epochDuration: 1, runDuration: 2 } } }), { width: 120, maxRows: 40 });
    assert.match(withMetrics[2], /epoch 5\/5 · epoch 2 val acc 62\.5% loss 0\.7500 ·/, 'metrics say which epoch they are from');
    assert.ok(!renderFrame(snap(board), { width: 120, maxRows: 40, leaderboard: false }).includes('leaderboard so far'));
    const narrow = renderFrame(snap(board), { width: 30, maxRows: 40 });
    assert.ok(narrow.every((line) => line.length <= 30), 'long lines are cut, so an in-place redraw never wraps');
  });

  test('a long leaderboard is cut to the rows available', () => {
    const many = Array.from({ length: 30 }, (_, i) => done(i + 1, i / 100));
    const frame = renderFrame(snap(liveLeaderboard({ ...sweep, trialsTotal: 30 }, many, [], plans)), { width: 120, maxRows: 15 });
    assert.equal(frame.length, 15);
    assert.match(frame[frame.length - 1], /more \(sweep status s1\)/);
  });

  test('more running trials than rows (25 on a 24-row terminal): the first ones, then how many more, within maxRows', () => {
    const trials = Array.from({ length: 30 }, (_, i) => plan(i + 1, 16 * (i + 1)));
    const running = trials.slice(0, 25).map((t) => t.run);
    const onlyRunning = renderFrame(snap(liveLeaderboard({ ...sweep, trialsTotal: 30 }, [], running, trials)), { width: 120, maxRows: 23 });
    assert.equal(onlyRunning.length, 23);
    assert.match(onlyRunning[21], /^ {2}run +20 /);
    assert.equal(onlyRunning[22], '  … 5 more running');
    const finished = [26, 27, 28, 29, 30].map((run) => done(run, run / 100));
    const frame = renderFrame(snap(liveLeaderboard({ ...sweep, trialsTotal: 30 }, finished, running, trials)), { width: 120, maxRows: 23 });
    assert.equal(frame.length, 23, 'the leaderboard keeps its header, a row and the "more" line');
    assert.equal(frame[17], '  … 10 more running');
    assert.deepEqual(frame.slice(18, 20), ['', 'leaderboard so far']);
    assert.match(frame[21], /^ +1 +30 /);
    assert.equal(frame[22], '  … 4 more (sweep status s1)');
  });
  test('a later run of a long sweep (continue-as-new) counts the trials earlier runs no longer list', () => {
    const board = liveLeaderboard({ ...sweep, trialsTotal: 300 }, [done(1, 0.6), done(2, 0.8)], [3], plans, undefined, { ranked: 150, failed: 4, cancelled: 1 });
    const frame = renderFrame(snap(board), { width: 120, maxRows: 40 });
    assert.match(frame[1], /\] 152\/300 done · 1 running · 4 failed · 1 cancelled · best val acc 80\.0% \(run 2\)$/);
    const details = sweepCurrentDetails(board, { hidden_units: [16, 32] });
    assert.match(details, /^\*\*training\*\* · 152 of 300 trials done · 1 running · 5 not completed/);
  });
});

describe('Web UI texts', () => {
  const spec = parseSweepSpec({
    name: 'demo', data: { source: '/data/flowers' }, backbone: { uri: '/b/demo-cnn/model.json' },
    grid: { hidden_units: [16, 32], lr: [0.01, 0.001] },
  });

  test('the sweep summary names the grid size, the keys and the backbone', () => {
    const { staticSummary, staticDetails } = sweepStartMetadata(spec);
    assert.equal(staticSummary, 'sweep demo: 4 trials over hidden_units, lr on demo-cnn');
    assert.ok(!staticSummary.includes('\n'), 'a summary is one line');
    assert.match(staticDetails, /- hidden_units: 16, 32\n- lr: 0.01, 0.001/);
  });

  test('a trial summary names its run and parameters', () => {
    assert.equal(trialStartMetadata(plans[1], spec, 's1').staticSummary, 'run 2 of 4: hidden_units=32 lr=0.01');
  });

  test('a trial\'s details say when it is checkpointed (the spec\'s checkpointEverySeconds) and that early stopping may end it', () => {
    assert.match(trialStartMetadata(plans[1], spec, 's1').staticDetails,
      /\n\nTrains 5 epochs, checkpointed at the end of an epoch once 10 s have passed since the last one, and at the last epoch, then scores the test split\. /);
    assert.match(trialStartMetadata(plans[1], { ...spec, checkpointEverySeconds: 0 }, 's1').staticDetails, /Trains 5 epochs, checkpointed after every epoch, then/);
    const asha = parseSweepSpec({
      data: { source: '/data/flowers' }, backbone: { uri: '/b/demo-cnn/model.json' },
      search: { method: 'random', budget: 4, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-2 } }, earlyStopping: { rule: 'asha', maxEpochs: 9 } },
    });
    assert.match(trialStartMetadata(plans[1], asha, 's1').staticDetails,
      /Trains up to 5 epochs \(early stopping, ASHA, may stop it at a decision epoch\), checkpointed .*, and at every decision epoch and the last epoch, then/);
  });

  test('current details: counts, best, running runs and a markdown leaderboard', () => {
    const failed: TrialSummary = { trialId: 't3', run: 3, params: {}, status: 'failed', error: 'out of memory', epochsDone: 0 };
    const text = sweepCurrentDetails(liveLeaderboard(sweep, [done(1, 0.6), done(2, 0.8, 0.5), failed], [4], plans), { hidden_units: [16, 32, 48, 64], lr: [0.01] });
    assert.match(text, /^\*\*training\*\* · 2 of 4 trials done · 1 running · 1 not completed · best val accuracy 80\.0% \(run 2\)/);
    assert.match(text, /Training: run 4/);
    assert.ok(text.includes([
      '```',
      'rank  run  hidden_units  val_acc  val_loss  test_acc',
      '   1    2            32    80.0%    0.5000         -',
      '   2    1            16    60.0%    1.0000         -',
      '```'].join('\n')), `a column per varied hyperparameter (lr is fixed):\n${text}`);
    assert.match(text, /run 3 failed: out of memory/);
    const withData = sweepCurrentDetails(liveLeaderboard(sweep, [done(1, 0.6)], [], plans), { hidden_units: [16, 32] }, { counts: { a: 5, b: 7 }, skipped: 1, skippedByReason: { duplicate: 1 } });
    assert.match(withData, /\n\n\*\*Data\*\* 12 images in 2 classes \(a 5, b 7\); skipped 1: duplicate 1/);
  });
});

describe('search results in the views', () => {
  const stopped: TrialSummary = {
    ...done(3, 0.7), status: 'stopped', epochsDone: 1, bestEpoch: 1,
    stopped: { epoch: 1, rule: 'asha', reason: 'stopped at epoch 1 by ASHA rung 0 (value 0.7, cutoff 0.8): rank 2 of 2 reported at this rung, the top 1 continue' },
  };
  const objective = { metric: 'valLoss', direction: 'minimize' } as const;

  test('a stopped trial is ranked (by the objective), not "not completed", and says where and why', () => {
    const board = liveLeaderboard(sweep, [done(1, 0.6, 0.9), { ...done(2, 0.8, 0.5), bestEpoch: 4 }, stopped], [], plans, objective);
    assert.deepEqual(board.ranked.map((t) => t.run), [2, 1, 3], 'lower validation loss first');
    assert.deepEqual(board.notCompleted, []);
    const details = sweepCurrentDetails(board, { hidden_units: [16, 32, 48] });
    assert.match(details, /best val accuracy 80\.0% at epoch 4 \(run 2, ranked by validation loss \(lower is better\)\)/);
    assert.match(details, /^run 3 stopped at epoch 1 by ASHA rung 0 .*the top 1 continue$/m);
    assert.match(formatTrialTable(board.ranked), /best_epoch[\s\S]*stopped@1 \(asha\)/);
    const said = changeLines(undefined, { sweepId: 's1', status: 'RUNNING', elapsed: 0, board, training: {} }).join('\n');
    assert.match(said, /run 3 stopped at epoch 1 \(asha\): val acc 70\.0%/);
    // Ranked by val loss, the line says so: the best by it need not have the highest val accuracy.
    assert.match(said, /best val acc 80\.0% \(run 2, ranked by validation loss \(lower is better\)\)$/m);
    const byAccuracy = liveLeaderboard(sweep, [done(1, 0.6, 0.9), done(2, 0.8, 0.5)], [], plans, { metric: 'valAccuracy', direction: 'maximize' });
    assert.match(changeLines(undefined, { sweepId: 's1', status: 'RUNNING', elapsed: 0, board: byAccuracy, training: {} }).join('\n'), /best val acc 80\.0% \(run 2\)$/m);
    assert.match(sweepCurrentDetails(byAccuracy, { hidden_units: [16, 32, 48] }), /best val accuracy 80\.0% \(run 2\)$/m, 'the Web UI\'s details as the CLI: val accuracy is what the line shows, so nothing is added');
  });

  test('the details list the first STOP_REASONS_SHOWN stop reasons, as status does, and say where the rest are', () => {
    const many = Array.from({ length: STOP_REASONS_SHOWN + 5 }, (_, i) => ({ ...stopped, ...done(i + 1, 0.5 + i / 100), status: 'stopped' as const, stopped: { ...stopped.stopped!, reason: `reason ${i + 1}` } }));
    const board = liveLeaderboard({ ...sweep, trialsTotal: many.length }, many, [], [], objective);
    const reasons = (details: string) => details.split('\n').filter((line) => /^run \d+ reason \d+$|^and \d+ more stopped early/.test(line));
    const listed = reasons(sweepCurrentDetails(board, { hidden_units: [16] }));
    assert.equal(listed.length, STOP_REASONS_SHOWN + 1);
    assert.equal(listed.at(-1), 'and 5 more stopped early: the `leaderboard` query has every reason');
    // A long sweep's later run lists only its own trials: those earlier runs stopped are counted too.
    const later = reasons(sweepCurrentDetails({ ...board, unlisted: { ranked: 40, failed: 0, cancelled: 0, stopped: 30 } }, { hidden_units: [16] }));
    assert.equal(later.at(-1), 'and 35 more stopped early: leaderboard.json has every reason when the sweep ends');
  });

  test('the start details of a search describe its method, objective, early stopping and space', () => {
    const spec = parseSweepSpec({
      data: { source: './x', classes: ['a', 'b'] }, backbone: { uri: 'file:///m/model.json' },
      search: { method: 'random', budget: 8, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-2 }, hidden_units: { type: 'int', low: 16, high: 64, step: 16 } }, earlyStopping: { rule: 'asha', maxEpochs: 9 }, keepBestEpoch: true },
    });
    const { staticSummary, staticDetails } = sweepStartMetadata(spec);
    assert.match(staticSummary, /: 8 trials over lr, hidden_units on /);
    assert.match(staticDetails, /\*\*Search\*\* random, 8 trials, 2 at a time · objective valAccuracy \(maximize\) · keeps each trial's best epoch · early stopping ASHA \(grace 1, reduction 3, max 9 epochs\)/);
    assert.match(staticDetails, /- lr: loguniform in \[0\.0001, 0\.01\)\n- hidden_units: 16 to 64 in steps of 16/);
  });
});
