// The spec's search section (lib/search/search-spec.ts through parseSweepSpec): accepted forms and
// defaults, every problem named with its field, and grid specs untouched (examples parse exactly as
// before, the recorded sweeps' plans keep their trial ids).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { trialPlans } from '../../activities/plan';
import { TrialPlan } from '../../lib/sweep-types';
import { planningSpec } from '../../lib/trial-input';
import { SpecError, fixedHeadParams, labelNames, maxTrialEpochs, objectiveOf, parseSweepSpec, trialCount } from '../../lib/sweep-spec';

const ROOT = path.join(__dirname, '..', '..');

const base = {
  data: { source: './flowers', classes: ['daisy', 'rose'] },
  backbone: { uri: 'file:///models/m/model.json' },
};
const SPACE = {
  lr: { type: 'loguniform', low: 1e-4, high: 1e-2 },
  hidden_units: { type: 'int', low: 16, high: 64, step: 16 },
  dropout: { type: 'choice', values: [0.2, 0.5] },
};

function problems(raw: unknown): string[] {
  try {
    parseSweepSpec(raw);
  } catch (error) {
    assert.ok(error instanceof SpecError);
    return error.problems;
  }
  return assert.fail('spec was accepted');
}

describe('search section', () => {
  test('random search: defaults (objective val accuracy maximised, last epoch, no early stopping)', () => {
    const spec = parseSweepSpec({ ...base, search: { method: 'random', budget: 12, space: SPACE } });
    assert.deepEqual(spec.search, {
      method: 'random', budget: 12, space: { lr: SPACE.lr, hidden_units: SPACE.hidden_units, dropout: SPACE.dropout },
      objective: { metric: 'valAccuracy', direction: 'maximize' }, keepBestEpoch: false,
    });
    assert.deepEqual(spec.grid, {});
    assert.equal(trialCount(spec), 12);
  });

  test('bayesian startupTrials: carried when set (absent, the suggest request sizes it); only for bayesian', () => {
    const bayes = (search: Record<string, unknown>) => parseSweepSpec({ ...base, search: { method: 'bayesian', budget: 20, space: SPACE, ...search } }).search!.startupTrials;
    assert.equal(bayes({ startupTrials: 3 }), 3);
    assert.equal(bayes({}), undefined, 'a spec without it parses as before it existed');
    assert.match(problems({ ...base, search: { method: 'random', budget: 4, space: SPACE, startupTrials: 3 } }).join('\n'), /search\.startupTrials: only the bayesian method has start-up trials/);
    assert.match(problems({ ...base, search: { method: 'bayesian', budget: 4, space: SPACE, startupTrials: 0 } }).join('\n'), /search\.startupTrials: 0 is not valid: expected an integer >= 1/);
  });

  test('objective, ASHA and keepBestEpoch are carried; ASHA sets the longest trial', () => {
    const spec = parseSweepSpec({ ...base, search: { method: 'random', budget: 9, space: SPACE, objective: { metric: 'valLoss' }, earlyStopping: { rule: 'asha', maxEpochs: 9 }, keepBestEpoch: true } });
    assert.deepEqual(objectiveOf(spec), { metric: 'valLoss', direction: 'minimize' });
    assert.deepEqual(spec.search!.earlyStopping, { rule: 'asha', gracePeriod: 1, reductionFactor: 3, maxEpochs: 9 });
    assert.equal(spec.search!.keepBestEpoch, true);
    assert.equal(maxTrialEpochs(spec), 9);
  });

  test('what a spec leaves out trains at its default, and keys the head does not know are labels (sweep validate says both)', () => {
    const search = parseSweepSpec({ ...base, search: { method: 'random', budget: 9, space: { ...SPACE, replicate: { type: 'int', low: 1, high: 3 } } } });
    assert.deepEqual(fixedHeadParams(search), [['batch_size', 25], ['n_epochs', 40]]);
    assert.deepEqual(labelNames(search), ['replicate']);
    const asha = parseSweepSpec({ ...base, search: { method: 'random', budget: 9, space: SPACE, earlyStopping: { rule: 'asha', maxEpochs: 9 } } });
    assert.deepEqual(fixedHeadParams(asha), [['batch_size', 25]], "under ASHA a trial's epochs are maxEpochs");
    const grid = parseSweepSpec({ ...base, grid: { hidden_units: [8], dropout: [0.1], lr: [0.01], batch_size: [8], n_epochs: [3], num_classes: [2] } });
    assert.deepEqual([fixedHeadParams(grid), labelNames(grid)], [[], []], 'num_classes is no label');
  });

  test('the grid method is the grid: same grid, same trial count, budget defaults to its size', () => {
    const viaSearch = parseSweepSpec({ ...base, search: { method: 'grid', space: { hidden_units: { type: 'choice', values: [8, 16] }, n_epochs: { type: 'choice', values: [3] } } } });
    const viaGrid = parseSweepSpec({ ...base, grid: { hidden_units: [8, 16], n_epochs: [3] } });
    assert.deepEqual(viaSearch.grid, viaGrid.grid);
    assert.equal(viaSearch.search!.budget, 2);
    assert.equal(maxTrialEpochs(viaSearch), 3);
  });

  test('examples/demo-search.json: a random search with ASHA on the demo data, whose features the demo has already stored', () => {
    const read = (file: string) => parseSweepSpec(JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8')));
    const search = read('demo-search.json');
    const demo = read('demo-sweep.json');
    assert.equal(search.search!.method, 'random');
    assert.equal(search.search!.earlyStopping?.rule, 'asha');
    assert.equal(search.search!.keepBestEpoch, true);
    assert.equal(trialCount(search), 12);
    // The same data, split, image and augmentation settings and seed: the same feature shards.
    for (const key of ['data', 'balance', 'split', 'image', 'augmentation', 'backbone', 'seed'] as const) assert.deepEqual(search[key], demo[key], key);
  });

  test('every problem at once, each naming its field and the fix', () => {
    const found = problems({
      ...base,
      search: { method: 'annealing', budget: 0, space: { lr: { type: 'uniform', low: 1, high: 0 } }, objective: { metric: 'f1' }, earlyStoping: {}, keepBestEpoch: 'yes' },
    });
    const fields = found.map((p) => p.split(':')[0]).sort();
    assert.deepEqual(fields, ['search.budget', 'search.earlyStoping', 'search.keepBestEpoch', 'search.method', 'search.objective.metric', 'search.space.lr'], found.join('\n'));
    assert.match(found.find((p) => p.startsWith('search.earlyStoping'))!, /not a search field; the fields are method, budget, space, objective, earlyStopping, keepBestEpoch, startupTrials/);
    assert.match(found.find((p) => p.startsWith('search.objective.metric'))!, /use one of valAccuracy, valLoss, trainAccuracy, trainLoss/);
  });

  test('grid and search together, neither, ranges in a grid search, a grid budget, n_epochs with ASHA, over maxTrials', () => {
    assert.match(problems({ ...base, grid: { lr: [0.1] }, search: { method: 'random', budget: 2, space: SPACE } }).join('\n'), /^grid: a spec has either grid or search, not both/m);
    assert.match(problems(base).join('\n'), /^grid: must be an object .* or use a search section instead/m);
    assert.match(problems({ ...base, search: { method: 'grid', space: SPACE } }).join('\n'), /^search\.space: a grid needs a choice of values for every hyperparameter; lr, hidden_units are ranges/m);
    assert.match(problems({ ...base, search: { method: 'grid', budget: 5, space: { lr: { type: 'choice', values: [0.1, 0.2] } } } }).join('\n'), /^search\.budget: the grid method runs every combination, 2 here/m);
    assert.match(problems({ ...base, search: { method: 'random', budget: 3, space: { ...SPACE, n_epochs: { type: 'int', low: 1, high: 9 } }, earlyStopping: { rule: 'asha' } } }).join('\n'), /^search\.space\.n_epochs: with ASHA/m);
    assert.match(problems({ ...base, maxTrials: 10, search: { method: 'random', budget: 11, space: SPACE } }).join('\n'), /^search\.budget: 11 trials is more than maxTrials \(10\)/m);
    assert.match(problems({ ...base, search: { method: 'random', space: SPACE } }).join('\n'), /^search\.budget: undefined is not valid: expected the number of trials/m);
  });
});

describe('grid specs are untouched', () => {
  // The fixture has every setting added since (checkpointEverySeconds: 10) at its default.
  test('the example specs parse to exactly what they parsed to before the search section existed', () => {
    const before = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'parsed-example-specs.json'), 'utf8')) as Record<string, unknown>;
    for (const [file, parsed] of Object.entries(before)) {
      assert.deepEqual(JSON.parse(JSON.stringify(parseSweepSpec(JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'))))), parsed, file);
    }
  });

  test('recorded sweeps: the spec parses to what planTrials was given, and it plans the same trial ids', async () => {
    const dir = path.join(ROOT, 'test', 'replay', 'histories');
    const payload = (p: { data: string }) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
    let checked = 0;
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('-sweep.json'))) {
      const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).events as any[];
      const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'planTrials');
      if (!scheduled) continue;
      const completed = events.find((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId === scheduled.eventId);
      // A sweep cancelled while it planned (the cancelled-planning fixtures) has no plan to compare.
      if (!completed) continue;
      const input = payload(scheduled.activityTaskScheduledEventAttributes.input.payloads[0]);
      const rawSpec = payload(events[0].workflowExecutionStartedEventAttributes.input.payloads[0]);
      // Settings added after a history was recorded are not in what its planTrials was given. Checked as
      // before the fourth generation of checks, which refuses int-budget-unpatched's spec (it ran before them).
      const parsed = JSON.parse(JSON.stringify(parseSweepSpec(rawSpec, { checks: 3 })));
      if (!('checkpointEverySeconds' in input.spec)) delete parsed.checkpointEverySeconds;
      // Since 2026-12-08 planning is given the spec without data.classes (planningSpec).
      assert.deepEqual('classes' in input.spec.data ? parsed : planningSpec(parsed), input.spec, file);
      // The marks of trials found finished, or run by an earlier run of the sweep, come from the store at planning time, not from the plan.
      const recorded = (payload(completed.activityTaskCompletedEventAttributes.result.payloads[0]) as TrialPlan[]).map(({ resultFound: _, repeatOf: __, ...plan }) => plan);
      assert.deepEqual(trialPlans(input), recorded, file);
      checked++;
    }
    assert.ok(checked >= 3, `${checked} recorded sweeps planned trials`);
  });
});

