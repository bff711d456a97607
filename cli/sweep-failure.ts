// A failed sweep in one line a person can act on: the stage, the step, the reason and what to do,
// read from the failure chain Temporal returns (workflow failure -> activity failure -> application
// failure), instead of the raw error object with nested stack traces.
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/common';
import { FailureType } from '../lib/errors';
import { visible } from '../lib/visible-text';

/** The stable failure document (`--json`). */
export interface SweepFailure {
  sweepId: string;
  /** The DAG stage that failed, as `sweep status` names stages. */
  stage: string;
  /** The activity (or workflow step) that failed. */
  step: string;
  /** The failure type (SpecError, SourceError, DataError, MissingArtifact, ...), when the step named one. */
  type?: string;
  reason: string;
  /** What to do about it. */
  fix: string;
}

const STAGE_OF_STEP: Record<string, string> = {
  ingestDataset: 'ingesting',
  checkBackbone: 'loading the backbone',
  balanceDataset: 'balancing',
  splitDataset: 'splitting',
  extractFeatures: 'extracting features',
  suggestTrials: 'suggesting trials',
  planTrials: 'planning trials',
  writeTensorboardExperiment: 'planning trials',
  trainTrial: 'training',
  evaluateTrial: 'training',
  exportModel: 'exporting the best model',
  rankSweep: 'ranking',
};

function fixFor(type: string | undefined, sweepId: string): string {
  switch (type) {
    case FailureType.spec: return 'fix the spec (`sweep validate <spec>` checks it without starting anything) and start it again';
    case FailureType.sweepId: return 'start it again with a workflow id of letters, digits, ".", "_" or "-" (`sweep start` makes one)';
    case FailureType.source:
    case FailureType.data: return 'fix the data as the reason says, then start the sweep again (under a new id): finished steps are reused';
    case FailureType.backbone: return 'fix backbone in the spec (uri: a model.json every GPU worker can read; format; featureLayer) as the reason says, then start the sweep again (under a new id): finished steps are reused';
    case FailureType.missingArtifact: return 'start the sweep again with the same spec (under a new id): missing outputs are made again and trials resume from their checkpoints';
    default: return `see \`sweep status ${sweepId}\` and the workers' logs; starting the sweep again with the same spec reuses everything that finished`;
  }
}

/** Reads the failure chain of a failed sweep workflow (a WorkflowFailedError or its cause). */
export function describeSweepFailure(sweepId: string, error: unknown): SweepFailure {
  let step = 'sweepWorkflow';
  let type: string | undefined;
  let reason = error instanceof Error ? error.message : String(error);
  for (let e = error as Error | undefined; e; e = (e as { cause?: Error }).cause) {
    if (e instanceof ActivityFailure && e.activityType) step = e.activityType;
    if (e instanceof ChildWorkflowFailure && e.workflowType) step = e.workflowType;
    if (e instanceof ApplicationFailure) type = e.type ?? type;
    reason = e.message || reason;
  }
  // A spec refused by the workflow's first step fails before any activity ran.
  const stage = type === FailureType.spec || type === FailureType.sweepId ? 'validating' : STAGE_OF_STEP[step] ?? 'running';
  return { sweepId, stage, step, ...(type ? { type } : {}), reason: reason.replace(/\s*\n\s*/g, ' '), fix: fixFor(type, sweepId) };
}

export function failureLine(f: SweepFailure): string {
  return `sweep ${f.sweepId} failed while ${f.stage} (step ${f.step}${f.type ? `, ${f.type}` : ''}): ${visible(f.reason)} · what to do: ${f.fix}`;
}
