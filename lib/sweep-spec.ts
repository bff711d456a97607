// The sweep spec: one typed document, validated once at the boundary (CLI and the workflow's first step).
// Pure: no Node APIs, so workflow code can import the types and defaults.
import { RESULT_COLUMNS } from './epoch-rows';
import { catalogueBackbone, catalogueNameOf, catalogueNames, catalogueUri } from './backbone-catalogue';
import { Grid, ParamValue, gridSize, isParamValue } from './grid';
import { HEAD_PARAM_DEFAULTS, headParamLimit, withinHeadLimit } from './head-params';
import { DEFAULT_OBJECTIVE, Objective } from './search/objective';
import { SearchSpec, parseSearchSection } from './search/search-spec';
import { largestValue } from './search/space';
import { LATEST_SPEC_CHECKS, SpecChecks, specMistakes } from './spec-mistakes';

/** Seconds of training between checkpoints, unless the spec says otherwise (and for trials started before the setting). */
export const DEFAULT_CHECKPOINT_EVERY_SECONDS = 10;

export interface SweepSpec {
  /** Human name; part of the sweep's workflow id. */
  name: string;
  data: {
    /** A local folder of class subfolders, a .zip/.tar.gz (local path, http(s):// or s3://), or an s3:// prefix. */
    source: string;
    /** Class folder names to use, in label order; default: every class folder found, sorted. */
    classes?: string[];
    /** Fail ingestion when more than this fraction of files is unreadable (they are skipped and counted below it). */
    maxBadFraction: number;
  };
  /** Images per class after balancing: oversampled with replacement below it, subsampled above. */
  balance: { perClass: number };
  split: { train: number; val: number; test: number };
  /** Shorter side resized to `resize`, then cropped to `size` x `size`. */
  image: { size: number; resize: number };
  augmentation: {
    enabled: boolean;
    hflip: boolean;
    rotationDeg: number;
    /** Smallest area fraction of a random resized crop. */
    minScale: number;
    /** Max relative brightness/contrast/saturation change. */
    colorJitter: number;
    /** Distinct augmented views of the train set; epoch e uses view e mod views. 0 = one per epoch. */
    views: number;
  };
  backbone: BackboneSpec;
  /**
   * Ordered map of hyperparameter name -> values; every permutation is one trial. From `grid`, or from
   * a `search` of method grid; empty for random and bayesian searches.
   */
  grid: Grid;
  /** Present when the spec has a `search` section instead of `grid`. */
  search?: SearchSpec;
  seed: number;
  /** Trials trained at the same time. */
  concurrency: number;
  /** A training attempt silent this long is presumed dead and retried (resuming) on another worker. */
  heartbeatTimeoutSeconds: number;
  /**
   * Training stores a checkpoint once this many seconds have passed since the last (and always at a
   * trial's last epoch and at every early-stopping rung); 0 stores every epoch. A crash loses at most
   * this much training, never a result: a resumed trial computes the same bytes from any checkpoint.
   */
  checkpointEverySeconds: number;
  /** suggest: where the Python suggestTrials worker listens (bayesian searches only). */
  taskQueues: { cpu: string; gpu: string; suggest?: string };
  /** Refuse grids larger than this before any work starts. */
  maxTrials: number;
  /** Reuse finished trials from earlier sweeps with identical inputs (feature shards are content-addressed and reused either way). */
  reuse: boolean;
}

export interface BackboneSpec {
  /** A catalogue backbone (lib/backbone-catalogue.ts); it supplies the fields below unless they are set. */
  name?: string;
  /**
   * file://, http(s)://, s3:// URL of a TF.js model.json. For a named backbone: "catalogue:<name>",
   * each worker's own fetched copy, unless the spec points at a shared copy (e.g. on s3://).
   */
  uri: string;
  format: 'layers' | 'graph';
  /** Layer (LayersModel) or node (GraphModel) whose output is the feature vector; default: the model's output. */
  featureLayer?: string;
  /** Pixel preprocessing: x = (rgb/255 - mean) / std per channel. */
  mean: [number, number, number];
  std: [number, number, number];
}

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

