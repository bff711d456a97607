// What a spec can say that parses but is almost surely a mistake: a field the spec does not have (a
// typo falls back to its default without a word), a label named like a head hyperparameter (it would
// label trials and train on the default), a setting that can never take effect, a split that would
// be empty, a head too large to be meant. Each problem names the field and the fix, like the parser's own. Pure.
import { closest, distance } from 'fastest-levenshtein';
import { Grid, ParamValue } from './grid';
import { HEAD_PARAM_DEFAULTS } from './head-params';
import { EARLY_STOPPING_FIELDS } from './search/early-stopping';
import { medianRuleHistory, medianRuleHistoryProblem } from './search/stopping-history';
import { suggestHistoryProblem } from './search/suggest-history';
import { OBJECTIVE_FIELDS, usualDirection } from './search/objective';
import { OBJECTIVE_METRICS, SEARCH_FIELDS, SearchSpec } from './search/search-spec';
import { DOMAIN_FIELDS, Domain, intValueCount, largestValue } from './search/space';
import { tpeSuggestedTrials } from './search/tpe-batches';

/** What the checks read of a parsed spec (lib/sweep-spec.ts's SweepSpec, which imports this module). */
export interface ParsedSpec {
  data: { classes?: string[] };
  grid: Grid;
  search?: SearchSpec;
  balance: { perClass: number };
  split: { val: number; test: number };
  concurrency: number;
  taskQueues: { cpu: string; gpu: string; suggest?: string };
  backbone: { mean: readonly number[]; std: readonly number[] };
}

/** The fields of each object section of the spec, by path ('' is the top level). */
const SECTION_FIELDS: Record<string, readonly string[]> = {
  '': ['name', 'data', 'balance', 'split', 'image', 'augmentation', 'backbone', 'grid', 'search', 'seed', 'concurrency',
    'heartbeatTimeoutSeconds', 'checkpointEverySeconds', 'taskQueues', 'maxTrials', 'reuse'],
  data: ['source', 'classes', 'maxBadFraction'],
  balance: ['perClass'],
  split: ['train', 'val', 'test'],
  image: ['size', 'resize'],
  augmentation: ['enabled', 'hflip', 'rotationDeg', 'minScale', 'colorJitter', 'views'],
  backbone: ['name', 'uri', 'format', 'featureLayer', 'mean', 'std'],
  taskQueues: ['cpu', 'gpu', 'suggest'],
  search: SEARCH_FIELDS,
  'search.objective': OBJECTIVE_FIELDS,
};

const HEAD_PARAMS = [...Object.keys(HEAD_PARAM_DEFAULTS), 'num_classes'];

/** Names other tools give the head's hyperparameters (Keras, PyTorch, Optuna, Ray examples), normalised. */
const HEAD_PARAM_ALIASES: Record<string, string> = {
  learningrate: 'lr', learnrate: 'lr', epochs: 'n_epochs', epoch: 'n_epochs', numepochs: 'n_epochs', maxepochs: 'n_epochs',
  hidden: 'hidden_units', units: 'hidden_units', hiddensize: 'hidden_units', hiddendim: 'hidden_units', numunits: 'hidden_units',
  batch: 'batch_size', bs: 'batch_size', dropoutrate: 'dropout', droprate: 'dropout', classes: 'num_classes', nclasses: 'num_classes',
};

/**
 * The checks come in generations, and a running sweep replays with the generation it started under
 * (the sweep workflow's patches): a check added later would refuse its spec mid-flight, which is a
 * nondeterminism error, not a clear refusal. 1: the checks of patch sweep-spec-strict; 2: those added
 * since (a random budget past a choice space's configurations, non-finite values, a class written twice,
 * an oversized head, median-rule histories past Temporal's limits; patch sweep-spec-checks-2); 3: one
 * task queue named for two roles (patch sweep-spec-checks-3); 4: a random budget past the configurations
 * of a space of choices and integer ranges (generation 2 counted choice-only spaces; patch sweep-spec-checks-4);
 * 5: an objective that maximises a loss or minimises an accuracy (patch sweep-spec-checks-5); 6: a
 * bayesian budget past the space's configurations, start-up trials that leave TPE no trial counted by
 * batch (not only at the budget), and a backbone mean or std on the 0-255 scale (patch sweep-spec-checks-6).
 */
export type SpecChecks = 1 | 2 | 3 | 4 | 5 | 6;
export const LATEST_SPEC_CHECKS: SpecChecks = 6;