describe('trialPlans for a random search', () => {
  const input = (search: Record<string, unknown>, seed = 7) => ({
    spec: parseSweepSpec({ ...base, seed, search }),
    classes: ['daisy', 'rose'],
    train: [{ id: 'train-0', shards: 1, rows: 10, dim: 8 }],
    val: { id: 'val', shards: 1, rows: 4, dim: 8 },
  });

  test('budget trials drawn by (seed, index), deterministic; a larger budget keeps the first ones', async () => {
    const a = trialPlans(input({ method: 'random', budget: 6, space: SPACE }));
    const again = trialPlans(input({ method: 'random', budget: 6, space: SPACE }));
    const more = trialPlans(input({ method: 'random', budget: 9, space: SPACE }));
    assert.equal(a.length, 6);
    assert.deepEqual(again, a);
    assert.deepEqual(more.slice(0, 6), a);
    assert.deepEqual(a.map((p) => p.run), [1, 2, 3, 4, 5, 6]);
    assert.equal(new Set(a.map((p) => p.trialId)).size, 6);
    for (const p of a) {
      assert.ok((p.params.lr as number) >= 1e-4 && (p.params.lr as number) <= 1e-2);
      assert.equal(p.head.lr, p.params.lr);
      assert.equal(p.head.hidden_units, p.params.hidden_units);
    }
    const otherSeed = trialPlans(input({ method: 'random', budget: 6, space: SPACE }, 8));
    assert.notDeepEqual(otherSeed.map((p) => p.params), a.map((p) => p.params));
  });

  test('ASHA gives every trial maxEpochs; keeping the best epoch is part of the trial id', async () => {
    const asha = trialPlans(input({ method: 'random', budget: 2, space: SPACE, earlyStopping: { rule: 'asha', maxEpochs: 9 } }));
    assert.deepEqual(asha.map((p) => p.head.n_epochs), [9, 9]);
    const last = trialPlans(input({ method: 'random', budget: 2, space: SPACE }));
    const best = trialPlans(input({ method: 'random', budget: 2, space: SPACE, keepBestEpoch: true }));
    assert.deepEqual(best.map((p) => p.params), last.map((p) => p.params));
    assert.notEqual(best[0].trialId, last[0].trialId);
  });
  test('a chunk of runs (a sweep that continues as new) plans exactly those runs of the whole plan, random or grid', async () => {
    const whole = trialPlans(input({ method: 'random', budget: 9, space: SPACE }));
    assert.deepEqual(trialPlans({ ...input({ method: 'random', budget: 9, space: SPACE }), runs: { first: 4, count: 3 } }), whole.slice(3, 6));
    const grid = { ...input({ method: 'random', budget: 1, space: SPACE }), spec: parseSweepSpec({ ...base, grid: { hidden_units: [8, 16, 32], lr: [0.1, 0.01] } }) };
    const wholeGrid = trialPlans(grid);
    assert.equal(wholeGrid.length, 6);
    assert.deepEqual(trialPlans({ ...grid, runs: { first: 5, count: 2 } }), wholeGrid.slice(4));
  });
});
