// lib/rank.ts: leaderboard order - the objective (default val accuracy desc), then val loss asc, then trial id.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { rankTrials, RankableTrial } from '../../lib/rank';
import { randomStream, shuffled } from '../../lib/random';

const t = (trialId: string, valAccuracy: number, valLoss: number): RankableTrial => ({ trialId, valAccuracy, valLoss });
const ids = (trials: RankableTrial[]) => trials.map((x) => x.trialId);

describe('rankTrials', () => {
  test('higher validation accuracy first, whatever the loss', () => {
    assert.deepEqual(ids(rankTrials([t('a', 0.7, 0.1), t('b', 0.9, 2.0), t('c', 0.8, 0.5)])), ['b', 'c', 'a']);
  });

  test('equal accuracy: lower validation loss first', () => {
    assert.deepEqual(ids(rankTrials([t('a', 0.9, 0.6), t('b', 0.9, 0.4), t('c', 0.95, 0.9), t('d', 0.9, 0.5)])), ['c', 'b', 'd', 'a']);
  });

  test('full tie: trial id order (code-unit order)', () => {
    assert.deepEqual(ids(rankTrials([t('t-3', 0.9, 0.5), t('t-1', 0.9, 0.5), t('T-2', 0.9, 0.5), t('t-2', 0.9, 0.5)])), ['T-2', 't-1', 't-2', 't-3']);
  });

  test('does not mutate its input and keeps extra fields', () => {
    const input = [{ ...t('a', 0.1, 1), run: 1 }, { ...t('b', 0.2, 1), run: 2 }];
    const out = rankTrials(input);
    assert.deepEqual(ids(input), ['a', 'b']);
    assert.deepEqual(out.map((x) => x.run), [2, 1]);
    assert.strictEqual(out[0], input[1]);
  });

  test('independent of input order: every shuffle gives the same ranking', () => {
    const trials: RankableTrial[] = [];
    // Many ties on accuracy and on (accuracy, loss) to exercise every tie-break.
    for (let i = 0; i < 40; i++) trials.push(t(`trial-${String(i).padStart(2, '0')}`, [0.5, 0.75, 0.9][i % 3], [0.3, 0.6][i % 2]));
    const expected = ids(rankTrials(trials));
    // Check the expected order by its definition.
    for (let i = 1; i < trials.length; i++) {
      const [p, q] = [rankTrials(trials)[i - 1], rankTrials(trials)[i]];
      assert.ok(p.valAccuracy > q.valAccuracy || (p.valAccuracy === q.valAccuracy && (p.valLoss < q.valLoss || (p.valLoss === q.valLoss && p.trialId < q.trialId))),
        `${p.trialId} before ${q.trialId}`);
    }
    for (let seed = 0; seed < 25; seed++) {
      assert.deepEqual(ids(rankTrials(shuffled(trials, randomStream('rank-test', seed)))), expected, `seed ${seed}`);
    }
  });

  test('a tie on the objective with a diverged loss (NaN, or null after JSON) ranks it last, whatever the input order', () => {
    // A subtraction tie-break was NaN for such a pair, so the order depended on the input's.
    const trials = [t('b', 0.2, NaN), t('a', 0.2, 2), t('c', 0.2, 1), { ...t('d', 0.2, 0), valLoss: null as unknown as number }];
    for (let seed = 0; seed < 24; seed++) {
      assert.deepEqual(ids(rankTrials(shuffled(trials, randomStream('rank-nan', seed)))), ['c', 'a', 'b', 'd'], `seed ${seed}`);
    }
  });

  test('empty and single inputs', () => {
    assert.deepEqual(rankTrials([]), []);
    assert.deepEqual(ids(rankTrials([t('only', 0, 0)])), ['only']);
  });

  test('by another objective: its value first (either direction), then val loss, then trial id; NaN last', () => {
    const trials = [
      { ...t('a', 0.9, 0.5), trainLoss: 0.3 }, { ...t('b', 0.8, 0.4), trainLoss: 0.1 },
      { ...t('c', 0.7, 0.2), trainLoss: 0.1 }, { ...t('d', 0.99, 0.1), trainLoss: NaN },
    ];
    assert.deepEqual(ids(rankTrials(trials, { metric: 'trainLoss', direction: 'minimize' })), ['c', 'b', 'a', 'd']);
    assert.deepEqual(ids(rankTrials(trials, { metric: 'valLoss', direction: 'minimize' })), ['d', 'c', 'b', 'a']);
    assert.deepEqual(ids(rankTrials(trials, { metric: 'valAccuracy', direction: 'maximize' })), ids(rankTrials(trials)));
    assert.deepEqual(ids(rankTrials([t('a', NaN, 0.1), t('b', 0.1, 0.9)])), ['b', 'a'], 'a diverged trial never ranks first');
  });
});