/**
 * Problems of a spec that parsed: empty when none. `raw` is what was parsed, `spec` what it gave,
 * `longestTrial` the most epochs a trial of it trains.
 */
export function specMistakes(raw: Record<string, unknown>, spec: ParsedSpec, longestTrial: number, checks: SpecChecks = LATEST_SPEC_CHECKS): string[] {
  const problems: string[] = [];
  for (const [path, fields] of Object.entries(SECTION_FIELDS)) {
    const section = path === '' ? raw : valueAt(raw, path);
    // The search section's own parser refuses fields it does not have, as it always did.
    if (isObject(section)) problems.push(...unknownFields(section, fields, path, undefined, path !== 'search'));
  }
  const search = isObject(raw.search) ? raw.search : undefined;
  if (isObject(search?.earlyStopping) && spec.search?.earlyStopping) {
    problems.push(...unknownFields(search.earlyStopping, EARLY_STOPPING_FIELDS[spec.search.earlyStopping.rule], 'search.earlyStopping', `${spec.search.earlyStopping.rule} rule`));
  }
  for (const [name, domain] of Object.entries(spec.search?.space ?? {})) {
    const rawDomain = (search!.space as Record<string, unknown>)[name];
    if (isObject(rawDomain)) problems.push(...unknownFields(rawDomain, DOMAIN_FIELDS[domain.type], `search.space.${name}`, `${domain.type} domain`));
  }
  const labelsAt = spec.search ? 'search.space' : 'grid';
  for (const name of Object.keys(spec.search?.space ?? spec.grid)) {
    const meant = headParamMeant(name);
    if (meant) {
      problems.push(`${labelsAt}.${name}: "${name}" is not a head hyperparameter, so it would only label trials and train every one on the default ${meant} ` +
        `(${HEAD_PARAM_DEFAULTS[meant as keyof typeof HEAD_PARAM_DEFAULTS] ?? 'from the data'}); did you mean "${meant}"? The head's hyperparameters are ${HEAD_PARAMS.join(', ')}`);
    }
  }
  problems.push(...settingsWithoutEffect(spec, longestTrial, checks), ...emptySplits(spec));
  if (checks >= 2) problems.push(...classesTwice(spec), ...nonFiniteValues(spec), ...oversizedHeads(spec, longestTrial));
  if (checks >= 3) problems.push(...sharedQueues(Object.entries(spec.taskQueues).map(([role, queue]) => [`taskQueues.${role}`, queue])));
  if (checks >= 5) problems.push(...objectiveAgainstItsMetric(spec));
  if (checks >= 6) problems.push(...normalisationOn255Scale(spec));
  return problems;
}

/**
 * A backbone mean or std given on the 0-255 scale (Keras's and Caffe's [123.68, 116.78, 103.94]): the
 * preprocessing computes (rgb / 255 - mean) / std, so every image would come out nearly constant and
 * every trial would train on noise, with no error anywhere.
 */
function normalisationOn255Scale(spec: ParsedSpec): string[] {
  const scaled = (values: readonly number[]) => `[${values.map((v) => Number((v / 255).toFixed(3))).join(', ')}]`;
  return (['mean', 'std'] as const).filter((field) => spec.backbone[field].some((v) => v > 1)).map((field) =>
    `backbone.${field} ${JSON.stringify(spec.backbone[field])}: values above 1 look like the 0-255 scale, but the images are scaled to 0-1 first ((rgb / 255 - mean) / std); ` +
    `divide them by 255: "${field}": ${scaled(spec.backbone[field])}`);
}

/**
 * An objective that maximises a loss or minimises an accuracy: the sweep would rank the worst trial
 * first, export it, and (under early stopping) stop the best ones.
 */
function objectiveAgainstItsMetric(spec: ParsedSpec): string[] {
  const objective = spec.search?.objective;
  // A metric trials do not report is refused by the parse already, naming those they do.
  if (!objective || !OBJECTIVE_METRICS.includes(objective.metric)) return [];
  const better = usualDirection(objective.metric);
  if (objective.direction === better) return [];
  return [`search.objective.direction: "${objective.direction}" would rank the trials with the ${better === 'maximize' ? 'lowest' : 'highest'} ${objective.metric} first ` +
    `(and export that one), where a lower ${objective.metric} is ${better === 'maximize' ? 'worse' : 'better'}; use "direction": "${better}", or leave direction out (it follows the metric)`];
}

