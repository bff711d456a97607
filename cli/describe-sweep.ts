// The commands that take a sweep id describe it first. The Web UI lists a sweep's trial and training
// lease workflows beside it, and their ids work as workflow ids, so one pasted by mistake would be read
// as a sweep: a trial's summary printed as the leaderboard, a crash on its missing fields.
import { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { fromPayloadsAtIndex } from '@temporalio/common';
import { SweepSpec, parseSweepSpec } from '../lib/sweep-spec';
import { sweepWorkflow } from '../workflows';
import { UsageError } from './commands';

/** The sweep's description; another workflow's id is a usage error that names its sweep when it has one. */
export async function describeSweep(handle: WorkflowHandle): Promise<WorkflowExecutionDescription> {
  const description = await handle.describe();
  if (description.type !== sweepWorkflow.name) {
    const sweep = description.rootExecution?.workflowId ?? description.parentExecution?.workflowId;
    throw new UsageError(`${handle.workflowId} is a ${description.type}, not a sweep${sweep && sweep !== handle.workflowId ? ` (its sweep is ${sweep})` : ''}; give a sweep's id: \`sweep list\` shows them`);
  }
  return description;
}

/**
 * The spec the sweep's current run started with (its first event's input; a continued run is given the
 * same spec), parsed without the strict checks, which its generation may not have had. For what the
 * server's search attributes do not hold (the objective) when the sweep does not answer. Undefined
 * without an input; a history the server does not give, or a spec that does not parse (its sweep
 * failed at the first step), throws, and the caller goes on without it.
 */
export async function startedSpec(client: Client, sweep: Pick<WorkflowExecutionDescription, 'workflowId' | 'runId'>): Promise<SweepSpec | undefined> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace, execution: { workflowId: sweep.workflowId, runId: sweep.runId }, maximumPageSize: 1,
  });
  const payloads = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
  if (!payloads?.length) return undefined;
  return parseSweepSpec(fromPayloadsAtIndex(client.options.loadedDataConverter.payloadConverter, 0, payloads), { strict: false });
}
