// The commands that take a sweep id describe it first. The Web UI lists a sweep's trial and training
// lease workflows beside it, and their ids work as workflow ids, so one pasted by mistake would be read
// as a sweep: a trial's summary printed as the leaderboard, a crash on its missing fields.
import { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
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
