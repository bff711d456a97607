import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { COMMANDS, EXIT, UsageError, commandHelp, exitCodeOf, parseCommandLine, programHelp } from '../../cli/commands';
import { describeSweepFailure, failureLine } from '../../cli/sweep-failure';
import { withWorkerQueues } from '../../cli/sweep';
import { parseSweepSpec } from '../../lib/sweep-spec';
import { formatDataSummary } from '../../lib/data-summary';

describe('parseCommandLine', () => {
  test('help and version, for the program and every command', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']]) assert.deepEqual(parseCommandLine(argv), { kind: 'help', text: programHelp() });
    assert.deepEqual(parseCommandLine(['--version']), { kind: 'version' });
    for (const name of Object.keys(COMMANDS) as Array<keyof typeof COMMANDS>) {
      const parsed = parseCommandLine([name, '--help']);
      assert.equal(parsed.kind, 'help');
      assert.equal((parsed as { text: string }).text, commandHelp(name));
      assert.match(commandHelp(name), new RegExp(`^usage: sweep ${name}`));
    }
    assert.match(programHelp(), /exit codes:[\s\S]*3 +the sweep failed/);
  });

  test('options in both spellings, positionals in place', () => {
    assert.deepEqual(parseCommandLine(['start', 'spec.json', '--id=my-sweep', '--wait']), { kind: 'command', command: 'start', positionals: ['spec.json'], options: { id: 'my-sweep', wait: true } });
    assert.deepEqual(parseCommandLine(['start', '--id', 'x', 'spec.json', '--json']), { kind: 'command', command: 'start', positionals: ['spec.json'], options: { id: 'x', json: true } });
    assert.deepEqual(parseCommandLine(['predict', 'id', 'a.jpg', 'b.jpg']), { kind: 'command', command: 'predict', positionals: ['id', 'a.jpg', 'b.jpg'], options: {} });
  });

  test('what is wrong is named, with the usage and where the help is', () => {
    const problem = (argv: string[]) => { try { parseCommandLine(argv); } catch (e) { assert.ok(e instanceof UsageError); return e.message; } assert.fail('accepted'); };
    assert.match(problem(['status', 'id', '--jsno']), /^sweep status: unknown option --jsno\nusage: sweep status <id> \[--json\]\n\(see `sweep status --help`\)$/);
    assert.match(problem(['start', 'spec.json', '--id']), /option --id.* needs a value/);
    assert.match(problem(['start', 'spec.json', '--wait=yes']), /option --wait takes no value/);
    assert.match(problem(['status']), /sweep status: missing <id>/);
    assert.match(problem(['status', 'a', 'b']), /sweep status: unexpected argument "b"/);
    assert.match(problem(['stats', 'a']), /unknown command "stats"; the commands are start, validate, list, status/);
    assert.match(problem(['--verbose']), /unknown option --verbose; see `sweep --help`/);
  });

  test('exit codes by how the sweep ended', () => {
    assert.equal(exitCodeOf('COMPLETED'), EXIT.ok);
    assert.equal(exitCodeOf('RUNNING'), EXIT.ok);
    assert.equal(exitCodeOf('FAILED'), EXIT.sweepFailed);
    for (const s of ['CANCELLED', 'TERMINATED', 'TIMED_OUT']) assert.equal(exitCodeOf(s), EXIT.sweepStopped);
  });
});

