// The workflows with one deliberate non-deterministic change: the sweep sleeps before its first step,
// so its first command is a timer where recorded histories have an activity. The replay test must
// reject it; if it does not, the replay test proves nothing.
import { sleep } from '@temporalio/workflow';
import { sweepWorkflow as recorded } from '../../workflows/sweep';

export * from '../../workflows';

export async function sweepWorkflow(rawSpec: unknown): ReturnType<typeof recorded> {
  await sleep('1 second');
  return recorded(rawSpec);
}
