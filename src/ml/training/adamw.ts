// AdamW written out over tf variables (not tf.train.adam) so that its moments can be saved in
// training checkpoints, and matching torch.optim.AdamW (amsgrad=False) step for step:
//   p <- p * (1 - lr * wd)                       (decoupled weight decay, on every parameter)
//   m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from '../adapters/safetensorsIo';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Number of steps taken (torch's `state['step']`). */
  step = 0;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];

  constructor(
    private readonly params: tf.Variable[],
    opts: AdamWOptions = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 1e-2;
    // tidy frees the zeros once the variables hold their own copies.
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }

  /** grads[i] is the gradient of params[i]; the caller keeps ownership of grads. */
  apply(grads: tf.Tensor[], lr: number): void {
    if (grads.length !== this.params.length) throw new Error(`AdamW: ${grads.length} gradients for ${this.params.length} parameters`);
    this.step += 1;
    const bc1 = 1 - Math.pow(this.beta1, this.step);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(this.beta2, this.step));
    const stepSize = lr / bc1;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.mul(g, g), 1 - this.beta2));
        const decayed = this.weightDecay !== 0 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
        this.m[i].assign(m);
        this.v[i].assign(v);
      });
    });
  }

  /** Moments as host tensors named adamw.{m|v}.{index}, for checkpoints. */
  stateTensors(): HostTensor[] {
    const out: HostTensor[] = [];
    this.params.forEach((p, i) => {
      out.push({ name: `adamw.m.${i}`, shape: p.shape, data: this.m[i].dataSync() as Float32Array });
      out.push({ name: `adamw.v.${i}`, shape: p.shape, data: this.v[i].dataSync() as Float32Array });
    });
    return out;
  }

  loadState(step: number, tensors: Map<string, HostTensor>): void {
    this.params.forEach((p, i) => {
      const m = tensors.get(`adamw.m.${i}`);
      const v = tensors.get(`adamw.v.${i}`);
      if (!m || !v || m.data.length !== p.size || v.data.length !== p.size)
        throw new Error(`optimiser state for parameter ${i} is missing or has the wrong size`);
      tf.tidy(() => {
        this.m[i].assign(tf.tensor(m.data, p.shape));
        this.v[i].assign(tf.tensor(v.data, p.shape));
      });
    });
    this.step = step;
  }

  dispose(): void {
    this.m.forEach((t) => t.dispose());
    this.v.forEach((t) => t.dispose());
  }
}
