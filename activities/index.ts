// Activities by task queue: data and ranking on CPU workers, backbone and head work on GPU workers.
export { ingestDataset } from './ingest';
export { balanceDataset, splitDataset } from './dataset-steps';
export { planTrials } from './plan';
export { rankSweep } from './results';
export { writeReport } from './report';
export { extractFeatures } from './features';
export { trainTrial } from './train';
export { writeTensorboardExperiment } from './tensorboard-events';
export { evaluateTrial } from './evaluate';
export { exportModel } from './export';
