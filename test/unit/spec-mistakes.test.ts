// lib/spec-mistakes.ts through parseSweepSpec: what parses but is almost surely a mistake is refused,
// naming the field and the fix, unless the parse is lenient (a sweep that started before the checks).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HEAD_PARAM_MAXIMA } from '../../lib/spec-mistakes';
import { SpecError, parseSweepSpec } from '../../lib/sweep-spec';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const example = (file: string) => JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as Record<string, any>;

/** The problems of a raw spec, strictly parsed; asserts that the lenient parse accepts it (nothing else is wrong). */
function mistakes(raw: Record<string, any>): string[] {
  assert.doesNotThrow(() => parseSweepSpec(raw, { strict: false }), 'the lenient parse accepts it');
  try {
    parseSweepSpec(raw);
  } catch (error) {
    assert.ok(error instanceof SpecError);
    return error.problems;
  }
  assert.fail('the strict parse accepted it');
}

function search(patch: (s: Record<string, any>) => void): Record<string, any> {
  const raw = example('demo-search.json');
  patch(raw.search);
  return raw;
}

describe('spec mistakes', () => {
  test('every example passes the strict checks', () => {
    for (const file of readdirSync(EXAMPLES)) assert.doesNotThrow(() => parseSweepSpec(example(file)), file);
  });

  test('a misspelt field is refused with the field it most likely meant, in every section', () => {
    const demo = example('demo-sweep.json');
    assert.deepEqual(mistakes({ ...demo, concurency: 2 }), [
      'concurency: not a field of the spec; did you mean "concurrency"? Its fields are name, data, balance, split, image, augmentation, backbone, grid, search, seed, concurrency, heartbeatTimeoutSeconds, checkpointEverySeconds, taskQueues, maxTrials, reuse',
    ]);
    const { classes, ...data } = demo.data;
    assert.match(mistakes({ ...demo, data: { ...data, clases: classes } })[0], /^data\.clases: not a field of the data section; did you mean "classes"\?/);
    assert.match(mistakes({ ...demo, augmentation: { ...demo.augmentation, vies: 2 } })[0], /^augmentation\.vies: .*did you mean "views"\?/);
    assert.match(mistakes(search((s) => { s.objective = { metric: 'valLoss', mode: 'min' }; }))[0], /^search\.objective\.mode: .*did you mean "direction"/);
    assert.match(mistakes(search((s) => { s.space.hidden_units.steps = 64; }))[0], /^search\.space\.hidden_units\.steps: not a field of the int domain; did you mean "step"\?/);
    assert.match(mistakes(search((s) => { s.space.hidden_units.log = true; }))[0], /^search\.space\.hidden_units\.log: .*"loguniform"/);
    // Ray Tune's names for ASHA's settings: each would silently fall back to a default.
    const ray = mistakes(search((s) => { s.earlyStopping = { rule: 'asha', grace_period: 2, reduction_factor: 2, max_t: 10 }; }));
    assert.deepEqual(ray.map((p) => p.match(/did you mean ("\w+")/)?.[1]), ['"gracePeriod"', '"reductionFactor"', '"maxEpochs"']);
    // A median rule's field under ASHA.
    assert.match(mistakes(search((s) => { s.earlyStopping.minTrials = 3; }))[0], /^search\.earlyStopping\.minTrials: not a field of the asha rule/);
  });

  test('a field in the wrong section is refused with where it belongs; null is not a value', () => {
    assert.deepEqual(mistakes({ ...example('demo-search.json'), keepBestEpoch: true }), ['keepBestEpoch: a field of search, not of the spec; move it there']);
    assert.deepEqual(mistakes(search((s) => { s.earlyStopping.gracePeriod = null; })), ['search.earlyStopping.gracePeriod: null is not a value; leave the field out for its default']);
  });

  test('a label named like a head hyperparameter is refused: the trials would train on its default', () => {
    const grid = (g: Record<string, unknown[]>) => ({ ...example('demo-sweep.json'), grid: g });
    for (const [name, meant] of [['learning_rate', 'lr'], ['leraning_rate', 'lr'], ['LR', 'lr'], ['epochs', 'n_epochs'], ['hiden_units', 'hidden_units'], ['batchSize', 'batch_size'], ['dropuot', 'dropout']]) {
      const [problem] = mistakes(grid({ [name]: [1] }));
      assert.ok(problem.startsWith(`grid.${name}: "${name}" is not a head hyperparameter`) && problem.includes(`did you mean "${meant}"?`), problem);
    }
    assert.match(mistakes(search((s) => { s.space.epochs = { type: 'choice', values: [3, 5] }; }))[0], /^search\.space\.epochs: .*did you mean "n_epochs"\?/);
    // Labels that resemble nothing the head has stay labels.
    const labels = grid({ optimizer: ['adam', 'sgd'], use_bn: [true], zeta: [1], variant: ['a'], seed_group: [1, 2], repeat: [1], hidden_units: [8] });
    assert.deepEqual(Object.keys(parseSweepSpec(labels).grid), ['optimizer', 'use_bn', 'zeta', 'variant', 'seed_group', 'repeat', 'hidden_units']);
    // Words one letter from a short head name, or another word's first letter, are labels too.
    const near = grid({ patch: [1], match: [1], patch_size: [16], units2: [1], drop_path: [0.1], hidden_units: [8] });
    assert.deepEqual(Object.keys(parseSweepSpec(near).grid), ['patch', 'match', 'patch_size', 'units2', 'drop_path', 'hidden_units']);
  });

  test('other tools\' names are hinted only where they mean something; inherited names are plain unknown fields', () => {
    const demo = example('demo-sweep.json');
    const [imageMode] = mistakes({ ...demo, image: { ...demo.image, mode: 'RGB' } });
    assert.match(imageMode, /^image\.mode: not a field of the image section\. Its fields are size, resize$/);
    assert.doesNotMatch(mistakes({ ...demo, log: true })[0], /loguniform/);
    const [logOfLog] = mistakes(search((s) => { s.space.lr.log = true; }));
    assert.match(logOfLog, /^search\.space\.lr\.log: not a field of the loguniform domain/);
    assert.doesNotMatch(logOfLog, /"type": "loguniform"/, 'it is one already');
    assert.match(mistakes({ ...demo, constructor: 1 })[0], /^constructor: not a field of the spec[.;]/);
    assert.doesNotMatch(mistakes({ ...demo, constructor: 1 })[0], /native code/);
  });

  test('a class listed in composed and in decomposed Unicode is one class listed twice', () => {
    const demo = example('demo-sweep.json');
    const [problem] = mistakes({ ...demo, data: { ...demo.data, classes: ['café', 'café'.normalize('NFD'), 'rose', 'tulip'] } });
    assert.equal(problem, `data.classes: "café" and "${'café'.normalize('NFD')}" are one name, written with composed and decomposed accents, which ingestion reads as one class; list it once`);
  });

  test('a number too large for a double (Infinity) is refused; the lenient parse keeps it, as sweeps before the check ran', () => {
    const demo = example('demo-sweep.json');
    const huge = { ...demo, grid: { ...demo.grid, replicate: [1, Infinity] } };
    assert.deepEqual(mistakes(huge), ['grid.replicate: a number too large for a double (such as 1e400) reads as Infinity, which no trial can record; use a finite value']);
    assert.match(mistakes(search((s) => { s.space.tag = { type: 'choice', values: [1, -Infinity] }; }))[0], /^search\.space\.tag\.values: a number too large/);
  });

  test('one task queue named for two roles is refused (the third generation of checks); the second takes it, as sweeps started before', () => {
    const demo = example('demo-sweep.json');
    const shared = { ...demo, taskQueues: { cpu: 'sweeps', gpu: 'sweeps' } };
    assert.deepEqual(mistakes(shared), ['taskQueues.gpu: "sweeps" is also taskQueues.cpu, but each role\'s workers run only their own steps, ' +
      'so a step taken from the queue by the other role\'s worker fails and waits for a retry: give each role a queue of its own']);
    assert.doesNotThrow(() => parseSweepSpec(shared, { checks: 2 }));
    // A bayesian search's suggest queue, the Python worker's: a CPU worker on it would hide a missing one.
    const bayesian = search((s) => { s.method = 'bayesian'; });
    assert.match(mistakes({ ...bayesian, taskQueues: { cpu: 'sweep-cpu', suggest: 'sweep-cpu' } })[0], /^taskQueues\.suggest: "sweep-cpu" is also taskQueues\.cpu, /);
    assert.match(mistakes({ ...bayesian, taskQueues: { gpu: 'sweep-suggest' } })[0], /^taskQueues\.suggest: "sweep-suggest" is also taskQueues\.gpu, /);
  });

  test('a random budget past a space of choices and integer ranges is refused (the fourth generation of checks); the third takes it, as sweeps started before', () => {
    const ints = (budget: number, more: Record<string, unknown> = {}) => search((s) => {
      s.budget = budget;
      s.space = { hidden_units: { type: 'int', low: 16, high: 64, step: 16 }, n_epochs: { type: 'int', low: 1, high: 2 }, tag: { type: 'choice', values: ['a', 'b'] }, ...more };
      delete s.earlyStopping;
    });
    assert.deepEqual(mistakes(ints(17)), ['search.budget: the space has only 16 configurations (every domain a choice or an integer range), so a random search of 17 trials would repeat some; use "method": "grid" for all 16, or a budget of at most 16']);
    assert.doesNotThrow(() => parseSweepSpec(ints(16)));
    assert.doesNotThrow(() => parseSweepSpec(ints(17), { checks: 3 }));
    assert.doesNotThrow(() => parseSweepSpec(ints(17, { lr: { type: 'uniform', low: 0.001, high: 0.01 } })), 'a real range has endless values');
  });

  test('an objective against its metric (a loss maximised, an accuracy minimised) is refused (the fifth generation of checks); the fourth takes it, as sweeps started before', () => {
    const objective = (metric: string, direction?: string) => search((s) => { s.objective = direction ? { metric, direction } : { metric }; });
    assert.deepEqual(mistakes(objective('valLoss', 'maximize')), ['search.objective.direction: "maximize" would rank the trials with the highest valLoss first (and export that one), where a lower valLoss is better; use "direction": "minimize", or leave direction out (it follows the metric)']);
    assert.deepEqual(mistakes(objective('trainAccuracy', 'minimize')), ['search.objective.direction: "minimize" would rank the trials with the lowest trainAccuracy first (and export that one), where a lower trainAccuracy is worse; use "direction": "maximize", or leave direction out (it follows the metric)']);
    assert.match(mistakes(objective('trainLoss', 'maximize'))[0], /^search\.objective\.direction: "maximize" would rank the trials with the highest trainLoss first/);
    assert.match(mistakes(objective('valAccuracy', 'minimize'))[0], /^search\.objective\.direction: "minimize" would rank the trials with the lowest valAccuracy first/);
    for (const [metric, direction] of [['valLoss', 'minimize'], ['valAccuracy', 'maximize'], ['trainLoss', undefined], ['trainAccuracy', undefined]]) {
      assert.doesNotThrow(() => parseSweepSpec(objective(metric!, direction)), `${metric} ${direction ?? '(its default direction)'}`);
    }
    assert.doesNotThrow(() => parseSweepSpec(objective('valLoss', 'maximize'), { checks: 4 }));
  });

  test('settings that could never take effect are refused', () => {
    const bayesian = (patch: (s: Record<string, any>) => void) => search((s) => { s.method = 'bayesian'; patch(s); });
    const choices = (budget: number) => search((s) => { s.budget = budget; s.space = { hidden_units: { type: 'choice', values: [64, 128] }, lr: { type: 'choice', values: [0.01, 0.1, 1] } }; delete s.earlyStopping; });
    assert.deepEqual(mistakes(choices(7)), ['search.budget: the space has only 6 configurations (every domain a choice or an integer range), so a random search of 7 trials would repeat some; use "method": "grid" for all 6, or a budget of at most 6']);
    assert.doesNotThrow(() => parseSweepSpec(choices(6)));
    // Before generation 6, only start-up trials at or past the budget were refused.
    assert.throws(() => parseSweepSpec(bayesian((s) => { s.startupTrials = 12; }), { checks: 5 }), /search\.startupTrials: 12 start-up trials with a budget of 12 leaves TPE no trial/);
    assert.doesNotThrow(() => parseSweepSpec(bayesian((s) => { s.startupTrials = 11; }), { checks: 5 }));
    // Since, by batch: at concurrency 2, 11 start-up trials leave the last batch of a budget of 12 random too.
    assert.deepEqual(mistakes(bayesian((s) => { s.startupTrials = 11; })), ['search.startupTrials: 11 start-up trials with a budget of 12 at concurrency 2 leave TPE no trial to suggest ' +
      '(each batch of 2 is suggested from the batches finished before it): every trial would be random; use fewer start-up trials, a budget of at least 13, or "method": "random"']);
    assert.doesNotThrow(() => parseSweepSpec(bayesian((s) => { s.startupTrials = 10; })));
    // One batch for the whole budget: no count of start-up trials helps, a lower concurrency does.
    assert.match(mistakes({ ...bayesian((s) => { s.startupTrials = 1; s.budget = 4; }), concurrency: 4 })[0], /every trial would be random; use a concurrency below 4, a budget of at least 5, or "method": "random"$/);
    // The space's default count (6 here) is not refused; `sweep validate` notes it (cli.test.ts).
    assert.doesNotThrow(() => parseSweepSpec(bayesian((s) => { s.budget = 6; })));
    // A bayesian budget past a space of choices repeats configurations, as a random one does (generation 6).
    const bayesianChoices = { ...choices(7), search: { ...choices(7).search, method: 'bayesian', startupTrials: 2 } };
    assert.deepEqual(mistakes(bayesianChoices),
      ['search.budget: the space has only 6 configurations (every domain a choice or an integer range), so a bayesian search of 7 trials would repeat some; use "method": "grid" for all 6, or a budget of at most 6']);
    assert.doesNotThrow(() => parseSweepSpec(bayesianChoices, { checks: 5 }));
    // Suggestion requests past the history's budget (lib/search/suggest-history.ts), since generation 6.
    const large = { ...bayesian((s) => { s.budget = 3000; delete s.earlyStopping; }), concurrency: 1, maxTrials: 3000 };
    assert.match(mistakes(large).join('\n'), /^search\.budget: a bayesian search of 3000 trials at concurrency 1 would put about [\d.]+ MB of suggestion requests in the last run/m);
    assert.doesNotThrow(() => parseSweepSpec(large, { checks: 5 }));
    assert.match(mistakes(bayesian((s) => { s.space.flag = { type: 'choice', values: [true, 1] }; }))[0], /^search\.space\.flag\.values: lists true and 1, which the bayesian method's sampler .* takes for one value/);
    assert.doesNotThrow(() => parseSweepSpec(bayesian((s) => { s.space.flag = { type: 'choice', values: [false, 0.5, true] }; })), 'only true/1 and false/0 are confused');
    assert.doesNotThrow(() => parseSweepSpec(search((s) => { s.space.flag = { type: 'choice', values: [true, 1] }; })), 'random search tells them apart');
    const median = (rule: Record<string, number>) => search((s) => { s.earlyStopping = { rule: 'median', ...rule }; s.space.n_epochs = { type: 'choice', values: [5, 9] }; });
    assert.match(mistakes(median({ minEpochs: 9 }))[0], /^search\.earlyStopping\.minEpochs: 9 is not below the longest trial's 9 epochs/);
    assert.match(mistakes(median({ minTrials: 12 }))[0], /^search\.earlyStopping\.minTrials: the median rule waits for 12 other trials at an epoch, but the budget of 12 has only 11/);
    assert.doesNotThrow(() => parseSweepSpec(median({ minEpochs: 8, minTrials: 11 })));
    // 100 trials of 100 epochs, a decision after each: the sweep's history would pass Temporal's event limit.
    const long = (rule: Record<string, number>) => search((s) => { s.budget = 100; s.earlyStopping = { rule: 'median', ...rule }; s.space.n_epochs = { type: 'choice', values: [100] }; });
    assert.match(mistakes(long({}))[0], /^search\.earlyStopping: the median rule deciding every epoch .* would put about 65,350 events in the sweep's workflow history, more than the 40,000 events .*: set search\.earlyStopping\.intervalEpochs to 2 /);
    assert.doesNotThrow(() => parseSweepSpec(long({ intervalEpochs: 2 })));
    assert.throws(() => parseSweepSpec(long({ intervalEpochs: 0 }), { strict: false }), /search\.earlyStopping\.intervalEpochs: 0 is not valid: expected an integer >= 1/);
  });

  test('a backbone mean or std on the 0-255 scale is refused, with the values divided by 255 (generation 6); ImageNet\'s 0-1 values and a [-1, 1] scaling are taken', () => {
    const withNorm = (mean: number[], std: number[]) => ({ ...example('demo-sweep.json'), backbone: { ...example('demo-sweep.json').backbone, mean, std } });
    const scale = 'values above 1 look like the 0-255 scale, but the images are scaled to 0-1 first ((rgb / 255 - mean) / std); divide them by 255';
    assert.deepEqual(mistakes(withNorm([123.68, 116.78, 103.94], [58.393, 57.12, 57.375])), [
      `backbone.mean [123.68,116.78,103.94]: ${scale}: "mean": [0.485, 0.458, 0.408]`,
      `backbone.std [58.393,57.12,57.375]: ${scale}: "std": [0.229, 0.224, 0.225]`,
    ]);
    assert.deepEqual(mistakes(withNorm([0.5, 0.5, 0.5], [2, 2, 2])), [`backbone.std [2,2,2]: ${scale}: "std": [0.008, 0.008, 0.008]`], 'each field named on its own');
    assert.doesNotThrow(() => parseSweepSpec(withNorm([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])));
    assert.doesNotThrow(() => parseSweepSpec(withNorm([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])));
    assert.doesNotThrow(() => parseSweepSpec(withNorm([123.68, 116.78, 103.94], [58.393, 57.12, 57.375]), { checks: 5 }), 'sweeps started before replay without the check');
  });

  test('a split that would be empty is refused, with the perClass that fills it', () => {
    const perClass = (n: number, split?: Record<string, number>) => ({ ...example('demo-sweep.json'), balance: { perClass: n }, ...(split ? { split } : {}) });
    // val and test get round(perClass * 0.15) images per class: 0 at 3, 1 at 4.
    assert.deepEqual(mistakes(perClass(3)), ['balance.perClass: 3 images per class would leave the val and test splits empty (val gets 0 and test 0 per class); raise perClass to at least 4 or change split']);
    assert.doesNotThrow(() => parseSweepSpec(perClass(4)));
    assert.match(mistakes(perClass(4, { train: 0.1, val: 0.45, test: 0.45 }))[0], /would leave the train split empty \(val gets 2 and test 2 per class\)/);
  });

  test('a head too wide or a trial too long to be meant is refused, in a grid and in a search', () => {
    const grid = (patch: Record<string, unknown[]>) => ({ ...example('demo-sweep.json'), grid: { ...example('demo-sweep.json').grid, ...patch } });
    assert.deepEqual(mistakes(grid({ hidden_units: [256, 2_560_000] })), ['grid.hidden_units: 2560000 hidden units is more than the 16,384 a head may have (usual heads have 128 to 1,024); was it a typo?']);
    assert.doesNotThrow(() => parseSweepSpec(grid({ hidden_units: [HEAD_PARAM_MAXIMA.hidden_units] })));
    assert.match(mistakes(grid({ n_epochs: [400_000] }))[0], /^grid\.n_epochs: 400000 epochs is more than the 10,000 a trial may train/);
    assert.doesNotThrow(() => parseSweepSpec(grid({ n_epochs: [HEAD_PARAM_MAXIMA.n_epochs] })));
    assert.match(mistakes(search((s) => { s.space.hidden_units = { type: 'int', low: 64, high: 65_536, step: 64 }; }))[0], /^search\.space\.hidden_units: 65536 hidden units is more/);
    assert.match(mistakes(search((s) => { s.earlyStopping = { rule: 'asha', maxEpochs: 20_000 }; }))[0], /^search\.earlyStopping\.maxEpochs: 20000 epochs is more than the 10,000/);
  });
});
