// What the Temporal Web UI shows for a sweep and its trials without anyone reading JSON: a one-line
// static summary and markdown details at start, and the sweep's current details (stage, counts,
// leaderboard so far) that the workflow refreshes as trials finish. Pure, used inside workflows.
import { DataSummary, formatDataSummary } from '../lib/data-summary';
import { Grid, ParamValue, Params } from '../lib/grid';
import { Domain } from '../lib/search/space';
import { SearchSpec } from '../lib/search/search-spec';
import { alignColumns, num, paramText, pct, rankedOtherwise } from './leaderboard-table';
import { stopReasonLines } from './stop-reasons';
import { LiveLeaderboard, boardCounts } from '../lib/live-leaderboard';
import { SweepSpec, searchedNames, trialCount } from '../lib/sweep-spec';
import { TrialPlan } from '../lib/sweep-types';
import { codeFence, visible } from '../lib/visible-text';

/** How many leaderboard rows the current details show; the `leaderboard` query has them all. */
const DETAILS_ROWS = 10;

/** Values as the details list them: every digit (they are the spec's), control characters escaped. */
const valueList = (values: readonly ParamValue[]) => values.map((v) => visible(String(v))).join(', ');

export function formatParams(params: Params, sep = ' '): string {
  return Object.entries(params).map(([k, v]) => `${visible(k)}=${paramText(v)}`).join(sep);
}

/** Start options for the sweep workflow (`staticSummary`, `staticDetails`). */
export function sweepStartMetadata(spec: SweepSpec): { staticSummary: string; staticDetails: string } {
  const trials = trialCount(spec);
  return {
    staticSummary: `sweep ${spec.name}: ${trials} trials over ${searchedNames(spec).map(visible).join(', ')} on ${backboneName(spec.backbone.uri)}`,
    // Blank lines between blocks: the Web UI's markdown joins adjacent lines into one paragraph.
    staticDetails: [
      `**Data** ${spec.data.source} · ${spec.balance.perClass} images per class · split train ${spec.split.train}, val ${spec.split.val}, test ${spec.split.test} · seed ${spec.seed}`,
      `**Backbone** ${spec.backbone.uri} · images ${spec.image.size}px · augmentation ${spec.augmentation.enabled ? `${spec.augmentation.views || 'one'} view(s)` : 'off'}`,
      spec.search ? searchDetails(spec.search, spec.concurrency)
        : `**Grid** (${trials} trials, ${spec.concurrency} at a time)\n\n${Object.entries(spec.grid).map(([name, values]) => `- ${visible(name)}: ${valueList(values)}`).join('\n')}`,
      'Live progress: the `SweepTrials*` and `SweepBestValAccuracy` search attributes, Current Details, the `leaderboard` query, and `sweep watch <id>`.',
    ].join('\n\n'),
  };
}

function searchDetails(search: SearchSpec, concurrency: number): string {
  const { objective, earlyStopping: stopping } = search;
  const rule = !stopping ? 'none'
    : stopping.rule === 'asha' ? `ASHA (grace ${stopping.gracePeriod}, reduction ${stopping.reductionFactor}, max ${stopping.maxEpochs} epochs)`
      : `median rule (from epoch ${stopping.minEpochs}${(stopping.intervalEpochs ?? 1) > 1 ? `, every ${stopping.intervalEpochs} epochs` : ''}, ${stopping.minTrials} trials)`;
  return [
    `**Search** ${search.method}, ${search.budget} trials, ${concurrency} at a time · objective ${objective.metric} (${objective.direction}) · ` +
      `keeps each trial's ${search.keepBestEpoch ? 'best' : 'last'} epoch · early stopping ${rule}`,
    Object.entries(search.space).map(([name, domain]) => `- ${visible(name)}: ${describeDomain(domain)}`).join('\n'),
  ].join('\n\n');
}

function describeDomain(domain: Domain): string {
  switch (domain.type) {
    case 'choice': return valueList(domain.values);
    case 'int': return `${domain.low} to ${domain.high}${domain.step === 1 ? '' : ` in steps of ${domain.step}`}`;
    default: return `${domain.type} in [${domain.low}, ${domain.high})`;
  }
}

