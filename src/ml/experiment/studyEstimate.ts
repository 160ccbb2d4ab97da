// How long a study would take on this machine, measured rather than guessed: for each model
// size in the study (family, width, tokens, MLP, LoRA rank and targets), one block of that size
// with random weights trains a few LoRA steps through the real trainer (trainLora: AdamW,
// micro-batches, the fast gradients, BLAS when present) at two batch sizes, which separates the
// cost per image from the fixed cost per step, and embeds a batch, on the backend in use; both
// are scaled by the model's depth. One process: the trainer's gradient workers (one per core on
// wasm) make real runs up to about 1.9x faster on 2 cores.
import * as tf from '@tensorflow/tfjs-core';
import { ImageBatcher } from '../data/imageBatcher';
import type { ImagePipeline } from '../data/imagePipeline';
import type { EncoderConfig } from '../models/encoder';
import { createRandomEncoder } from '../models/randomEncoder';
import { Xoshiro128 } from '../random';
import { trainLora } from '../training/loraTrainer';
import { resolveSettings, type ProjectionName } from '../../shared/training';
import type { RgbImage } from '../../shared/image';

export interface ModelCost {
  /** Seconds per training image (forward + backward) of the whole model. */
  trainPerImage: number;
  /** Seconds per optimiser step whatever its batch (kernel dispatch, AdamW): matters for small models. */
  trainPerStep: number;
  /** Seconds per image of a forward pass (evaluation, linear-probe features). */
  forwardPerImage: number;
  /** What was measured. */
  note: string;
}

export interface CostRequest {
  config: Pick<EncoderConfig, 'family' | 'imageSize' | 'patchSize' | 'width' | 'depth' | 'heads' | 'mlpDim' | 'outputDim'>;
  rank: number;
  targets: ProjectionName[];
}

/** Same key, same measurement. */
export function costKey(r: CostRequest): string {
  const c = r.config;
  return `${c.family}|${c.imageSize}/${c.patchSize}|w${c.width}|mlp${c.mlpDim}|h${c.heads}|out${c.outputDim}|r${r.rank}|${r.targets.join('')}`;
}

/** Random normalised rows as a pipeline (no decoding, no resize). */
function randomRows(size: number): { pipeline: ImagePipeline; decode: (k: string) => Promise<RgbImage> } {
  const rng = new Xoshiro128(1);
  const row = Float32Array.from({ length: 3 * size * size }, () => rng.normal());
  return {
    pipeline: { size, describe: () => ({ kind: 'random', size }), prepare: () => row.slice() },
    decode: () => Promise.resolve({ data: new Uint8Array(0), width: size, height: size }),
  };
}

/** Fastest steady-state step (the first pays for one-off set-up) of a tiny LoRA run at `batch`. */
async function stepSeconds(encoder: ReturnType<typeof createRandomEncoder>, r: CostRequest, batch: number, steps: number): Promise<number> {
  const { pipeline, decode } = randomRows(r.config.imageSize);
  const batcher = new ImageBatcher(pipeline, undefined, decode);
  const items = Array.from({ length: batch }, (_, i) => ({ path: `row${i}`, label: i % 2 }));
  const settings = resolveSettings({
    method: 'lora',
    steps,
    batchSize: batch,
    microBatchSize: batch,
    processes: 1,
    checkpointEvery: 0,
    augment: false,
    lora: { rank: r.rank, targets: r.targets },
  });
  const times: number[] = [];
  let last = performance.now();
  const outcome = await trainLora({
    encoder,
    items,
    numClasses: 2,
    batcher,
    settings,
    onProgress: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  });
  outcome.model.dispose();
  return Math.min(...times.slice(1));
}

export async function measureCost(r: CostRequest, steps = 3): Promise<ModelCost> {
  const c = r.config;
  const encoder = createRandomEncoder(
    {
      family: c.family,
      imageSize: c.imageSize,
      patchSize: c.patchSize,
      width: c.width,
      depth: 1,
      heads: c.heads,
      mlpDim: c.mlpDim,
      outputDim: c.outputDim,
    },
    1,
  );
  try {
    // t(b) = fixed + b x perImage, from b = 1 and b = 3.
    const t1 = await stepSeconds(encoder, r, 1, steps);
    const t3 = await stepSeconds(encoder, r, 3, steps);
    const perImage = Math.max((t3 - t1) / 2, t3 / 3 / 4);
    const fixed = Math.max(0, t1 - perImage);
    const batch = 2;
    const x = tf.tidy(() => tf.randomNormal([batch, 3, c.imageSize, c.imageSize]) as tf.Tensor4D);
    tf.tidy(() => encoder.embed(x).dataSync()); // warm-up
    const t0 = performance.now();
    tf.tidy(() => encoder.embed(x).dataSync());
    const forward = (performance.now() - t0) / 1000;
    x.dispose();
    return {
      trainPerImage: perImage * c.depth,
      trainPerStep: fixed * c.depth,
      forwardPerImage: (forward / batch) * c.depth,
      note: `one ${c.width}-wide block (${(c.imageSize / c.patchSize) ** 2 + 1} tokens) x ${c.depth}, LoRA r ${r.rank} on ${r.targets.join(',')}, ${tf.getBackend()} backend, 1 process`,
    };
  } finally {
    encoder.dispose();
  }
}
