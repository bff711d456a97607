// Chooses the TensorFlow.js backend once per process: tfjs-node-gpu when installed and a GPU is
// visible, then tfjs-node, then WebAssembly, then plain JS. SWEEP_TF_BACKEND forces one.
import util from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { tensorflowThreads } from '../platform/config';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  name: BackendName;
  /** What was tried and why it was passed over, for the logs and the results. */
  notes: string[];
}

let chosen: Promise<BackendInfo> | undefined;

export function initTensorflow(): Promise<BackendInfo> {
  chosen ??= chooseBackend();
  return chosen;
}

const ORDER: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

async function chooseBackend(): Promise<BackendInfo> {
  const forced = process.env.SWEEP_TF_BACKEND as BackendName | undefined;
  if (forced && !ORDER.includes(forced)) throw new Error(`SWEEP_TF_BACKEND=${forced} is not one of ${ORDER.join(', ')}`);
  const notes: string[] = [];
  for (const name of forced ? [forced] : ORDER) {
    try {
      await activate(name);
      return { name, notes };
    } catch (error) {
      notes.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
      if (forced) throw new Error(`SWEEP_TF_BACKEND=${forced} is not available here: ${notes.join('; ')}`);
    }
  }
  throw new Error(`no TensorFlow.js backend is available: ${notes.join('; ')}`);
}

async function activate(name: BackendName): Promise<void> {
  // TensorFlow's C++ start-up chatter (oneDNN, CPU features) is noise in worker logs.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // Read by the native library when it loads, so set before tfjs-node is required.
  process.env.TF_NUM_INTRAOP_THREADS = String(tensorflowThreads());
  switch (name) {
    case 'tensorflow-gpu': {
      restoreUtilForTfjsNode();
      require('@tensorflow/tfjs-node-gpu');
      if (!(await tf.setBackend('tensorflow'))) throw new Error('backend did not initialise');
      if (!usesGpu()) throw new Error('installed, but TensorFlow sees no GPU');
      return;
    }
    case 'tensorflow':
      requireTfjsNode();
      if (!(await tf.setBackend('tensorflow'))) throw new Error('backend did not initialise');
      return;
    case 'wasm':
      require('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('backend did not initialise');
      return;
    case 'cpu':
      await tf.setBackend('cpu');
  }
}

/** Loads tfjs-node, which registers the 'tensorflow' backend; anything that loads it goes through here. */
export function requireTfjsNode(): void {
  restoreUtilForTfjsNode();
  require('@tensorflow/tfjs-node');
}

/**
 * tfjs-node 4.22 (the latest release) calls util.isNullOrUndefined, which Node 23 removed, on every
 * op that has a dtype attribute, and util.isArray, which Node 24 deprecates with a warning. Fixed
 * upstream but not released; until then this puts back the one and quietens the other. Remove it
 * when a tfjs-node release no longer calls them.
 */
function restoreUtilForTfjsNode(): void {
  const u = util as unknown as Record<string, unknown>;
  u.isNullOrUndefined ??= (value: unknown) => value === null || value === undefined;
  u.isArray = Array.isArray;
}

function usesGpu(): boolean {
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice === true;
}