export class SpecError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid sweep spec:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SpecError';
  }
}

type Json = unknown;

/**
 * Validates a raw (parsed JSON) spec and fills defaults; throws SpecError listing every problem.
 * `strict` (the default) also refuses what parses but is almost surely a mistake (lib/spec-mistakes.ts:
 * unknown fields, labels named like head hyperparameters, settings without effect, empty splits);
 * sweeps started before those checks existed replay without them, and `checks` names the generation
 * of checks a running sweep started under.
 */
export function parseSweepSpec(raw: Json, { strict = true, checks = LATEST_SPEC_CHECKS }: { strict?: boolean; checks?: SpecChecks } = {}): SweepSpec {
  if (!isObject(raw)) throw new SpecError(['the spec must be a JSON object, e.g. {"name": ..., "data": {...}, "grid": {...}}']);
  const problems: string[] = [];
  const at = new Reader(raw, problems);

  const data = at.object('data');
  const classes = at.optionalStringList('data.classes', data?.classes);
  const backbone = parseBackbone(at);
  const catalogued = backbone.name === undefined ? undefined : catalogueBackbone(backbone.name);
  const searched = raw.search === undefined ? undefined : parseSearchSection(raw.search);
  problems.push(...searched?.problems ?? []);
  if (searched && raw.grid !== undefined) {
    at.problem('grid', 'a spec has either grid or search, not both; move the grid into search.space as choices ({"method": "grid", "space": {"lr": {"type": "choice", "values": [...]}}}) or drop one');
  }
  const spec: SweepSpec = {
    name: at.string('name', raw.name, 'sweep', /^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", at most 64'),
    data: {
      source: at.string('data.source', data?.source, undefined, /\S/, 'a folder, .zip/.tar.gz file or URL, or s3:// prefix'),
      classes,
      maxBadFraction: at.number('data.maxBadFraction', data?.maxBadFraction, 0.05, { min: 0, max: 1 }),
    },
    balance: { perClass: at.number('balance.perClass', at.object('balance')?.perClass, 600, { min: 3, integer: true }) },
    split: {
      train: at.number('split.train', at.object('split')?.train, 0.7, { min: 0, max: 1, exclusiveMin: true }),
      val: at.number('split.val', at.object('split')?.val, 0.15, { min: 0, max: 1, exclusiveMin: true }),
      test: at.number('split.test', at.object('split')?.test, 0.15, { min: 0, max: 1, exclusiveMin: true }),
    },
    image: {
      size: at.number('image.size', at.object('image')?.size, catalogued?.inputSize ?? 224, { min: 8, max: 1024, integer: true }),
      resize: 0,
    },
    augmentation: {
      enabled: at.boolean('augmentation.enabled', at.object('augmentation')?.enabled, true),
      hflip: at.boolean('augmentation.hflip', at.object('augmentation')?.hflip, true),
      rotationDeg: at.number('augmentation.rotationDeg', at.object('augmentation')?.rotationDeg, 30, { min: 0, max: 180 }),
      minScale: at.number('augmentation.minScale', at.object('augmentation')?.minScale, 0.5, { min: 0.05, max: 1 }),
      colorJitter: at.number('augmentation.colorJitter', at.object('augmentation')?.colorJitter, 0.1, { min: 0, max: 1 }),
      views: at.number('augmentation.views', at.object('augmentation')?.views, 0, { min: 0, integer: true }),
    },
    backbone,
    grid: searched ? searched.grid : parseGrid(at, raw.grid),
    ...(searched?.search ? { search: searched.search } : {}),
    seed: at.number('seed', raw.seed, 42, { integer: true, min: 0 }),
    concurrency: at.number('concurrency', raw.concurrency, 2, { min: 1, max: 256, integer: true }),
    heartbeatTimeoutSeconds: at.number('heartbeatTimeoutSeconds', raw.heartbeatTimeoutSeconds, 60, { min: 5, max: 3600, integer: true }),
    checkpointEverySeconds: at.number('checkpointEverySeconds', raw.checkpointEverySeconds, DEFAULT_CHECKPOINT_EVERY_SECONDS, { min: 0, max: 3600 }),
    taskQueues: {
      cpu: at.string('taskQueues.cpu', at.object('taskQueues')?.cpu, 'sweep-cpu', /^\S+$/, 'a task queue name'),
      gpu: at.string('taskQueues.gpu', at.object('taskQueues')?.gpu, 'sweep-gpu', /^\S+$/, 'a task queue name'),
      ...(searched?.search?.method === 'bayesian'
        ? { suggest: at.string('taskQueues.suggest', at.object('taskQueues')?.suggest, 'sweep-suggest', /^\S+$/, 'a task queue name') }
        : {}),
    },
    maxTrials: at.number('maxTrials', raw.maxTrials, 256, { min: 1, integer: true }),
    reuse: at.boolean('reuse', raw.reuse, true),
  };
  // Against a size that was refused, a resize would be judged by the default size, not the user's.
  const sizeRefused = problems.some((p) => p.startsWith('image.size:'));
  spec.image.resize = at.number('image.resize', at.object('image')?.resize, Math.round(spec.image.size * 256 / 224), {
    min: sizeRefused ? 8 : spec.image.size, max: 4096, integer: true,
  });

  if (catalogued && spec.image.size < catalogued.minInputSize) {
    problems.push(`image.size: ${spec.image.size} is too small for ${catalogued.name}, which needs at least ${catalogued.minInputSize} (it was trained at ${catalogued.inputSize}); raise image.size`);
  }
  const fractionSum = spec.split.train + spec.split.val + spec.split.test;
  if (Math.abs(fractionSum - 1) > 1e-6) {
    problems.push(`split: train + val + test must add up to 1, they add up to ${round(fractionSum)}; e.g. {"train": 0.7, "val": 0.15, "test": 0.15}`);
  }
  if (classes && classes.length < 2) problems.push('data.classes: need at least 2 classes to train a classifier');
  if (classes && new Set(classes).size !== classes.length) problems.push('data.classes: a class is listed twice');
  const numClasses = spec.grid.num_classes;
  if (classes && classes.length >= 2 && numClasses && numClasses.some((n) => n !== classes.length)) {
    problems.push(`grid.num_classes: ${JSON.stringify(numClasses)} disagrees with data.classes, which lists ${classes.length} classes; use [${classes.length}] or leave num_classes out`);
  }
  const trials = trialCount(spec);
  if (trials > spec.maxTrials) {
    problems.push(spec.search
      ? `search.budget: ${trials} trials is more than maxTrials (${spec.maxTrials}); lower the budget or raise maxTrials`
      : `grid: ${trials} permutations is more than maxTrials (${spec.maxTrials}); shrink the grid or raise maxTrials`);
  }
  if (strict) problems.push(...specMistakes(raw, spec, maxTrialEpochs(spec), checks));
  if (problems.length) throw new SpecError(problems);
  return spec;
}

/** A user's model by uri, or a catalogue backbone by name, whose entry fills what the spec leaves out. */
function parseBackbone(at: Reader): BackboneSpec {
  const b = at.object('backbone');
  const known = catalogueNames().join(', ');
  const name = b?.name === undefined ? undefined : at.string('backbone.name', b.name, '', /\S/, `a catalogue backbone: ${known}`);
  const entry = name ? catalogueBackbone(name) : undefined;
  if (name && !entry) at.problem('backbone.name', `"${name}" is not in the catalogue; known backbones: ${known}. For your own model set backbone.uri to its model.json instead`);
  const format = b?.format ?? entry?.format ?? 'layers';
  if (format !== 'layers' && format !== 'graph') at.problem('backbone.format', `must be "layers" or "graph", not ${JSON.stringify(format)}`);
  else if (entry && format !== entry.format) at.problem('backbone.format', `${entry.name} is a "${entry.format}" model; leave backbone.format out`);
  const uri = name !== undefined && b?.uri === undefined
    ? catalogueUri(name)
    : at.string('backbone.uri', b?.uri, undefined, /\S/, `a model.json URL (file://, http(s)://, s3://), or give a catalogue backbone by name instead: {"name": "${catalogueNames()[0]}"} (${known})`);
  const linked = catalogueNameOf(uri);
  if (linked !== undefined && linked !== name) at.problem('backbone.uri', `"${uri}" is not a model location; name a catalogue backbone with {"name": "${linked}"}`);
  return {
    ...(name === undefined ? {} : { name }),
    uri,
    format: format === 'graph' ? 'graph' : 'layers',
    featureLayer: b?.featureLayer === undefined ? entry?.featureLayer : at.string('backbone.featureLayer', b.featureLayer, undefined, /\S/, 'a layer name'),
    mean: at.triple('backbone.mean', b?.mean, entry?.mean ?? IMAGENET_MEAN),
    std: at.triple('backbone.std', b?.std, entry?.std ?? IMAGENET_STD, true),
  };
}

/**
 * Why `id` cannot be a new sweep's id, or undefined. The id is a folder of the artifact store
 * (sweeps/<id>/...) and names files, so "/" would put one sweep's artifacts inside another's.
 */
export function sweepIdProblem(id: string): string | undefined {
  if (/^[A-Za-z0-9._-]{1,128}$/.test(id) && !/^\.+$/.test(id)) return undefined;
  return `sweep id ${JSON.stringify(id)} is not valid: give letters, digits, ".", "_" or "-" (not only dots), at most 128; it names the sweep's folder of artifacts`;
}

/** How many trials the sweep runs. */
export function trialCount(spec: SweepSpec): number {
  return spec.search?.budget ?? gridSize(spec.grid);
}

/** What trials are ranked by: the search's objective, else validation accuracy, maximised. */
export function objectiveOf(spec: SweepSpec): Objective {
  return spec.search?.objective ?? DEFAULT_OBJECTIVE;
}

/** The hyperparameters the sweep varies, in the spec's order. */
export function searchedNames(spec: SweepSpec): string[] {
  return Object.keys(spec.search?.space ?? spec.grid);
}

/**
 * The head hyperparameters a sweep neither lists nor searches, at the default every trial trains with
 * (num_classes comes from the data; under ASHA, n_epochs is earlyStopping.maxEpochs).
 */
export function fixedHeadParams(spec: SweepSpec): Array<[string, number]> {
  const named = new Set(searchedNames(spec));
  const asha = spec.search?.earlyStopping?.rule === 'asha';
  return Object.entries(HEAD_PARAM_DEFAULTS).filter(([name]) => !named.has(name) && !(asha && name === 'n_epochs'));
}

/** The grid's or space's keys that are no head hyperparameter: labels, recorded with the results. */
export function labelNames(spec: SweepSpec): string[] {
  return searchedNames(spec).filter((name) => headParamLimit(name) === undefined);
}

/** Epochs of the longest trial: ASHA's maxEpochs, else the largest n_epochs the grid or space allows. */
export function maxTrialEpochs(spec: SweepSpec): number {
  const stopping = spec.search?.earlyStopping;
  if (stopping?.rule === 'asha') return stopping.maxEpochs;
  return largestValue('n_epochs', spec.grid, spec.search?.space) ?? HEAD_PARAM_DEFAULTS.n_epochs;
}

function parseGrid(at: Reader, raw: Json): Grid {
  if (!isObject(raw) || Object.keys(raw).length === 0) {
    at.problem('grid', 'must be an object of hyperparameter name -> list of values, e.g. {"hidden_units": [256, 512], "dropout": [0.4, 0.5]}, or use a search section instead: {"method": "random", "budget": 20, "space": {...}}');
    return {};
  }
  const grid: Grid = {};
  for (const [name, values] of Object.entries(raw)) {
    const field = `grid.${name}`;
    if (!Array.isArray(values) || values.length === 0) {
      const example = isParamValue(values) ? values : Object.hasOwn(HEAD_PARAM_DEFAULTS, name) ? HEAD_PARAM_DEFAULTS[name as keyof typeof HEAD_PARAM_DEFAULTS] : 1;
      at.problem(field, `must be a non-empty list of values, e.g. [${JSON.stringify(example)}]`);
      continue;
    }
    if (!values.every(isParamValue)) {
      at.problem(field, 'values must be numbers, strings or booleans');
      continue;
    }
    if (RESULT_COLUMNS.includes(name) || name === '__proto__') {
      at.problem(field, `"${name}" is reserved (a results column or JavaScript name); rename the hyperparameter`);
      continue;
    }
    if (new Set(values).size !== values.length) at.problem(field, 'lists a value twice; each value makes a trial, so list it once');
    const limit = headParamLimit(name);
    for (const v of values as ParamValue[]) {
      if (limit && !withinHeadLimit(limit, v)) at.problem(field, `${JSON.stringify(v)} must be ${limit.text}`);
    }
    grid[name] = values as ParamValue[];
  }
  return grid;
}

function isObject(v: Json): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Reads fields with defaults, recording a problem per bad field instead of stopping at the first. */
class Reader {
  constructor(private readonly raw: Record<string, any>, private readonly problems: string[]) {}

  /** Records a problem once: a section that is not an object is read once per field. */
  problem(field: string, what: string): void {
    const problem = `${field}: ${what}`;
    if (!this.problems.includes(problem)) this.problems.push(problem);
  }

  object(field: string): Record<string, any> | undefined {
    const v = field.split('.').reduce<any>((o, k) => (isObject(o) ? o[k] : undefined), this.raw);
    if (v === undefined) return undefined;
    if (!isObject(v)) {
      this.problem(field, 'must be an object');
      return undefined;
    }
    return v;
  }

  string(field: string, v: Json, fallback: string | undefined, pattern: RegExp, expected: string): string {
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || !pattern.test(v)) {
      this.problem(field, v === undefined ? `is required: ${expected}` : `${JSON.stringify(v)} is not valid: ${expected}`);
      return fallback ?? '';
    }
    return v;
  }

  number(field: string, v: Json, fallback: number, r: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean }): number {
    if (v === undefined) return fallback;
    const ok = typeof v === 'number' && Number.isFinite(v) && (!r.integer || Number.isInteger(v)) &&
      (r.min === undefined || (r.exclusiveMin ? v > r.min : v >= r.min)) && (r.max === undefined || v <= r.max);
    if (!ok) {
      const range = [r.min !== undefined ? `${r.exclusiveMin ? '>' : '>='} ${r.min}` : '', r.max !== undefined ? `<= ${r.max}` : ''].filter(Boolean).join(' and ');
      this.problem(field, `${JSON.stringify(v)} is not valid: expected ${r.integer ? 'an integer' : 'a number'}${range ? ' ' + range : ''} (default ${fallback})`);
      return fallback;
    }
    return v as number;
  }

  boolean(field: string, v: Json, fallback: boolean): boolean {
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      this.problem(field, `${JSON.stringify(v)} is not valid: expected true or false`);
      return fallback;
    }
    return v;
  }

  optionalStringList(field: string, v: Json): string[] | undefined {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s.length > 0 && !s.includes('/'))) {
      this.problem(field, 'must be a list of class folder names, e.g. ["daisy", "rose", "sunflower", "tulip"]');
      return undefined;
    }
    return v;
  }

  triple(field: string, v: Json, fallback: [number, number, number], positive = false): [number, number, number] {
    if (v === undefined) return fallback;
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))) {
      this.problem(field, `must be three ${positive ? 'positive ' : ''}numbers (R, G, B), e.g. ${JSON.stringify(fallback)}`);
      return fallback;
    }
    return v as [number, number, number];
  }
}
