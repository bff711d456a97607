// views/stop-reasons.ts: which stop reasons a view lists and how it counts the rest.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TrialSummary } from '../../lib/sweep-types';
import { STOP_REASONS_SHOWN, stopReasonLines } from '../../views/stop-reasons';

const trial = (run: number, stopped: boolean): Pick<TrialSummary, 'run' | 'stopped'> =>
  ({ run, ...(stopped ? { stopped: { epoch: 1, rule: 'asha', reason: `reason of run ${run}` } } : {}) });

describe('stopReasonLines', () => {
  test('a few: every stopped trial\'s reason in the order given, the others left out', () => {
    assert.deepEqual(stopReasonLines([trial(4, true), trial(2, false), trial(1, true)], 'elsewhere'), ['run 4 reason of run 4', 'run 1 reason of run 1']);
    assert.deepEqual(stopReasonLines([trial(2, false)], 'elsewhere'), []);
  });

  test('up to STOP_REASONS_SHOWN listed, the rest counted with where they are', () => {
    const trials = (n: number) => Array.from({ length: n }, (_, i) => trial(i + 1, true));
    assert.equal(stopReasonLines(trials(STOP_REASONS_SHOWN), 'elsewhere').length, STOP_REASONS_SHOWN, 'exactly the cap: no count line');
    const many = stopReasonLines(trials(STOP_REASONS_SHOWN + 25), 'elsewhere');
    assert.equal(many.length, STOP_REASONS_SHOWN + 1);
    assert.equal(many[0], 'run 1 reason of run 1', 'the first given first');
    assert.equal(many.at(-1), 'and 25 more stopped early: elsewhere');
  });

  test('stopped trials the caller knows of but does not list are counted too, even under the cap', () => {
    assert.deepEqual(stopReasonLines([trial(1, true)], 'in leaderboard.json', 3), ['run 1 reason of run 1', 'and 3 more stopped early: in leaderboard.json']);
    assert.deepEqual(stopReasonLines([trial(1, true)], 'in leaderboard.json', 0), ['run 1 reason of run 1']);
  });
});
