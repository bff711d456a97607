// Where a head's weights and Adam moments live, and how one Adam step updates them.
//
// On TensorFlow (tfjs-node, tfjs-node-gpu) they are TensorFlow resource variables updated by its fused
// ResourceApplyAdam kernel: one pass over weights, moments and gradient per tensor, in place. Written
// with TF.js element-wise ops, the same update is ~12 ops per tensor, each a separate pass over memory,
// which made Adam two thirds of a batch-25 step. Other backends (wasm, cpu) use those ops.
// Both compute TensorFlow's formulation with beta powers folded into lr_t and eps_t by the caller:
//   m += (g - m)(1 - beta1);  v += (g^2 - v)(1 - beta2);  w -= lr_t m / (sqrt(v) + eps_t)
import * as tf from '@tensorflow/tfjs';

export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** Learning rate and epsilon with Adam's bias corrections for step t (1-based), in double precision. */
export function adamStepScalars(learningRate: number, t: number): { lrT: number; epsT: number } {
  const correction2 = Math.sqrt(1 - ADAM.beta2 ** t);
  return { lrT: learningRate * correction2 / (1 - ADAM.beta1 ** t), epsT: ADAM.epsilon * correction2 };
}

export interface AdamStore {
  /** The current weights, as tensors the caller disposes (before the next update: see FusedAdamStore). */
  read(): tf.Tensor[];
  /** One Adam update of every tensor with its gradient (the gradients stay the caller's). */
  update(grads: tf.Tensor[], lrT: number, epsT: number): void;
  moments(): Promise<{ first: Float32Array[]; second: Float32Array[] }>;
  dispose(): void;
}

interface Initial { shapes: number[][]; weights: Float32Array[]; first: Float32Array[]; second: Float32Array[] }

/** The fused store where the backend is TensorFlow, the op-by-op one elsewhere. */
export function createAdamStore(initial: Initial): AdamStore {
  return tf.getBackend() === 'tensorflow' ? new FusedAdamStore(initial) : new TensorAdamStore(initial);
}

export class TensorAdamStore implements AdamStore {
  private weights: tf.Tensor[];
  private first: tf.Tensor[];
  private second: tf.Tensor[];

  constructor(initial: Initial) {
    [this.weights, this.first, this.second] = madeTogether(initial, (values, shape) => tf.tensor(values, shape));
  }

  read(): tf.Tensor[] {
    return this.weights.map((w) => w.clone());
  }

  update(grads: tf.Tensor[], lrT: number, epsT: number): void {
    const next = tf.tidy(() => this.weights.map((w, i) => {
      const m = tf.add(this.first[i], tf.mul(tf.sub(grads[i], this.first[i]), 1 - ADAM.beta1));
      const v = tf.add(this.second[i], tf.mul(tf.sub(tf.square(grads[i]), this.second[i]), 1 - ADAM.beta2));
      return [tf.sub(w, tf.div(tf.mul(m, lrT), tf.add(tf.sqrt(v), epsT))), m, v];
    }));
    this.dispose();
    this.weights = next.map((n) => n[0]);
    this.first = next.map((n) => n[1]);
    this.second = next.map((n) => n[2]);
  }

  async moments() {
    return { first: await readAll(this.first), second: await readAll(this.second) };
  }

  dispose(): void {
    tf.dispose([...this.weights, ...this.first, ...this.second]);
  }
}

// TensorFlow's name for a variable that belongs to its handle alone: not registered in the resource
// manager, freed with the handle (what TF2 eager variables use), so trials never share or leak one.
const ANONYMOUS_VARIABLE = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';