/**
 * One task queue named for two roles (as [where it is named, queue]). Each role's workers register only
 * their own activities (the Python suggest worker only suggestTrials), so a task taken from a shared
 * queue by another role's worker fails as "not registered" and waits for a retry, which may find the
 * same wrong worker; and a missing worker of one role goes unseen, since the other polls its queue.
 */
export function sharedQueues(named: ReadonlyArray<readonly [string, string]>): string[] {
  return named.flatMap(([where, queue], i) => {
    const first = named.findIndex(([, other]) => other === queue);
    return first < i ? [`${where}: "${queue}" is also ${named[first][0]}, but each role's workers run only their own steps, ` +
      `so a step taken from the queue by the other role's worker fails and waits for a retry: give each role a queue of its own`] : [];
  });
}

/** Other tools' names for fields the search section has under its own (Optuna, Ray Tune, hyperopt), and what to use. */
const FOREIGN_FIELDS: Record<string, string> = {
  mode: '"direction" ("maximize" or "minimize")',
  max_t: '"maxEpochs"',
  n_warmup_steps: '"minEpochs" (n_warmup_steps + 1)',
  log: 'a range of "type": "loguniform" (for integers, a choice of values)',
  q: '"step" (an "int" range)',
};
const DOMAIN_ONLY = ['log', 'q'];

/** What another tool's name for a search field is called here: only in the search section, domains' own names only in domains. */
function foreignField(key: string, path: string, what: string): string | undefined {
  if (!path.startsWith('search') || !Object.hasOwn(FOREIGN_FIELDS, key)) return undefined;
  const inDomain = path.startsWith('search.space.');
  // A loguniform range is logarithmic already: its "log" is just not a field.
  if (inDomain !== DOMAIN_ONLY.includes(key) || (key === 'log' && what === 'loguniform domain')) return undefined;
  return FOREIGN_FIELDS[key];
}

/** A field a section does not have; null is not a value either (leaving a field out gives its default). */
function unknownFields(section: Record<string, unknown>, fields: readonly string[], path: string, what = path === '' ? 'spec' : `${path} section`, refuseUnknown = true): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(section)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (!fields.includes(key)) {
      if (!refuseUnknown) continue;
      const home = Object.entries(SECTION_FIELDS).find(([other, names]) => other !== path && names.includes(key))?.[0];
      if (home !== undefined) {
        problems.push(`${at}: a field of ${home === '' ? 'the spec\'s top level' : home}, not of the ${what}; move it there`);
        continue;
      }
      const meant = foreignField(key, path, what) ?? closeField(key, fields);
      problems.push(`${at}: not a field of the ${what}${meant ? `; did you mean ${meant}?` : '.'} Its fields are ${fields.join(', ')}`);
    } else if (value === null) {
      problems.push(`${at}: null is not a value; leave the field out for its default`);
    }
  }
  return problems;
}

/** The field a misspelt key most likely meant, quoted; undefined when none is close. */
function closeField(key: string, fields: readonly string[]): string | undefined {
  const best = closest(key.toLowerCase(), fields.map((f) => f.toLowerCase()));
  const field = fields.find((f) => f.toLowerCase() === best)!;
  return distance(key.toLowerCase(), best) <= Math.max(2, Math.floor(field.length / 3)) ? `"${field}"` : undefined;
}

