// What a gradient worker holds: the frozen encoder (loaded from its source), a LoRA adapter and a
// head of the trainer's shapes whose values the parent overwrites every step, and the same hook
// and seeded branch dropout as the single-process trainer (loraTrainer.ts), so an image gives the
// same gradient whichever process computes it.
import * as tf from '@tensorflow/tfjs-core';
import { blasMatMulInfo } from '../../backend/blasMatMul';
import { BranchDropout } from '../../adapters/branchDropout';
import { TransposeCache } from '../../adapters/fastGrad';
import { LoraAdapter } from '../../adapters/loraAdapter';
import { loraHook } from '../../adapters/loraHook';
import type { ProjectionHook } from '../../models/encoder';
import { setAttentionKernel } from '../../models/layers';
import { loadEncoder } from '../../models/loadEncoder';
import { createRandomEncoder } from '../../models/randomEncoder';
import type { VitEncoder } from '../../models/vit';
import { accumulate, microBatchGrads } from '../gradients';
import { LinearHead } from '../../adapters/linearHead';
import type { EncoderSource, GradRequest, WorkerInit } from './protocol';

export function loadSourceEncoder(source: EncoderSource): VitEncoder {
  return source.kind === 'checkpoint'
    ? loadEncoder(source.path, { family: source.family, heads: source.heads, activation: source.activation })
    : createRandomEncoder(source.spec, source.seed);
}

export interface ShareResult {
  lossSum: number;
  correct: number;
  grads: Float32Array[];
}

export class LoraReplica {
  private readonly encoder: VitEncoder;
  private readonly adapter: LoraAdapter;
  private readonly head: LinearHead;
  private readonly vars: tf.Variable[];
  private readonly dropout: BranchDropout | null;
  private readonly fast?: TransposeCache;
  private readonly hook: ProjectionHook;

  constructor(private readonly init: WorkerInit) {
    // A worker process runs one training: the plan's attention choice can be process-wide.
    if (init.attention) setAttentionKernel(init.attention);
    this.encoder = loadSourceEncoder(init.source);
    try {
      // Same as loraTrainer: transposed frozen weights for a fast backward on wasm (not needed with BLAS).
      if (init.fastGradients && !blasMatMulInfo()) {
        this.encoder.prepareForTraining();
        this.fast = new TransposeCache();
      }
      this.adapter = LoraAdapter.create(this.encoder.config, init.lora, init.seed);
      this.head = LinearHead.create(this.encoder.config.outputDim, init.numClasses, init.seed);
    } catch (err) {
      this.encoder.dispose();
      throw err;
    }
    this.vars = [...this.adapter.variables(), ...this.head.variables()];
    this.dropout = init.lora.dropout > 0 ? new BranchDropout(init.lora.dropout, init.seed) : null;
    this.hook = loraHook(this.adapter, this.dropout, this.fast);
  }

  /** d(sum of this share's losses / batchSize) for every trainable tensor, micro-batch by micro-batch. */
  grads(req: GradRequest): ShareResult {
    if (req.params.length !== this.vars.length) throw new Error(`expected ${this.vars.length} parameter tensors, got ${req.params.length}`);
    tf.tidy(() => this.vars.forEach((v, i) => v.assign(tf.tensor(req.params[i], v.shape))));
    const per = 3 * req.imageSize * req.imageSize;
    const n = req.labels.length;
    const micro = Math.max(1, this.init.microBatchSize);
    let acc: tf.Tensor[] | null = null;
    let lossSum = 0;
    let correct = 0;
    try {
      for (let start = 0; start < n; start += micro) {
        const end = Math.min(n, start + micro);
        const x = tf.tensor4d(req.images.subarray(start * per, end * per), [end - start, 3, req.imageSize, req.imageSize]);
        this.dropout?.setBatch(req.step, req.sampleIds.slice(start, end));
        try {
          const r = microBatchGrads(
            this.vars,
            () => this.head.apply(this.encoder.embed(x, this.hook, true)),
            req.labels.slice(start, end),
            req.batchSize,
          );
          acc = accumulate(acc, r.grads);
          lossSum += r.lossSum;
          correct += r.correct;
        } finally {
          x.dispose();
        }
      }
      return { lossSum, correct, grads: (acc ?? []).map((g) => g.dataSync() as Float32Array) };
    } finally {
      if (acc) tf.dispose(acc);
    }
  }

  dispose(): void {
    this.fast?.dispose();
    this.adapter.dispose();
    this.head.dispose();
    this.encoder.dispose();
  }
}
