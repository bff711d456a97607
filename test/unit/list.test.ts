// cli/list.ts: the table of recent sweeps, and what a sweep's memo says it is ranked by.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SweepListEntry, formatSweepList, objectiveOfMemo } from '../../cli/list';

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
