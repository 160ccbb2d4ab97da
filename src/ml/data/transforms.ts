// The evaluation and training pipelines of the original code, on interleaved RGB uint8:
//   eval:  Resize(size, BICUBIC) on the shorter side -> CenterCrop(size) -> ToTensor -> Normalize
//   train: RandomResizedCrop(size, scale, ratio, BICUBIC) -> RandomHorizontalFlip -> ToTensor -> Normalize
// following torchvision's arithmetic (int() and Python's round-half-even), output Float32Array CHW.
import type { EncoderConfig } from '../models/encoder';
import { crop, flipHorizontal, resizeBicubic, type ResizeScratch } from './resize';
import type { SeededRandom } from '../random';
import type { RgbImage } from '../../shared/image';

export type { RgbImage };

/** Python 3 round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision Resize(int): shorter side -> size, longer side int(size * long / short). */
export function resizeShorterSide(img: RgbImage, size: number, scratch?: ResizeScratch): RgbImage {
  const { width: w, height: h } = img;
  if (Math.min(w, h) === size) return img;
  const [ow, oh] = w <= h ? [size, Math.trunc((size * h) / w)] : [Math.trunc((size * w) / h), size];
  return resizeBicubic(img, ow, oh, scratch);
}

/** torchvision CenterCrop (image at least `size` on both sides). */
export function centerCrop(img: RgbImage, size: number): RgbImage {
  // Already square at size (every resized cell patch): nothing to cut, no copy to make.
  if (img.width === size && img.height === size) return img;
  const top = roundHalfEven((img.height - size) / 2);
  const left = roundHalfEven((img.width - size) / 2);
  return crop(img, left, top, size, size);
}

/** toNormalisedChw's channel table, refilled per call (calls are synchronous: one table will do). */
const lut = new Float32Array(256);

/** ToTensor + Normalize: HWC uint8 -> CHW float32 ((x / 255) - mean) / std. */
export function toNormalisedChw(
  img: RgbImage,
  mean: readonly number[],
  std: readonly number[],
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const plane = img.width * img.height;
  const dst = out ?? new Float32Array(3 * plane);
  const src = img.data;
  // A byte has 256 values: look each channel's up instead of dividing per pixel (the table holds
  // the very same expression, so the output is bit for bit what the division gave).
  for (let c = 0; c < 3; c++) {
    const m = mean[c];
    const s = std[c];
    for (let v = 0; v < 256; v++) lut[v] = (v / 255 - m) / s;
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) dst[base + i] = lut[src[i * 3 + c]];
  }
  return dst;
}

type Normalisation = Pick<EncoderConfig, 'imageSize' | 'mean' | 'std'>;

/** Evaluation transform: [3, size, size] normalised, for `Encoder.embed`. */
export function preprocessEval(img: RgbImage, cfg: Normalisation, out?: Float32Array, offset = 0, scratch?: ResizeScratch): Float32Array {
  return toNormalisedChw(centerCrop(resizeShorterSide(img, cfg.imageSize, scratch), cfg.imageSize), cfg.mean, cfg.std, out, offset);
}

export interface AugmentOptions {
  /** Fraction of the image area kept. */
  scale?: [number, number];
  /** Aspect ratio range. */
  ratio?: [number, number];
  /** Probability of a horizontal flip. */
  flipProbability?: number;
}

/**
 * The training augmentation of the paper's code (RandomResizedCrop(scale=(0.7, 1)) +
 * RandomHorizontalFlip()): the one place these defaults live; pipelines and callers refer here.
 */
export const DEFAULT_AUGMENT: Readonly<Required<AugmentOptions>> = {
  scale: [0.7, 1],
  ratio: [3 / 4, 4 / 3],
  flipProbability: 0.5,
};

export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** torchvision RandomResizedCrop.get_params with our RNG: 10 tries, then a central fallback. */
export function randomResizedCropBox(
  width: number,
  height: number,
  rng: SeededRandom,
  scale: [number, number] = DEFAULT_AUGMENT.scale,
  ratio: [number, number] = DEFAULT_AUGMENT.ratio,
): CropBox {
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { top: Math.trunc((height - h) / 2), left: Math.trunc((width - w) / 2), height: h, width: w };
}

/** Training transform: random resized crop + horizontal flip, drawn from `rng` (same state, same output). */
export function preprocessTrain(
  img: RgbImage,
  cfg: Normalisation,
  rng: SeededRandom,
  opts: AugmentOptions = {},
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const box = randomResizedCropBox(img.width, img.height, rng, opts.scale, opts.ratio);
  let x = resizeBicubic(crop(img, box.left, box.top, box.width, box.height), cfg.imageSize, cfg.imageSize);
  if (rng.next() < (opts.flipProbability ?? DEFAULT_AUGMENT.flipProbability)) x = flipHorizontal(x);
  return toNormalisedChw(x, cfg.mean, cfg.std, out, offset);
}