describe('describeSweepFailure', () => {
  test('an activity failure: the stage of the step, the type, the innermost reason and the fix', () => {
    const cause = ApplicationFailure.nonRetryable('data/: 12 of 40 image files (30%) cannot be decoded, more than data.maxBadFraction = 0.05 (5%); e.g. a.jpg.\nRemove or re-export them', 'DataError');
    const error = new ActivityFailure('Activity task failed', 'ingestDataset', '1', RetryState.NON_RETRYABLE_FAILURE, undefined, cause);
    const failure = describeSweepFailure('s1', error);
    assert.deepEqual(failure, {
      sweepId: 's1', stage: 'ingesting', step: 'ingestDataset', type: 'DataError',
      reason: 'data/: 12 of 40 image files (30%) cannot be decoded, more than data.maxBadFraction = 0.05 (5%); e.g. a.jpg. Remove or re-export them',
      fix: 'fix the data as the reason says, then start the sweep again (under a new id): finished steps are reused',
    });
    const line = failureLine(failure);
    assert.equal(line.split('\n').length, 1, 'one line');
    assert.match(line, /^sweep s1 failed while ingesting \(step ingestDataset, DataError\): data\/: 12 of 40 .* · what to do: fix the data/);
  });

  test('a backbone that cannot be loaded fails while extracting features, and says to fix the backbone, not the data', () => {
    const cause = ApplicationFailure.nonRetryable('loading backbone.uri /models/m/model.json (format layers) on worker gpu-1 failed: ENOENT: no such file or directory', 'BackboneError');
    const failure = describeSweepFailure('s3', new ActivityFailure('Activity task failed', 'extractFeatures', '1', RetryState.NON_RETRYABLE_FAILURE, undefined, cause));
    assert.deepEqual([failure.stage, failure.type], ['extracting features', 'BackboneError']);
    assert.match(failure.fix, /^fix backbone in the spec \(uri: a model\.json every GPU worker can read; format; featureLayer\)/);
  });

  test('a spec refused by the workflow itself fails while validating', () => {
    const failure = describeSweepFailure('s2', ApplicationFailure.nonRetryable('invalid sweep spec:\n  - grid: required', 'SpecError'));
    assert.equal(failure.stage, 'validating');
    assert.equal(failure.step, 'sweepWorkflow');
    assert.match(failure.fix, /sweep validate/);
  });

  test('a workflow id that cannot name a sweep says to start again with another id, not to fix the spec', () => {
    const failure = describeSweepFailure('a/b', ApplicationFailure.nonRetryable('sweep id "a/b" is not valid: give letters, digits', 'InvalidSweepId'));
    assert.equal(failure.stage, 'validating');
    assert.match(failure.fix, /^start it again with a workflow id of letters, digits/);
  });
});

test('formatDataSummary: totals, per class, skipped per reason', () => {
  assert.equal(formatDataSummary({ counts: { daisy: 764, rose: 784 }, skipped: 3, skippedByReason: { 'unreadable image': 2, 'hidden file': 1 } }),
    '1,548 images in 2 classes (daisy 764, rose 784); skipped 3: unreadable image 2, hidden file 1');
  assert.equal(formatDataSummary({ counts: { a: 1 }, skipped: 0, skippedByReason: {} }), '1 image in 1 class (a 1); nothing skipped');
});

describe('sweep start: the queues of the environment', () => {
  const config = { cpuQueue: 'prod-cpu', gpuQueue: 'prod-gpu', suggestQueue: 'prod-suggest' };
  const base = { data: { source: 'd' }, backbone: { uri: 'm.json' }, grid: { lr: [0.01] } };

  test('a spec that names no queues gets the ones its workers poll, so its steps do not wait on the defaults', () => {
    const spec = parseSweepSpec(withWorkerQueues(base, config));
    assert.deepEqual(spec.taskQueues, { cpu: 'prod-cpu', gpu: 'prod-gpu' });
  });

  test('queues the spec names win; a bayesian search also gets the suggest queue', () => {
    const named = withWorkerQueues({ ...base, taskQueues: { gpu: 'team-gpu' } }, config);
    assert.deepEqual(parseSweepSpec(named).taskQueues, { cpu: 'prod-cpu', gpu: 'team-gpu' });
    const bayesian = { ...base, grid: undefined, search: { method: 'bayesian', budget: 4, space: { lr: { type: 'loguniform', low: 1e-4, high: 1e-1 } } } };
    assert.deepEqual(parseSweepSpec(withWorkerQueues(bayesian, config), { strict: true }).taskQueues, { cpu: 'prod-cpu', gpu: 'prod-gpu', suggest: 'prod-suggest' });
  });
});
