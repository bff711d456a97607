// cli/list.ts: the table of recent sweeps, and what a sweep's memo says it is ranked by.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SweepListEntry, formatSweepList, objectiveOfMemo, startedWithFirstRun } from '../../cli/list';

const entry = (sweepId: string, objective?: SweepListEntry['objective']): SweepListEntry => ({
  sweepId, status: 'COMPLETED', stage: 'done', trialsDone: 2, trialsRunning: 0, trialsFailed: 0, bestValAccuracy: 0.5, startTime: '2026-12-07T10:00:00.000Z',
  ...(objective ? { objective } : {}),
});

describe('sweep list', () => {
  test('sweeps ranked by val accuracy, or started before the memo: no ranked_by column, as before', () => {
    const text = formatSweepList([entry('grid', { metric: 'valAccuracy', direction: 'maximize' }), entry('older')]);
    assert.doesNotMatch(text, /ranked_by/);
    assert.match(text, /^ *grid +COMPLETED +done +2 +0 +0 +50\.0% +2026-12-07 10:00:00$/m);
  });

  test('a sweep ranked by something else adds the column: its best_val_acc is that trial\'s, not the highest', () => {
    const text = formatSweepList([entry('by-loss', { metric: 'valLoss', direction: 'minimize' }), entry('grid', { metric: 'valAccuracy', direction: 'maximize' }), entry('older')]);
    assert.match(text, /^ *sweep +status +stage +done +running +failed +best_val_acc +ranked_by +started \(UTC\)$/m);
    assert.match(text, /^ *by-loss +COMPLETED +done +2 +0 +0 +50\.0% +valLoss minimize +2026-12-07 10:00:00$/m);
    assert.match(text, /^ *grid( +\S+){6} +valAccuracy maximize +2026/m);
    assert.match(text, /^ *older( +\S+){6} +- +2026/m, 'unknown for a sweep whose memo does not say');
  });

  test('the memo\'s objective is read only when valid', () => {
    assert.deepEqual(objectiveOfMemo({ objective: { metric: 'valLoss', direction: 'minimize' } }), { objective: { metric: 'valLoss', direction: 'minimize' } });
    assert.deepEqual(objectiveOfMemo(undefined), {});
    assert.deepEqual(objectiveOfMemo({ other: 1 }), {});
    assert.deepEqual(objectiveOfMemo({ objective: { metric: 'val loss', direction: 'up' } }), {});
    assert.deepEqual(objectiveOfMemo({ objective: 'valLoss' }), {});
  });
});

describe('a sweep that continued as new is listed by its current run, started when its first run was', () => {
  const now = '2026-12-07T11:04:06.612Z';
  const entries = [entry('chunked'), entry('single')].map((e) => ({ ...e, startTime: now }));
  // chunked's three runs; run 2 continued as new as run 3 started, run 1 as run 2 started.
  const runs = [
    { sweepId: 'chunked', startTime: '2026-12-07T11:04:04.824Z', closeTime: now },
    { sweepId: 'chunked', startTime: '2026-12-07T11:03:40.916Z', closeTime: '2026-12-07T11:04:04.824Z' },
  ];

  test('the chain followed back to its first run; other sweeps as they are', () => {
    assert.deepEqual(startedWithFirstRun(entries, runs).map((e) => [e.sweepId, e.startTime]), [['chunked', '2026-12-07T11:03:40.916Z'], ['single', now]]);
    assert.deepEqual(startedWithFirstRun(entries, []), entries);
  });

  test('an id used again: the runs of the sweep that had it before are not this one\'s', () => {
    const older = [{ sweepId: 'single', startTime: '2026-12-06T09:00:00.000Z', closeTime: '2026-12-06T09:30:00.000Z' }];
    assert.deepEqual(startedWithFirstRun(entries, [...runs, ...older]).map((e) => e.startTime), ['2026-12-07T11:03:40.916Z', now]);
  });

  test('a run recorded as closing when it started ends the walk', () => {
    assert.deepEqual(startedWithFirstRun(entries, [{ sweepId: 'single', startTime: now, closeTime: now }]).map((e) => e.startTime), [now, now]);
  });
});
