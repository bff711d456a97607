// lib/repeated-trials.ts: which planned trials an earlier run of a continued sweep ran first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markRepeats } from '../../lib/repeated-trials';
import { TrialPlan, TrialSummary } from '../../lib/sweep-types';

const plan = (run: number, trialId: string): TrialPlan => ({ trialId, run, params: { hidden_units: run }, head: { hidden_units: 8, dropout: 0.5, lr: 1e-3, batch_size: 32, n_epochs: 1, num_classes: 2 } });
const summary = (run: number, trialId: string, sameAs?: number): TrialSummary => ({ trialId, run, params: {}, status: 'completed', epochsDone: 1, ...(sameAs ? { sameAs } : {}) });

test('a plan whose trial an earlier run ran carries that first run\'s outcome; new trials carry none', () => {
  const earlier = [summary(1, 'a'), summary(2, 'b'), summary(3, 'a', 1)];
  const marked = markRepeats([plan(4, 'a'), plan(5, 'c'), plan(6, 'b')], earlier);
  assert.deepEqual(marked.map((p) => p.repeatOf?.run), [1, undefined, 2]);
  assert.equal(marked[0].repeatOf, earlier[0], 'the first run\'s summary, not a repeat\'s');
  assert.deepEqual(markRepeats([plan(1, 'a')], []), [plan(1, 'a')]);
});

test('a repeat listed before its first run (parts in any order) still points at the first run', () => {
  const marked = markRepeats([plan(9, 'a')], [summary(5, 'a', 2), summary(2, 'a')]);
  assert.equal(marked[0].repeatOf?.run, 2);
});
