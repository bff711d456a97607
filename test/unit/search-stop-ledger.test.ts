// lib/search/stop-ledger.ts: a decision waits for every earlier trial (in plan order) to reach the
// epoch, be stopped before it or end; it considers exactly those trials; arrival order does not matter.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EarlyStopping, decisionEpochs } from '../../lib/search/early-stopping';
import { DEFAULT_OBJECTIVE } from '../../lib/search/objective';
import { EpochReport, StopLedger } from '../../lib/search/stop-ledger';
import { randomStream } from '../../lib/random';

const ASHA: EarlyStopping = { rule: 'asha', gracePeriod: 1, reductionFactor: 2, maxEpochs: 4 };
const report = (run: number, values: number[]): EpochReport => ({ run, trialId: `t${run}`, epoch: values.length, values });
const decided = (ledger: StopLedger) => ledger.ready().map(({ run, decision }) => `${run}@${decision.epoch}:${decision.stop ? 'stop' : 'go'}`);

describe('StopLedger', () => {
  test('a later trial waits for the earlier ones; then it is judged among them only', () => {
    const ledger = new StopLedger(ASHA, DEFAULT_OBJECTIVE);
    ledger.report(report(2, [0.4]));
    assert.deepEqual(decided(ledger), [], 'run 1 has not reported epoch 1');
    assert.deepEqual([...ledger.waiting()], [[2, 1]], 'run 2 waits at epoch 1 (sweep watch shows it)');
    ledger.report(report(1, [0.9]));
    // Run 1 alone continues; run 2 ranks 2 of 2, the top 1 goes on.
    assert.deepEqual(decided(ledger), ['1@1:go', '2@1:stop']);
    assert.equal(ledger.waiting().size, 0);
    ledger.report(report(3, [0.95]));
    assert.deepEqual(decided(ledger), ['3@1:go'], 'a stopped trial settles later rungs; run 3 beats both');
    ledger.report(report(3, [0.95, 0.5]));
    assert.deepEqual(decided(ledger), [], 'run 1 is still training to epoch 2');
    ledger.end(1);
    assert.deepEqual(decided(ledger), ['3@2:go'], 'an ended trial settles every epoch');
  });

  test('a repeated report is decided once; a NaN (null) value ranks last', () => {
    const ledger = new StopLedger(ASHA, DEFAULT_OBJECTIVE);
    ledger.report({ run: 1, trialId: 't1', epoch: 1, values: [null] });
    ledger.report({ run: 1, trialId: 't1', epoch: 1, values: [null] });
    assert.deepEqual(decided(ledger), ['1@1:go']);
    ledger.report(report(2, [0.1]));
    const [{ decision }] = ledger.ready();
    assert.equal(decision.stop, false, 'any number beats NaN');
  });

  test('the same decisions whatever the timing: trials report in any interleaving, each waiting for its decision', () => {
    const values = (run: number) => [0.5 + ((run * 37) % 11) / 100, 0.5 + ((run * 53) % 13) / 100];
    const runs = [1, 2, 3, 4, 5, 6];
    /** Each step one trial that is not waiting for a decision (picked by `pick`) sends its next report. */
    const outcome = (pick: (ready: number[]) => number) => {
      const ledger = new StopLedger(ASHA, DEFAULT_OBJECTIVE);
      const next = new Map(runs.map((run) => [run, 1]));
      const waiting = new Set<number>();
      const made: string[] = [];
      for (;;) {
        const ready = runs.filter((run) => !waiting.has(run) && next.get(run)! <= 2);
        if (!ready.length) break;
        const run = pick(ready);
        ledger.report(report(run, values(run).slice(0, next.get(run)!)));
        waiting.add(run);
        for (const { run: decided, decision } of ledger.ready()) {
          waiting.delete(decided);
          // A stopped trial reports nothing more (and ends); one past its last rung trains to the end.
          next.set(decided, decision.stop ? 3 : next.get(decided)! + 1);
          if (decision.stop || next.get(decided)! > 2) ledger.end(decided);
          made.push(`${decided}@${decision.epoch}:${decision.stop ? 'stop' : 'go'}`);
        }
      }
      assert.equal(waiting.size, 0, 'no trial waits for ever');
      return made.sort();
    };
    const expected = outcome((ready) => ready[0]);
    for (let seed = 0; seed < 50; seed++) {
      const random = randomStream('ledger-timing', seed);
      assert.deepEqual(outcome((ready) => ready[Math.floor(random() * ready.length)]), expected, `seed ${seed}`);
    }
    assert.ok(expected.some((d) => d.endsWith('stop')) && expected.some((d) => d.endsWith('go')));
  });
  test('carried between runs (continue-as-new), it decides later trials as the ledger that saw them all', () => {
    const values = (run: number) => [0.5 + ((run * 37) % 11) / 100, 0.5 + ((run * 53) % 13) / 100, NaN];
    /** Trials one after another, each reporting until stopped; from `carryAt` on, a ledger rebuilt from the carried state. */
    const outcome = (carryAt?: number) => {
      let ledger = new StopLedger(ASHA, DEFAULT_OBJECTIVE);
      const made: string[] = [];
      for (let run = 1; run <= 8; run++) {
        if (run === carryAt) ledger = new StopLedger(ASHA, DEFAULT_OBJECTIVE, JSON.parse(JSON.stringify(ledger.state(run))));
        for (let epoch = 1; epoch <= 3; epoch++) {
          ledger.report({ run, trialId: `t${run}`, epoch, values: values(run).slice(0, epoch).map((v) => (Number.isNaN(v) ? null : v)) });
          const [{ decision }] = ledger.ready();
          made.push(`${run}@${epoch}:${decision.stop ? 'stop' : 'go'}`);
          if (decision.stop) break;
        }
        ledger.end(run);
      }
      return made;
    };
    const expected = outcome();
    assert.ok(expected.some((d) => d.endsWith('stop')) && expected.some((d) => d.includes('@2:go')));
    for (const carryAt of [2, 4, 7]) assert.deepEqual(outcome(carryAt), expected, `carried at run ${carryAt}`);
    assert.deepEqual(new StopLedger(ASHA, DEFAULT_OBJECTIVE).state(1), { endedBefore: 1, histories: [] });
  });

  test('carried with the values at decision epochs only (sweep-ledger-at-decisions), it decides as the ledger that saw every epoch', () => {
    const rules: EarlyStopping[] = [
      { rule: 'median', minEpochs: 2, minTrials: 2, intervalEpochs: 3 },
      { rule: 'median', minEpochs: 1, minTrials: 3 },
      { rule: 'asha', gracePeriod: 1, reductionFactor: 2, maxEpochs: 12 },
    ];
    for (const rule of rules) {
      const random = randomStream('ledger-at-decisions', rule.rule);
      // 14 trials of 3 to 12 epochs, values with NaN now and then (a diverged epoch).
      const trials = Array.from({ length: 14 }, (_, i) => ({
        run: i + 1,
        values: Array.from({ length: 3 + Math.floor(random() * 10) }, () => (random() < 0.05 ? NaN : random())),
      }));
      /** Trials one after another, reporting at their decision epochs until stopped; the ledger carried every `carryEvery` runs, `atDecisions` or whole. */
      const outcome = (carryEvery?: number, atDecisions = false) => {
        let ledger = new StopLedger(rule, DEFAULT_OBJECTIVE);
        const made: string[] = [];
        const carried: number[] = [];
        for (const { run, values } of trials) {
          if (carryEvery && run > 1 && (run - 1) % carryEvery === 0) {
            const state = JSON.stringify(ledger.state(run, atDecisions));
            carried.push(state.length);
            ledger = new StopLedger(rule, DEFAULT_OBJECTIVE, JSON.parse(state));
          }
          for (const epoch of decisionEpochs(rule, values.length)) {
            ledger.report({ run, trialId: `t${run}`, epoch, values: values.slice(0, epoch).map((v) => (Number.isNaN(v) ? null : v)) });
            const [{ decision }] = ledger.ready();
            made.push(`${run}@${epoch}:${decision.stop ? 'stop' : 'go'}`);
            if (decision.stop) break;
          }
          ledger.end(run);
        }
        return { made, carried };
      };
      const expected = outcome().made;
      assert.ok(expected.some((d) => d.endsWith('stop')) && expected.some((d) => d.endsWith('go')), `${rule.rule}: both outcomes occur`);
      for (const carryEvery of [1, 3, 5]) {
        const whole = outcome(carryEvery);
        const atDecisions = outcome(carryEvery, true);
        assert.deepEqual(whole.made, expected, `${rule.rule}, carried whole every ${carryEvery}`);
        assert.deepEqual(atDecisions.made, expected, `${rule.rule}, carried at decision epochs every ${carryEvery}`);
        if (rule.rule === 'median' && rule.intervalEpochs === 3) {
          assert.ok(atDecisions.carried.at(-1)! < whole.carried.at(-1)! * 0.6, `a third of the values: ${atDecisions.carried.at(-1)} bytes against ${whole.carried.at(-1)}`);
        }
      }
    }
  });

  test('a trial with the id of a carried one (a repeat trained again) is judged by its own values, not the carried ones with gaps', () => {
    const rule: EarlyStopping = { rule: 'median', minEpochs: 1, minTrials: 1, intervalEpochs: 2 };
    // Carried at epochs 1, 3 and 5: t1's best epoch, 2, is not among them.
    const ledger = new StopLedger(rule, DEFAULT_OBJECTIVE, { endedBefore: 3, histories: [], atDecisions: [[1, 't1', 5, [0.1, 0.1, 0.1]], [2, 't2', 5, [0.5, 0.5, 0.5]]] });
    ledger.report({ run: 3, trialId: 't1', epoch: 3, values: [0.1, 0.9, 0.1] });
    const [{ decision }] = ledger.ready();
    assert.deepEqual([decision.stop, decision.value], [false, 0.9], decision.reason);
  });

  test('a ledger carried whole by an older run is read as before, and carried on at decision epochs', () => {
    const rule: EarlyStopping = { rule: 'median', minEpochs: 2, minTrials: 1, intervalEpochs: 2 };
    const old = { endedBefore: 3, histories: [[1, 't1', [0.1, 0.2, 0.3, 0.4, null]], [2, 't2', [0.5, 0.6, 0.7]]] as Array<[number, string, Array<number | null>]> };
    assert.deepEqual(new StopLedger(rule, DEFAULT_OBJECTIVE, old).state(3, true), {
      endedBefore: 3, histories: [], atDecisions: [[1, 't1', 5, [0.2, 0.4]], [2, 't2', 3, [0.6]]],
    });
    assert.deepEqual(new StopLedger(rule, DEFAULT_OBJECTIVE, old).state(3), old, 'without the patch, as it was');
  });
});