/** The tfjs-node backend's raw op interface (not in its public typings). */
interface TensorflowBackend {
  binding: { TF_ATTR_STRING: number; TF_ATTR_TYPE: number; TF_ATTR_SHAPE: number; TF_ATTR_BOOL: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: unknown[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.Tensor[], outputs: number): tf.Tensor[];
}

/**
 * Weights and moments as TensorFlow resource variables, updated in place by ResourceApplyAdam.
 * A variable still referenced by a read() tensor is copied before the update (copy-on-write keeps
 * that tensor valid), so callers dispose what they read before updating, or pay a copy.
 */
export class FusedAdamStore implements AdamStore {
  private readonly backend = tf.backend() as unknown as TensorflowBackend;
  private readonly weights: tf.Tensor[];
  private readonly first: tf.Tensor[];
  private readonly second: tf.Tensor[];
  private readonly constants: tf.Scalar[];
  // Op attributes, made once: read and update run every train step.
  private readonly dtypeAttrs = [this.floatAttr('dtype')];
  private readonly applyAttrs = [
    this.floatAttr('T'),
    { name: 'use_locking', type: this.backend.binding.TF_ATTR_BOOL, value: false },
    { name: 'use_nesterov', type: this.backend.binding.TF_ATTR_BOOL, value: false },
  ];

  constructor(initial: Initial) {
    [this.weights, this.first, this.second] = madeTogether(initial, (values, shape) => this.variable(values, shape));
    // beta1_power = beta2_power = 0 make the kernel's own bias correction 1: lr_t and eps_t come in whole.
    this.constants = [tf.scalar(0), tf.scalar(ADAM.beta1), tf.scalar(ADAM.beta2)];
  }

  read(): tf.Tensor[] {
    return this.readVariables(this.weights);
  }

  update(grads: tf.Tensor[], lrT: number, epsT: number): void {
    const [zero, beta1, beta2] = this.constants;
    const [lr, epsilon] = [tf.scalar(lrT), tf.scalar(epsT)];
    grads.forEach((grad, i) => {
      this.backend.executeMultipleOutputs('ResourceApplyAdam', this.applyAttrs, [this.weights[i], this.first[i], this.second[i], zero, zero, lr, beta1, beta2, epsilon, grad], 0);
    });
    tf.dispose([lr, epsilon]);
  }

  async moments() {
    return { first: await this.readValues(this.first), second: await this.readValues(this.second) };
  }

  dispose(): void {
    tf.dispose([...this.weights, ...this.first, ...this.second, ...this.constants]);
  }

  private readVariables(handles: tf.Tensor[]): tf.Tensor[] {
    return handles.map((handle) => this.backend.executeSingleOutput('ReadVariableOp', this.dtypeAttrs, [handle]));
  }

  private async readValues(handles: tf.Tensor[]): Promise<Float32Array[]> {
    const tensors = this.readVariables(handles);
    try {
      return await readAll(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }

  private variable(values: Float32Array, shape: number[]): tf.Tensor {
    const { TF_ATTR_STRING, TF_ATTR_SHAPE } = this.backend.binding;
    const handle = this.backend.executeSingleOutput('VarHandleOp', [
      { name: 'container', type: TF_ATTR_STRING, value: '' },
      { name: 'shared_name', type: TF_ATTR_STRING, value: ANONYMOUS_VARIABLE },
      ...this.dtypeAttrs,
      { name: 'shape', type: TF_ATTR_SHAPE, value: shape },
    ], []);
    const value = tf.tensor(values, shape);
    this.backend.executeMultipleOutputs('AssignVariableOp', this.dtypeAttrs, [handle, value], 0);
    value.dispose();
    return handle;
  }

  private floatAttr(name: string) {
    return { name, type: this.backend.binding.TF_ATTR_TYPE, value: this.backend.binding.TF_FLOAT };
  }
}

/**
 * Weights, first and second moments, each made by `make`, in one tf.tidy: if one cannot be made (a
 * shape that does not fit, no memory left), those made before it are freed instead of leaked.
 */
function madeTogether({ shapes, weights, first, second }: Initial, make: (values: Float32Array, shape: number[]) => tf.Tensor): tf.Tensor[][] {
  return tf.tidy(() => [weights, first, second].map((arrays) => arrays.map((values, i) => make(values, shapes[i]))));
}

async function readAll(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  return (await Promise.all(tensors.map((t) => t.data()))) as Float32Array[];
}
