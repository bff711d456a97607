export { sweepWorkflow, progressQuery } from './sweep';
export { trialWorkflow } from './trial';
