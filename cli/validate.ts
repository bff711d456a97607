// `sweep validate <spec>`: everything `sweep start` would check before starting, and a look at the
// data, without starting anything: the spec (every problem at once), the trial count, and what
// ingestion would find in the data source (images per class, files it would skip and why).
import { surveyDataSource } from '../activities/ingest';
import { dataFitProblem } from '../lib/data-fit';
import { DataSummary, formatDataSummary } from '../lib/data-summary';
import { SweepSpec, fixedHeadParams, labelNames, parseSweepSpec, searchedNames, trialCount } from '../lib/sweep-spec';
import { tpeSuggestedTrials } from '../lib/search/tpe-batches';
import { SKIP } from '../lib/dataset-layout';
import { MIN_IMAGES_PER_CLASS } from '../lib/split';
import { hasNoStorageCredentials, isStorageLost, isStorageUnreachable } from '../platform/s3-store';
import { EXIT, UsageError } from './commands';
import { readSpecFile } from './spec-file';

/** The stable `sweep validate --json` document. */
export interface ValidateDocument {
  spec: string;
  name: string;
  trials: number;
  /** What ingestion would find; absent for a remote archive, which only ingestion fetches. */
  data?: DataSummary;
  notes: string[];
}

export async function validate(specFile: string, json: boolean): Promise<number> {
  const spec = parseSweepSpec(readSpecFile(specFile));
  const trials = trialCount(spec);
  // The data source's problems are the spec's (exit 2); an unreachable or unauthenticated store is not (exit 1, said as such).
  const survey = await surveyDataSource(spec.data).catch((error: Error) => { throw isStorageUnreachable(error) || isStorageLost(error) || hasNoStorageCredentials(error) ? error : new UsageError(error.message); });
  const doc: ValidateDocument = { spec: specFile, name: spec.name, trials, ...('remote' in survey ? {} : { data: survey }), notes: 'remote' in survey ? [survey.remote] : [] };
  const randomBayesian = bayesianWithoutTpe(spec);
  if (randomBayesian) doc.notes.push(randomBayesian);
  if (json) {
    console.log(JSON.stringify(doc, null, 2));
  } else {
    const fixed = fixedHeadParams(spec);
    const labels = labelNames(spec);
    console.log([
      `${specFile}: valid; sweep "${spec.name}" would run ${trials} trial${trials === 1 ? '' : 's'}${spec.search ? ` (${spec.search.method} search)` : ''} over ${searchedNames(spec).join(', ')}, ${spec.concurrency} at a time`,
      // What a left-out or misplaced key means is easy to miss in the spec: say it before anything trains.
      ...fixed.length ? [`every trial trains with the default ${fixed.map(([name, value]) => `${name} ${value}`).join(', ')} (not in the ${spec.search ? 'space' : 'grid'})`] : [],
      ...labels.length ? [`label${labels.length > 1 ? 's' : ''} ${labels.join(', ')}: recorded with the results and changing each trial's random seed; the head does not read ${labels.length > 1 ? 'them' : 'it'}`] : [],
      ...randomBayesian ? [randomBayesian] : [],
      doc.data ? `data: ${formatDataSummary(doc.data)}` : `data: ${doc.notes[0]}`,
      'nothing was started; `sweep start` runs it',
    ].join('\n'));
  }
  const problem = doc.data && (ingestionProblem(doc.data, spec.data.maxBadFraction)
    ?? dataFitProblem(Object.keys(doc.data.counts), spec.balance.perClass, (spec.grid.num_classes ?? []).map(Number)));
  if (problem) throw new UsageError(`${specFile}: ${problem}`);
  return EXIT.ok;
}

/**
 * A bayesian search whose default start-up trials leave TPE no trial to suggest: a random search in
 * effect. Said, not refused (start-up trials set so are refused by the spec checks): the default is the
 * product's choice, and a tiny bayesian sweep that only tries the path is fine.
 */
function bayesianWithoutTpe(spec: SweepSpec): string | undefined {
  const search = spec.search;
  if (search?.method !== 'bayesian' || search.startupTrials !== undefined) return undefined;
  const tpe = tpeSuggestedTrials(search, spec.concurrency);
  if (tpe.trials > 0) return undefined;
  return `bayesian search: the space's default ${tpe.startup} start-up trials leave a budget of ${search.budget} at concurrency ${spec.concurrency} no trial for TPE to suggest ` +
    `(each batch is suggested from the batches finished before it), so every trial will be random; for TPE, a budget of at least ${tpe.budgetNeeded}, or fewer search.startupTrials`;
}

/** What would make ingestion fail on this data, as ingestion would say it. */
function ingestionProblem(data: DataSummary, maxBadFraction: number): string | undefined {
  const empty = Object.entries(data.counts).filter(([, n]) => n === 0).map(([c]) => c);
  if (empty.length) return `no usable images in class ${empty.join(', ')}; add images to the class folder or leave the class out of data.classes`;
  const few = Object.entries(data.counts).filter(([, n]) => n < MIN_IMAGES_PER_CLASS).map(([c, n]) => `"${c}" has ${n}`);
  if (few.length) {
    return `class ${few.join(', ')} distinct image(s); each class needs at least ${MIN_IMAGES_PER_CLASS} (one per split: copies of one image stay in one split), ` +
      'so the split step would refuse it: add images to the class folder or leave the class out of data.classes';
  }
  const unreadable = data.skippedByReason[SKIP.unreadable] ?? 0;
  // As ingestion counts: every decodable file, duplicates included, plus the unreadable ones.
  const decoded = Object.values(data.counts).reduce((a, b) => a + b, 0) + (data.skippedByReason[SKIP.duplicate] ?? 0) + (data.skippedByReason[SKIP.conflict] ?? 0);
  const images = unreadable + decoded;
  if (images && unreadable / images > maxBadFraction) {
    return `${unreadable} of ${images} image files cannot be decoded, more than data.maxBadFraction = ${maxBadFraction}; ` +
      'remove or re-export the broken files, or raise data.maxBadFraction to train without them';
  }
  return undefined;
}
