// Turns decoded RGB images into normalised [3, S, S] float32 inputs behind `ImagePipeline`. There
// is one pipeline, for training, evaluation, tests and benchmarks alike: torchvision's arithmetic
// on Pillow-exact bicubic resampling (transforms.ts), what the paper's code runs.
//   eval:  resize the shorter side to S (bicubic), centre crop
//   train: seeded RandomResizedCrop(S, scale) + horizontal flip (DEFAULT_AUGMENT, the paper's),
//          or the eval transform when `augment` is false
import type { EncoderConfig } from '../models/encoder';
import { Xoshiro128 } from '../random';
import { DEFAULT_AUGMENT, preprocessEval, preprocessTrain } from './transforms';
import type { ResizeScratch } from './resize';
import type { RgbImage } from '../../shared/image';

export interface ImagePipeline {
  readonly size: number;
  /** Normalised CHW float32 of length 3 * size * size; `augmentSeed` null means eval transform. */
  prepare(img: RgbImage, augmentSeed: number | null): Float32Array;
  /** What adapters and run fingerprints record about the preprocessing they were trained with. */
  describe(): Record<string, unknown>;
}

/** How training images are augmented (the CLI exposes these). */
export interface AugmentChoice {
  /** false: training images get the eval transform, augmentation seeds are ignored. Default true. */
  augment?: boolean;
  /** RandomResizedCrop area range; default DEFAULT_AUGMENT.scale, [0.7, 1]. */
  scale?: [number, number];
  /** Horizontal flip with probability 0.5; default true. */
  flip?: boolean;
}

/** The options a run records in its config.json and `cytotune predict` rebuilds the pipeline from. */
export interface PipelineOptions extends AugmentChoice {
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  /**
   * Always 'bicubic' in what we write, as every run recorded so far; ignored when read (there is
   * one pipeline; the bilinear fallback that `kind` once chose is gone).
   */
  kind?: 'bicubic';
}

/** Fully resolved options for an encoder (what a run records): eval size and constants plus augmentation. */
export function pipelineOptionsFor(cfg: Pick<EncoderConfig, 'imageSize' | 'mean' | 'std'>, choice: AugmentChoice = {}): PipelineOptions {
  const augment = choice.augment ?? true;
  return {
    kind: 'bicubic',
    size: cfg.imageSize,
    mean: cfg.mean,
    std: cfg.std,
    augment,
    scale: [...(choice.scale ?? DEFAULT_AUGMENT.scale)],
    flip: choice.flip ?? true,
  };
}

/** The pipeline for `o` (also rebuilds a recorded run's pipeline from its config.json). */
export function pipelineFromOptions(o: PipelineOptions): ImagePipeline {
  const cfg = { imageSize: o.size, mean: o.mean, std: o.std };
  const augment = o.augment ?? true;
  const scale = o.scale ?? DEFAULT_AUGMENT.scale;
  const flip = o.flip ?? true;
  const augmentOptions = { scale, ratio: DEFAULT_AUGMENT.ratio, flipProbability: flip ? DEFAULT_AUGMENT.flipProbability : 0 };
  // Kept as before augmentation became optional, so fingerprints of existing runs still match.
  const described = {
    kind: 'bicubic',
    size: o.size,
    mean: o.mean,
    std: o.std,
    augment: augment ? { randomResizedCrop: scale, flip } : false,
  };
  return {
    size: o.size,
    describe: () => structuredClone(described),
    prepare: (img, augmentSeed) =>
      augmentSeed === null || !augment ? preprocessEval(img, cfg) : preprocessTrain(img, cfg, new Xoshiro128(augmentSeed), augmentOptions),
  };
}

/**
 * The eval transform of `o` (what `prepare(img, null)` returns) written into `out` at `offset`:
 * batch buffers are filled in place, with no per-image output array.
 */
export function prepareEvalInto(o: PipelineOptions, img: RgbImage, out: Float32Array, offset: number, scratch?: ResizeScratch): void {
  preprocessEval(img, { imageSize: o.size, mean: o.mean, std: o.std }, out, offset, scratch);
}
