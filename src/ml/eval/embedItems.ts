// Embeddings of many images, batch by batch, without holding more than one batch of
// activations: used by the linear probe (cached features), evaluation and prediction.
import * as tf from '@tensorflow/tfjs-core';
import type { Encoder, ProjectionHook } from '../models/encoder';
import type { ImageBatcher } from '../data/imageBatcher';

export interface EmbedOptions {
  batchSize?: number;
  /** One seed per path for the training augmentation; omitted: the eval transform. */
  augmentSeeds?: number[];
  signal?: AbortSignal;
  onBatch?: (done: number, total: number) => void;
}

/** Returns [paths.length, outputDim] row-major. */
export async function embedItems(
  encoder: Encoder,
  hook: ProjectionHook | undefined,
  batcher: ImageBatcher,
  paths: string[],
  o: EmbedOptions = {},
): Promise<Float32Array> {
  const bs = o.batchSize ?? 32;
  const d = encoder.config.outputDim;
  const out = new Float32Array(paths.length * d);
  for (let start = 0; start < paths.length; start += bs) {
    if (o.signal?.aborted) throw new DOMException('embedding cancelled', 'AbortError');
    const chunk = paths.slice(start, start + bs);
    const x = await batcher.load(chunk, o.augmentSeeds ? o.augmentSeeds.slice(start, start + bs) : null);
    let e: tf.Tensor2D | null = null;
    try {
      e = tf.tidy(() => encoder.embed(x, hook, false));
      out.set(await e.data(), start * d);
    } finally {
      x.dispose();
      e?.dispose();
    }
    o.onBatch?.(Math.min(start + bs, paths.length), paths.length);
  }
  return out;
}
