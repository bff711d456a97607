// lib/visible-text.ts and where it is used: text from outside (class folder names, errors, spec values)
// cannot move the cursor, clear the screen, forge a line or close the Web UI's code block.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeFence, visible } from '../../lib/visible-text';
import { formatDataSummary } from '../../lib/data-summary';
import { liveLeaderboard } from '../../lib/live-leaderboard';
import { TrialPlan, TrialSummary } from '../../lib/sweep-types';
import { formatTrialTable } from '../../views/leaderboard-table';
import { changeLines } from '../../views/watch-view';
import { sweepCurrentDetails } from '../../views/workflow-metadata';

const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

test('control characters are written as escapes; other text, accents and emoji included, is left alone', () => {
  assert.equal(visible('rose\u001b[2J'), 'rose\\u001b[2J');
  assert.equal(visible('a\nb\tc\r'), 'a\\nb\\tc\\r');
  assert.equal(visible('x\u0085y\u009bz\u202eq\u007f'), 'x\\u0085y\\u009bz\\u202eq\\u007f');
  assert.equal(visible('Blütenblatt 🌻 "a,b" \\n'), 'Blütenblatt 🌻 "a,b" \\n');
  assert.equal(visible('ro\u200bse\ufeff\u2060\u061c'), 'ro\\u200bse\\ufeff\\u2060\\u061c', 'invisible look-alikes');
  assert.equal(visible('👩\u200d🔬 می\u200cخواهم'), '👩\u200d🔬 می\u200cخواهم', 'ZWJ and ZWNJ belong to emoji and scripts');
});

test('a code fence is longer than any backtick run in its body', () => {
  assert.equal(codeFence('rank run'), '```');
  assert.equal(codeFence('a ``` b ```` c'), '`````');
});

test('a hostile class name or error reaches no terminal or Web UI text raw', () => {
  const summary = formatDataSummary({ counts: { 'rose\u001b[2J': 3, 'tulip\nsweep s1 completed': 2 }, skipped: 1, skippedByReason: { 'bad\u009b': 1 } });
  assert.ok(!CONTROL.test(summary) && !summary.includes('\n'), summary);

  const plan: TrialPlan = { trialId: 't1', run: 1, params: { labels: 'a\u001b]0;pwned\u0007' }, head: { hidden_units: 8, dropout: 0.5, lr: 0.01, batch_size: 8, n_epochs: 2, num_classes: 2 } };
  const failed: TrialSummary = { trialId: 't1', run: 1, params: plan.params, status: 'failed', error: 'cannot read x\u001b[2J\n\u2028', epochsDone: 0 };
  const done: TrialSummary = { ...failed, trialId: 't2', run: 2, params: { labels: '```\nforged' }, status: 'completed', error: undefined, epochsDone: 2, valAccuracy: 0.5, valLoss: 1 };
  const board = liveLeaderboard({ sweepId: 's1', name: 'x', stage: 'training', trialsTotal: 2 }, [failed, done], [], [plan, { ...plan, trialId: 't2', run: 2, params: done.params }]);
  const table = formatTrialTable([done, failed]);
  assert.ok(!CONTROL.test(table) && table.split('\n').length === 3, table);
  const watched = changeLines(undefined, { sweepId: 's1', status: 'RUNNING', elapsed: 0, board, training: {} });
  assert.ok(watched.every((line) => !CONTROL.test(line) && !line.includes('\n')), watched.join('\n'));
  const details = sweepCurrentDetails(board, { labels: ['a', 'b'] });
  assert.ok(!CONTROL.test(details), details);
  assert.match(details, /\n````\n[\s\S]*\n````\n/, 'the fence outlasts the value\'s backticks');
});
