// Activities by task queue: data and ranking on CPU workers, backbone and head work on GPU workers.
// Each workflow proxy is typed by its own queue's group, so a GPU step sent to the CPU queue does not compile.
import { balanceDataset, splitDataset } from './dataset-steps';
import { evaluateTrial } from './evaluate';
import { exportModel } from './export';
import { checkBackbone, extractFeatures } from './features';
import { ingestDataset } from './ingest';
import { planTrials } from './plan';
import { writeReport } from './report';
import { rankSweep, writeTrialPart } from './results';
import { writeTensorboardExperiment } from './tensorboard-events';
import { trainTrial } from './train';

export const cpuActivities = { ingestDataset, balanceDataset, splitDataset, planTrials, rankSweep, writeTrialPart, writeReport, writeTensorboardExperiment };
export const gpuActivities = { checkBackbone, extractFeatures, trainTrial, evaluateTrial, exportModel };
