// The training loop's per-batch callback when gradients come from a GradientPool: the parent
// prepares each image's pixels with the same seeded augmentation as the single-process trainer
// (hashSeed(seed, 'augment', step, position)), so item sources that only the parent can read
// (slide patches) work too, and returns the summed gradients as tensors for AdamW.
import * as tf from '@tensorflow/tfjs-core';
import type { LabeledItem } from '../../data/fewShot';
import type { ImageBatcher } from '../../data/imageBatcher';
import { hashSeed } from '../../random';
import type { MicroStep } from '../trainingLoop';
import type { GradientPool, WorkerReport } from './gradientPool';

export function parallelMicroStep(
  pool: GradientPool,
  vars: tf.Variable[],
  items: LabeledItem[],
  batcher: ImageBatcher,
  seed: number,
  onWorkers?: (w: WorkerReport[]) => void,
): MicroStep {
  return async (idx, ids, step, batchSize) => {
    const images: Float32Array[] = [];
    for (let i = 0; i < idx.length; i++) {
      const img = await batcher.decode(items[idx[i]].path);
      images.push(batcher.pipeline.prepare(img, hashSeed(seed, 'augment', step, ids[i])));
    }
    // The current trainable values: small (LoRA + head), sent every step so workers never drift.
    const params = vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
    const r = await pool.grads(
      step,
      batchSize,
      params,
      images,
      batcher.pipeline.size,
      idx.map((i) => items[i].label),
      ids,
    );
    onWorkers?.(r.workers);
    return { lossSum: r.lossSum, correct: r.correct, grads: r.grads.map((g, i) => tf.tensor(g, vars[i].shape)) };
  };
}
