// Turns decoded RGB images into normalised [3, S, S] float32 inputs, with seeded training
// augmentation (random resized crop + horizontal flip), behind the `ImagePipeline` interface.
// `familyPipeline` uses src/ml/data (torchvision's bicubic arithmetic: what the paper's
// code does); `simplePipeline` is a small bilinear fallback kept for tests and tiny inputs.
import type { RgbImage } from '../../slides/decodeImage';
import { preprocessEval, preprocessTrain } from './transforms';
import { Rng as PreprocessRng } from './rng';
import { Rng } from '../random';

export interface ImagePipeline {
  readonly size: number;
  /** Normalised CHW float32 of length 3 * size * size; `augmentSeed` null means eval transform. */
  prepare(img: RgbImage, augmentSeed: number | null): Float32Array;
  /** What adapters record about the preprocessing they were trained with. */
  describe(): Record<string, unknown>;
}

export interface SimplePipelineOptions {
  /** 'bicubic' (default): src/ml/data; 'bilinear': simplePipeline. */
  kind?: 'bicubic' | 'bilinear';
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Random resized crop area range (paper HEAD code: 0.7-1). */
  scale?: [number, number];
  flip?: boolean;
}

/** The pipeline a run recorded in its config (old runs without `kind` used bilinear). */
export function pipelineFromOptions(o: SimplePipelineOptions): ImagePipeline {
  return o.kind === 'bicubic' ? familyPipeline(o) : simplePipeline(o);
}

/** Resize shorter side (bicubic) + centre crop for eval; RandomResizedCrop + flip for training. */
export function familyPipeline(o: SimplePipelineOptions): ImagePipeline {
  const cfg = { imageSize: o.size, mean: o.mean, std: o.std };
  const scale = o.scale ?? [0.7, 1];
  const flip = o.flip ?? true;
  return {
    size: o.size,
    describe: () => ({ kind: 'bicubic', size: o.size, mean: o.mean, std: o.std, augment: { randomResizedCrop: scale, flip } }),
    prepare: (img, augmentSeed) =>
      augmentSeed === null ? preprocessEval(img, cfg) : preprocessTrain(img, cfg, new PreprocessRng(augmentSeed), { scale, flipProbability: flip ? 0.5 : 0 }),
  };
}

export function simplePipeline(o: SimplePipelineOptions): ImagePipeline {
  const scale = o.scale ?? [0.7, 1];
  const flip = o.flip ?? true;
  return {
    size: o.size,
    describe: () => ({ kind: 'bilinear', size: o.size, mean: o.mean, std: o.std, augment: { randomResizedCrop: scale, flip } }),
    prepare(img, augmentSeed) {
      if (augmentSeed === null) {
        // Resize the shorter side to `size`, centre crop: the crop box in source pixels.
        const side = Math.min(img.width, img.height);
        return sample(img, (img.width - side) / 2, (img.height - side) / 2, side, side, false, o);
      }
      const rng = new Rng(augmentSeed);
      const [x, y, w, h] = randomResizedCropBox(img.width, img.height, scale, rng);
      const flipped = flip && rng.next() < 0.5;
      return sample(img, x, y, w, h, flipped, o);
    },
  };
}

/** torchvision RandomResizedCrop.get_params (ratio 3/4-4/3, 10 tries, then centre fallback). */
function randomResizedCropBox(W: number, H: number, scale: [number, number], rng: Rng): [number, number, number, number] {
  const area = W * H;
  const logR = [Math.log(3 / 4), Math.log(4 / 3)];
  for (let i = 0; i < 10; i++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const ratio = Math.exp(rng.uniform(logR[0], logR[1]));
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (w > 0 && h > 0 && w <= W && h <= H) return [rng.int(W - w + 1), rng.int(H - h + 1), w, h];
  }
  const ratio = W / H;
  let w = W;
  let h = H;
  if (ratio < 3 / 4) h = Math.round(w / (3 / 4));
  else if (ratio > 4 / 3) w = Math.round(h * (4 / 3));
  return [(W - w) / 2, (H - h) / 2, w, h];
}

/** Bilinear resample of the box (x0, y0, w, h) to size x size, normalised, CHW. */
function sample(img: RgbImage, x0: number, y0: number, w: number, h: number, flip: boolean, o: SimplePipelineOptions): Float32Array {
  const S = o.size;
  const out = new Float32Array(3 * S * S);
  const { data, width: W, height: H } = img;
  for (let oy = 0; oy < S; oy++) {
    const sy = Math.min(Math.max(y0 + ((oy + 0.5) * h) / S - 0.5, 0), H - 1);
    const y1 = Math.floor(sy);
    const y2 = Math.min(y1 + 1, H - 1);
    const fy = sy - y1;
    for (let ox = 0; ox < S; ox++) {
      const dx = flip ? S - 1 - ox : ox;
      const sx = Math.min(Math.max(x0 + ((ox + 0.5) * w) / S - 0.5, 0), W - 1);
      const x1 = Math.floor(sx);
      const x2 = Math.min(x1 + 1, W - 1);
      const fx = sx - x1;
      for (let c = 0; c < 3; c++) {
        const p11 = data[(y1 * W + x1) * 3 + c];
        const p12 = data[(y1 * W + x2) * 3 + c];
        const p21 = data[(y2 * W + x1) * 3 + c];
        const p22 = data[(y2 * W + x2) * 3 + c];
        const v = (p11 * (1 - fx) + p12 * fx) * (1 - fy) + (p21 * (1 - fx) + p22 * fx) * fy;
        out[c * S * S + oy * S + dx] = (v / 255 - o.mean[c]) / o.std[c];
      }
    }
  }
  return out;
}
