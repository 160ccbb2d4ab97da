// The classifier: a linear layer on the encoder's embedding, logits = e @ w + b with
// w [D, C], b [C]. Initialised like torch.nn.Linear (kaiming_uniform_(a=sqrt 5) on the
// [C, D] weight, i.e. U(+-1/sqrt(D)), and the bias U(+-1/sqrt(D))); files use torch's layout.
import * as tf from '@tensorflow/tfjs-core';
import { hashSeed, Rng } from '../random';
import type { HostTensor } from './safetensorsIo';

export class LinearHead {
  private constructor(
    readonly w: tf.Variable<tf.Rank.R2>,
    readonly b: tf.Variable<tf.Rank.R1>,
  ) {}

  get inputDim(): number {
    return this.w.shape[0];
  }
  get numClasses(): number {
    return this.w.shape[1];
  }

  static create(inputDim: number, numClasses: number, seed: number): LinearHead {
    const bound = 1 / Math.sqrt(inputDim);
    const rng = new Rng(hashSeed(seed, 'head-init'));
    const weight = rng.uniformArray(numClasses * inputDim, -bound, bound); // torch order [C, D]
    const bias = rng.uniformArray(numClasses, -bound, bound);
    return LinearHead.fromTorch(weight, bias, inputDim, numClasses);
  }

  /** weight: [C, D] row-major (torch), bias: [C]. */
  static fromTorch(weight: Float32Array, bias: Float32Array, inputDim: number, numClasses: number): LinearHead {
    const [w, b] = tf.tidy(() => [tf.transpose(tf.tensor2d(weight, [numClasses, inputDim])) as tf.Tensor2D, tf.tensor1d(bias)]);
    const head = new LinearHead(tf.variable(w as tf.Tensor2D, true), tf.variable(b as tf.Tensor1D, true));
    tf.dispose([w, b]);
    return head;
  }

  static fromHostTensors(tensors: Map<string, HostTensor>): LinearHead {
    const w = tensors.get('head.weight');
    const b = tensors.get('head.bias');
    if (!w || !b || w.shape.length !== 2 || b.shape[0] !== w.shape[0])
      throw new Error('head.weight [C, D] and head.bias [C] are missing or inconsistent');
    return LinearHead.fromTorch(w.data, b.data, w.shape[1], w.shape[0]);
  }

  /** embeddings [N, D] -> logits [N, C]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.w), this.b);
  }

  variables(): tf.Variable[] {
    return [this.w, this.b];
  }

  toHostTensors(): HostTensor[] {
    const wt = tf.tidy(() => tf.transpose(this.w));
    const out: HostTensor[] = [
      { name: 'head.weight', shape: wt.shape, data: wt.dataSync() as Float32Array },
      { name: 'head.bias', shape: this.b.shape, data: this.b.dataSync() as Float32Array },
    ];
    wt.dispose();
    return out;
  }

  dispose(): void {
    this.w.dispose();
    this.b.dispose();
  }
}