/** Start options for a trial's child workflow. */
export function trialStartMetadata(plan: TrialPlan, spec: SweepSpec, sweepId: string): { staticSummary: string; staticDetails: string } {
  const trialsTotal = trialCount(spec);
  return {
    staticSummary: `run ${plan.run} of ${trialsTotal}: ${formatParams(plan.params)}`,
    staticDetails: [
      `**Trial** ${plan.trialId} (run ${plan.run} of ${trialsTotal}) in sweep ${sweepId}`,
      Object.entries(plan.params).map(([name, value]) => `- ${visible(name)}: ${visible(String(value))}`).join('\n'),
      `${trainingText(plan.head.n_epochs, spec)} The trainTrial activity's heartbeat details (Pending Activities) hold the current epoch and metrics.`,
    ].join('\n\n'),
  };
}

/** The parameters' text in a trial's summary (trialStartMetadata's), for a reader that has only the summary. */
export function trialSummaryParams(summary: string): string {
  return summary.replace(/^run \d+ of \d+: /, '');
}

/** How a trial trains, as activities/train.ts does it: the epochs, where early stopping may end them, when a checkpoint is stored. */
function trainingText(epochs: number, spec: Pick<SweepSpec, 'checkpointEverySeconds' | 'search'>): string {
  const stopping = spec.search?.earlyStopping;
  const every = spec.checkpointEverySeconds;
  const checkpoints = every === 0 ? 'after every epoch'
    : `at the end of an epoch once ${every} s have passed since the last one, and at ${stopping ? 'every decision epoch and ' : ''}the last epoch`;
  return `Trains ${stopping ? `up to ${epochs} epochs (early stopping, ${stopping.rule === 'asha' ? 'ASHA' : 'the median rule'}, may stop it at a decision epoch)` : `${epochs} epochs`}` +
    `, checkpointed ${checkpoints}, then scores the test split.`;
}

// The UI's markdown turns "2/2" into a fraction glyph, hence "2 of 2" in the texts below.

/**
 * The sweep's current details: stage and counts, then the leaderboard so far with a column for each
 * hyperparameter the grid varies (the fixed ones are in the static details).
 */
export function sweepCurrentDetails(board: LiveLeaderboard, grid: Grid, data?: DataSummary): string {
  const counts = boardCounts(board);
  const done = board.ranked.length;
  const best = board.ranked[0];
  const varied = Object.keys(grid).filter((name) => grid[name].length > 1);
  const lines = [
    `**${board.stage}** · ${counts.ranked} of ${board.trialsTotal} trials done · ${board.running.length} running · ${counts.failed + counts.cancelled} not completed` +
      (best ? ` · best val accuracy ${pct(best.valAccuracy)}${best.bestEpoch === undefined ? '' : ` at epoch ${best.bestEpoch}`} (run ${best.run}${rankedOtherwise(board.objective)})` : ''),
  ];
  if (data) lines.push('', `**Data** ${formatDataSummary(data)}`);
  if (board.running.length) lines.push('', `Training: ${board.running.map((r) => `run ${r.run}`).join(', ')}`);
  if (done) {
    // A code block: the UI's markdown tables have no cell padding, a monospace block lines up.
    const rows = board.ranked.slice(0, DETAILS_ROWS).map((t, i) =>
      [String(i + 1), String(t.run), ...varied.map((name) => paramText(t.params[name])), pct(t.valAccuracy), num(t.valLoss), pct(t.test?.accuracy)]);
    const table = alignColumns(['rank', 'run', ...varied, 'val_acc', 'val_loss', 'test_acc'], rows);
    lines.push('', codeFence(table), table, codeFence(table));
    if (counts.ranked > DETAILS_ROWS) lines.push('', `… and ${counts.ranked - DETAILS_ROWS} more (${board.unlisted ? 'leaderboard.json has them all when the sweep ends' : 'the `leaderboard` query has them all'})`);
  }
  const everyReason = board.unlisted ? 'leaderboard.json has every reason when the sweep ends' : 'the `leaderboard` query has every reason';
  for (const line of stopReasonLines(board.ranked, everyReason, board.unlisted?.stopped)) lines.push('', line);
  for (const t of board.notCompleted) lines.push('', `run ${t.run} ${t.status}: ${visible(t.error ?? '')}`);
  return lines.join('\n');
}

function backboneName(uri: string): string {
  const parts = uri.replace(/\/model\.json$/, '').split('/');
  return parts[parts.length - 1] || uri;
}
