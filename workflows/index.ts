export { sweepWorkflow, progressQuery } from './sweep';
export { trialWorkflow } from './trial';
export { trainingLeaseWorkflow } from './training-lease';
