// Reads a checkpoint's tensors into tfjs, one at a time (lazy readers), converted to [in, out]
// layout in JS, so the peak is the tfjs copy of the model plus one tensor. Which tensors, under
// which names, is each family's `loadWeights` (families/*.ts); this is the tfjs half they share.
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../checkpoint/errors';
import { elementCount, type Checkpoint } from '../checkpoint/types';
import type { Dense, EncoderConfig } from './encoder';
import type { Detected } from './familyDefinition';
import type { LayerNormWeights } from './layers';
import { familyByName } from './registry';
import type { VitWeights } from './vit';

/** [rows, cols] row-major -> [cols, rows]. */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

export class WeightReader {
  /** Every tensor made so far, to dispose on a failed load. */
  readonly created: tf.Tensor[] = [];

  constructor(
    private readonly ckpt: Checkpoint,
    private readonly prefix: string,
  ) {}

  private t1(data: Float32Array): tf.Tensor1D {
    const t = tf.tensor1d(data);
    this.created.push(t);
    return t;
  }

  private t2(data: Float32Array, rows: number, cols: number): tf.Tensor2D {
    const t = tf.tensor2d(data, [rows, cols]);
    this.created.push(t);
    return t;
  }

  has(name: string): boolean {
    return this.ckpt.tensors.has(this.prefix + name);
  }

  read(name: string, expected?: number[]): { data: Float32Array; shape: number[] } {
    const full = this.prefix + name;
    const info = this.ckpt.tensors.get(full);
    if (!info) throw new CheckpointError('unknown-family', `${this.ckpt.path}: missing tensor ${full}`);
    if (expected && elementCount(info.shape) !== elementCount(expected)) {
      throw new CheckpointError('corrupt', `${this.ckpt.path}: ${full} has shape [${info.shape}], expected [${expected}]`);
    }
    return { data: this.ckpt.read(full), shape: info.shape };
  }

  vector(name: string, len: number): tf.Tensor1D {
    return this.t1(this.read(name, [len]).data);
  }

  layerNorm(base: string, width: number, eps: number, gamma = 'weight', beta = 'bias'): LayerNormWeights {
    return { gamma: this.vector(`${base}.${gamma}`, width), beta: this.vector(`${base}.${beta}`, width), eps };
  }

  /** torch Linear weight [out, in] (+ bias) -> Dense with w [in, out]. */
  linear(base: string, inDim: number, outDim: number, bias = true): Dense {
    const w = this.read(`${base}.weight`, [outDim, inDim]).data;
    return {
      w: this.t2(transpose2d(w, outDim, inDim), inDim, outDim),
      b: bias && this.has(`${base}.bias`) ? this.vector(`${base}.bias`, outDim) : null,
    };
  }

  /** Packed [3*width, width] q,k,v weight (+ [3*width] bias) split by rows into three Dense. */
  packedQkv(weight: string, bias: string | null, width: number): [Dense, Dense, Dense] {
    const w = this.read(weight, [3 * width, width]).data;
    const b = bias && this.has(bias) ? this.read(bias, [3 * width]).data : null;
    return [0, 1, 2].map((i) => ({
      w: this.t2(transpose2d(w.subarray(i * width * width, (i + 1) * width * width), width, width), width, width),
      b: b ? this.t1(b.slice(i * width, (i + 1) * width)) : null,
    })) as [Dense, Dense, Dense];
  }

  /** Conv2d(3, width, p, stride p) weight [width, 3, p, p] -> Dense w [3*p*p, width]. */
  patch(base: string, cfg: EncoderConfig, bias: boolean): Dense {
    const k = 3 * cfg.patchSize * cfg.patchSize;
    const w = this.read(`${base}.weight`, [cfg.width, 3, cfg.patchSize, cfg.patchSize]).data;
    return {
      w: this.t2(transpose2d(w, cfg.width, k), k, cfg.width),
      b: bias && this.has(`${base}.bias`) ? this.vector(`${base}.bias`, cfg.width) : null,
    };
  }

  matrix(name: string, rows: number, cols: number): tf.Tensor2D {
    return this.t2(this.read(name, [rows, cols]).data, rows, cols);
  }
}

/** Builds every tensor of the model; on any error, disposes what was already built. */
export function loadVitWeights(ckpt: Checkpoint, det: Detected): VitWeights {
  const reader = new WeightReader(ckpt, det.prefix);
  try {
    return familyByName(det.config.family).loadWeights(reader, det);
  } catch (err) {
    for (const t of reader.created) t.dispose();
    throw err;
  }
}
