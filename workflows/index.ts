// The workflows' public face. Workers bundle this module; clients (CLI, tests, benchmark) import the
// workflow functions from it for their names and types, and the contract for queries and results.
export { sweepWorkflow } from './sweep';
export { trialWorkflow } from './trial';
export { trainingLeaseWorkflow } from './training-lease';
export * from './contract';