/** The head hyperparameter a label's name is most likely a misspelling or another tool's name of. */
function headParamMeant(name: string): string | undefined {
  if (HEAD_PARAMS.includes(name)) return undefined;
  const normal = normalise(name);
  const candidates = [...HEAD_PARAMS.map((p) => [normalise(p), p] as const), ...Object.entries(HEAD_PARAM_ALIASES)];
  const exact = candidates.find(([alias]) => alias === normal);
  if (exact) return exact[1];
  // Short names differ from real words by one letter too easily ("lr" / "l1", "batch" / "patch"), and a
  // different first letter is more often another word than a typo ("patch_size" is a ViT setting). Two
  // edits are a typo in a long name, or a swap of letters ("dropuot"), not another word ("drop_path").
  const typo = (alias: string) => {
    const d = distance(alias, normal);
    return d <= 1 || (d === 2 && (alias.length >= 9 || [...alias].sort().join() === [...normal].sort().join()));
  };
  const near = candidates.filter(([alias]) => alias.length >= 7 && alias[0] === normal[0]).find(([alias]) => typo(alias));
  return near?.[1];
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** One class written twice, composed and decomposed ("é" as one character or e + accent): ingestion reads both as one (NFC). */
function classesTwice(spec: ParsedSpec): string[] {
  const seen = new Map<string, string>();
  for (const name of spec.data.classes ?? []) {
    const first = seen.get(name.normalize('NFC'));
    if (first !== undefined && first !== name) {
      return [`data.classes: ${JSON.stringify(first)} and ${JSON.stringify(name)} are one name, written with composed and decomposed accents, which ingestion reads as one class; list it once`];
    }
    seen.set(name.normalize('NFC'), name);
  }
  return [];
}

/** Values a number too large for a double (1e400) turned into Infinity: JSON would pass them on as null. */
function nonFiniteValues(spec: ParsedSpec): string[] {
  const lists: Array<[string, ParamValue[]]> = spec.search
    ? Object.entries(spec.search.space).flatMap(([name, d]) => (d.type === 'choice' ? [[`search.space.${name}.values`, d.values] as [string, ParamValue[]]] : []))
    : Object.entries(spec.grid).map(([name, values]) => [`grid.${name}`, values]);
  return lists.filter(([, values]) => values.some((v) => typeof v === 'number' && !Number.isFinite(v)))
    .map(([field]) => `${field}: a number too large for a double (such as 1e400) reads as Infinity, which no trial can record; use a finite value`);
}

/** How many values a domain can take: a choice's, or (generation 4) an integer range's; a real range's are endless. */
function valueCount(domain: Domain, checks: SpecChecks): number {
  if (domain.type === 'choice') return domain.values.length;
  return domain.type === 'int' && checks >= 4 ? intValueCount(domain) : Infinity;
}

/**
 * Start-up trials set so that TPE suggests nothing: before generation 6, a count at or past the budget;
 * from it, by batch (at concurrency 2, 11 start-up trials leave a budget of 12 none either). The
 * space's default count is the product's choice, not a setting: `sweep validate` notes when it leaves
 * TPE nothing (tiny bayesian sweeps that only exercise the path are fine).
 */
function startupTrialsWithoutEffect(search: NonNullable<ParsedSpec['search']>, concurrency: number, checks: SpecChecks): string[] {
  const { startupTrials, budget } = search;
  if (startupTrials === undefined) return [];
  if (checks < 6) {
    return startupTrials >= budget
      ? [`search.startupTrials: ${startupTrials} start-up trials with a budget of ${budget} leaves TPE no trial to model the results for; use fewer, or "method": "random"`]
      : [];
  }
  const tpe = tpeSuggestedTrials(search, concurrency);
  if (tpe.trials > 0) return [];
  // With one batch for the whole budget, no count of start-up trials helps: only smaller batches do.
  const fewer = concurrency < budget ? 'fewer start-up trials, ' : `a concurrency below ${budget}, `;
  return [`search.startupTrials: ${startupTrials} start-up trials with a budget of ${budget} at concurrency ${concurrency} leave TPE no trial to suggest ` +
    `(each batch of ${concurrency} is suggested from the batches finished before it): every trial would be random; use ${fewer}a budget of at least ${tpe.budgetNeeded}, or "method": "random"`];
}

/** Settings that parse but can never change what the sweep does (or, generation 2, would outgrow its histories). */
function settingsWithoutEffect(spec: ParsedSpec, longestTrial: number, checks: SpecChecks): string[] {
  const search = spec.search;
  if (!search) return [];
  const problems: string[] = [];
  const configurations = Object.values(search.space).reduce((n, d) => n * valueCount(d, checks), 1);
  // Generation 6: a bayesian search repeats too, once Optuna runs out of untried configurations.
  if (checks >= 2 && (search.method === 'random' || (checks >= 6 && search.method === 'bayesian')) && search.budget > configurations) {
    // A repeated configuration is the same trial (one id): it is trained once, and its repeats reuse it.
    problems.push(`search.budget: the space has only ${configurations} configurations (every domain a choice or an integer range), so a ${search.method} search of ${search.budget} trials would repeat some; use "method": "grid" for all ${configurations}, or a budget of at most ${configurations}`);
  }
  if (search.method === 'bayesian') problems.push(...startupTrialsWithoutEffect(search, spec.concurrency, checks));
  if (checks >= 6 && search.method === 'bayesian') {
    const median = search.earlyStopping?.rule === 'median' ? medianRuleHistory(search.earlyStopping, longestTrial, search.budget, spec.concurrency) : undefined;
    const suggestions = suggestHistoryProblem(search.space, search.budget, spec.concurrency, median);
    if (suggestions) problems.push(suggestions);
  }
  if (search.method === 'bayesian') {
    for (const [name, domain] of Object.entries(search.space)) {
      // Optuna, in Python, holds true == 1 and false == 0: it would take the two for one value.
      const values = domain.type === 'choice' ? domain.values : [];
      const twins = ([[true, 1], [false, 0]] as const).filter(([b, n]) => values.includes(b) && values.includes(n));
      if (twins.length) {
        problems.push(`search.space.${name}.values: lists ${twins.map(([b, n]) => `${b} and ${n}`).join(', and ')}, which the bayesian method's sampler (Optuna, in Python, where true == 1 and false == 0) takes for one value; use one kind, e.g. strings`);
      }
    }
  }
  const stopping = search.earlyStopping;
  if (stopping?.rule === 'median') {
    if (stopping.minEpochs >= longestTrial) {
      problems.push(`search.earlyStopping.minEpochs: ${stopping.minEpochs} is not below the longest trial's ${longestTrial} epochs, so the median rule could never stop a trial early; lower minEpochs`);
    }
    if (stopping.minTrials >= search.budget) {
      problems.push(`search.earlyStopping.minTrials: the median rule waits for ${stopping.minTrials} other trials at an epoch, but the budget of ${search.budget} has only ${search.budget - 1}; lower minTrials or raise the budget`);
    }
    const history = checks >= 2 && medianRuleHistoryProblem(stopping, longestTrial, search.budget, search.method === 'bayesian' ? spec.concurrency : 1);
    if (history) problems.push(history);
  }
  return problems;
}

/**
 * Splits that would be empty: every class has `balance.perClass` images after balancing, and
 * lib/split.ts gives val and test round(perClass * fraction) each, filled first; train takes the rest.
 */
function emptySplits(spec: ParsedSpec): string[] {
  const { perClass } = spec.balance;
  const val = Math.round(perClass * spec.split.val);
  const test = Math.round(perClass * spec.split.test);
  const empty = [val < 1 && 'val', test < 1 && 'test', val + test >= perClass && 'train'].filter(Boolean) as string[];
  if (!empty.length) return [];
  const needed = Math.ceil(0.5 / Math.min(spec.split.val, spec.split.test));
  return [`balance.perClass: ${perClass} images per class would leave the ${empty.join(' and ')} split${empty.length > 1 ? 's' : ''} empty ` +
    `(val gets ${val} and test ${test} per class); raise perClass${needed > perClass ? ` to at least ${needed}` : ''} or change split`];
}

/**
 * Past these a value is a typo, not a plan (heads of 128-1,024 units trained for 10-100 epochs are the
 * usual). 16,384 units over 1,280 features are 21M weights, checkpointed every epoch; a much wider head
 * fails to allocate and its trial retries without end. Each epoch adds to the trial's checkpoint record.
 */
export const HEAD_PARAM_MAXIMA = { hidden_units: 16_384, n_epochs: 10_000 } as const;

function oversizedHeads(spec: ParsedSpec, longestTrial: number): string[] {
  const field = (name: string) => (spec.search ? `search.space.${name}` : `grid.${name}`);
  const widest = largestValue('hidden_units', spec.grid, spec.search?.space) ?? 0;
  const epochsField = spec.search?.earlyStopping?.rule === 'asha' ? 'search.earlyStopping.maxEpochs' : field('n_epochs');
  return [
    widest > HEAD_PARAM_MAXIMA.hidden_units &&
      `${field('hidden_units')}: ${widest} hidden units is more than the ${HEAD_PARAM_MAXIMA.hidden_units.toLocaleString('en-US')} a head may have (usual heads have 128 to 1,024); was it a typo?`,
    longestTrial > HEAD_PARAM_MAXIMA.n_epochs &&
      `${epochsField}: ${longestTrial} epochs is more than the ${HEAD_PARAM_MAXIMA.n_epochs.toLocaleString('en-US')} a trial may train (a head over frozen features converges in tens); was it a typo?`,
  ].filter((p): p is string => typeof p === 'string');
}

function valueAt(raw: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), raw);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
