// lib/search/stopping-history.ts: the median rule's history estimate against what was measured, and the
// refusal of sweeps that would outgrow Temporal's limits, with the smallest intervalEpochs that fits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionEpochs } from '../../lib/search/early-stopping';
import { DEFAULT_OBJECTIVE } from '../../lib/search/objective';
import { StopLedger } from '../../lib/search/stop-ledger';
import { randomStream } from '../../lib/random';
import { contentId } from '../../lib/content-id';
import { STOPPING_HISTORY_BUDGET, medianRuleHistory, medianRuleHistoryProblem } from '../../lib/search/stopping-history';

const RULE = { minEpochs: 1, minTrials: 5 };

describe('medianRuleHistory', () => {
  test('covers what test/workflows/history-size.ts measured (8 trials of 100 epochs, deciding every epoch and every 3), by at most 10% more', () => {
    const measured = [
      { interval: 1, trialEvents: 1705, trialBytes: 1_024_270, runEvents: 5119, runBytes: 1_187_228 },
      { interval: 3, trialEvents: 573, trialBytes: 349_184, runEvents: 1666, runBytes: 417_762 },
    ];
    for (const { interval, ...sizes } of measured) {
      const estimate = medianRuleHistory({ ...RULE, intervalEpochs: interval }, 100, 8);
      for (const [key, value] of Object.entries(sizes) as Array<[keyof typeof sizes, number]>) {
        assert.ok(estimate[key] >= value && estimate[key] <= value * 1.1, `every ${interval}: ${key} ${estimate[key]} for ${value} measured`);
      }
      assert.equal(estimate.carryBytes, 0, 'one run: nothing carried');
    }
  });

  test('counts the decision epochs the trials wait at (decisionEpochs), in closed form', () => {
    for (const minEpochs of [1, 2, 7]) {
      for (const intervalEpochs of [1, 2, 5]) {
        for (const epochs of [1, 2, 8, 9, 30]) {
          const rule = { minEpochs, minTrials: 5, intervalEpochs };
          const waits = decisionEpochs({ rule: 'median', ...rule }, epochs);
          const sum = waits.reduce((a, e) => a + e, 0);
          // A trial's history: 18 events per decision beyond its 20; its bytes count the epochs its results list.
          assert.equal(medianRuleHistory(rule, epochs, 1).trialEvents, 20 + 18 * waits.length, `${minEpochs}/${intervalEpochs}/${epochs}`);
          assert.equal(medianRuleHistory(rule, epochs, 1).trialBytes, 170 * (sum + epochs) + 1700 * (waits.length + 1));
          assert.equal(medianRuleHistory(rule, epochs, 200).carryBytes, Math.min(19 * 200 * (waits.at(-1) ?? 0), 200 * (60 + 19 * waits.length)));
        }
      }
    }
  });

  test('the carry: the JSON a ledger of that many ended trials hands the next run, within its ids (60 bytes a trial) and 10% more', () => {
    const random = randomStream('carry-size', 'values');
    // The last: few decisions, so the ids weigh as much as the values (left out, such a sweep passed the
    // estimate with a carry over Temporal's 2 MB).
    for (const [epochs, intervalEpochs, budget] of [[100, 2, 500], [100, 10, 1000], [30, 1, 300], [30, 10, 27_000]]) {
      const rule = { minEpochs: 1, minTrials: 5, intervalEpochs };
      const ledger = new StopLedger({ rule: 'median', ...rule }, DEFAULT_OBJECTIVE);
      for (let run = 1; run <= budget; run++) {
        // Worst case, no trial stopped: each reported its last decision epoch.
        const last = decisionEpochs({ rule: 'median', ...rule }, epochs).at(-1)!;
        ledger.report({ run, trialId: contentId(['trial', run]), epoch: last, values: Array.from({ length: last }, () => random()) });
        ledger.end(run);
      }
      const carried = JSON.stringify(ledger.state(budget + 1, true)).length;
      const estimate = medianRuleHistory(rule, epochs, budget).carryBytes;
      assert.ok(carried <= estimate * 1.1 + 60 * budget && carried >= estimate * 0.8, `${budget} x ${epochs} every ${intervalEpochs}: ${carried} bytes carried, ${estimate} estimated`);
    }
  });

  test('a bayesian sweep\'s runs hold whole batches: at concurrency 64, 128 trials a run', () => {
    assert.equal(medianRuleHistory(RULE, 61, 1000, 64).runEvents, 128 / 100 * medianRuleHistory(RULE, 61, 1000).runEvents);
    assert.match(medianRuleHistoryProblem(RULE, 61, 1000, 64)!, /each run of the sweep's workflow history \(it continues as new every 128 trials\)/);
    assert.equal(medianRuleHistoryProblem(RULE, 61, 1000), undefined, 'at 100 trials a run it fits');
  });

  test('deciding every k epochs divides the decisions, and what they report, by about k', () => {
    const every = medianRuleHistory(RULE, 100, 100);
    const third = medianRuleHistory({ ...RULE, intervalEpochs: 3 }, 100, 100);
    assert.ok(third.runEvents < every.runEvents / 2.5 && third.trialBytes < every.trialBytes / 2.5);
  });
});

describe('medianRuleHistoryProblem', () => {
  test('sweeps like the demo\'s and the benchmark\'s fit', () => {
    assert.equal(medianRuleHistoryProblem(RULE, 20, 24), undefined);
    assert.equal(medianRuleHistoryProblem(RULE, 27, 1000), undefined);
  });

  test('too many decisions for one run of the sweep: the smallest intervalEpochs that fits, which does', () => {
    const problem = medianRuleHistoryProblem(RULE, 100, 100)!;
    assert.match(problem, /about 65,350 events in the sweep's workflow history, more than the 40,000 events allowed there, if no trial stopped early .*set search\.earlyStopping\.intervalEpochs to 2 \(/);
    assert.equal(medianRuleHistoryProblem({ ...RULE, intervalEpochs: 2 }, 100, 100), undefined);
  });

  test('long trials: a trial\'s own history is named too; an interval already set is raised from', () => {
    const problem = medianRuleHistoryProblem({ ...RULE, intervalEpochs: 4 }, 1000, 20)!;
    assert.match(problem, /deciding every 4 epochs from epoch 1 of trials up to 1000 epochs long, over 20 trials, would put about .* MB in a trial's workflow history/);
    const fits = Number(/intervalEpochs to (\d+) \(/.exec(problem)![1]);
    assert.ok(fits > 4);
    assert.equal(medianRuleHistoryProblem({ ...RULE, intervalEpochs: fits }, 1000, 20), undefined);
    assert.ok(medianRuleHistoryProblem({ ...RULE, intervalEpochs: fits - 1 }, 1000, 20));
  });

  test('past the carry that no interval fixes: fewer trials or epochs, or ASHA', () => {
    const carry = medianRuleHistory(RULE, 10, 30_000).carryBytes;
    assert.ok(carry > STOPPING_HISTORY_BUDGET.carryBytes);
    assert.match(medianRuleHistoryProblem(RULE, 10, 30_000)!, /the early-stopping values one run of the sweep hands the next .*: lower the budget or the epochs, or use ASHA/);
  });

  test('many short trials: the carried ids count (27,000 trials of 30 epochs deciding every 10 carry about 2.7 MB)', () => {
    assert.match(medianRuleHistoryProblem({ ...RULE, intervalEpochs: 10 }, 30, 27_000)!, /in the early-stopping values one run of the sweep hands the next/);
  });

  test('1,000 trials of 100 epochs: deciding every 2 epochs fits, since the carry holds the values at decision epochs only (every 20 before)', () => {
    assert.match(medianRuleHistoryProblem(RULE, 100, 1000)!, /set search\.earlyStopping\.intervalEpochs to 2 \(/);
    assert.equal(medianRuleHistoryProblem({ ...RULE, intervalEpochs: 2 }, 100, 1000), undefined);
  });
});
