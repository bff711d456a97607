// Build B of redeploy.test.ts: the product's workflows, unchanged but for a memo that marks every run
// this bundle executes, so the test can tell from a workflow which build's code ran it.
import { upsertMemo } from '@temporalio/workflow';
import * as product from '../../workflows';

export * from '../../workflows/contract';

export const BUILD_B_MEMO = { redeployBuild: 'B' };

export async function sweepWorkflow(...args: Parameters<typeof product.sweepWorkflow>): ReturnType<typeof product.sweepWorkflow> {
  upsertMemo(BUILD_B_MEMO);
  return product.sweepWorkflow(...args);
}

export async function trialWorkflow(...args: Parameters<typeof product.trialWorkflow>): ReturnType<typeof product.trialWorkflow> {
  upsertMemo(BUILD_B_MEMO);
  return product.trialWorkflow(...args);
}

export async function trainingLeaseWorkflow(...args: Parameters<typeof product.trainingLeaseWorkflow>): ReturnType<typeof product.trainingLeaseWorkflow> {
  upsertMemo(BUILD_B_MEMO);
  return product.trainingLeaseWorkflow(...args);
}
