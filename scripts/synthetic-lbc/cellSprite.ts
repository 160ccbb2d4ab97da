// Turns one Herlev crop into a "sprite" that can be laid on glass: optical density (so stains
// add up physically where sprites meet) premultiplied by a soft mask, so the crop's own
// background never shows as a square. The mask (cropMask.ts) is feathered and multiplied by a
// radial fall-off that fades what is left of neighbouring cells near the crop's edges.
import sharp from 'sharp';
import type { RgbImage } from '../../src/shared/image';
import type { Rng } from '../../src/ml/random';
import { cellMask, nucleusBlob } from './cropMask';

export interface Sprite {
  side: number;
  /** side*side*3 optical densities (R, G, B), already multiplied by the mask. */
  od: Float32Array;
  /** Mask-weighted centroid and equivalent-disk radius of the mask, sprite pixels. */
  cx: number;
  cy: number;
  radius: number;
  /** Where the crop's nucleus is (see cropMask.ts nucleusBlob), sprite pixels. */
  nucleusX: number;
  nucleusY: number;
  nucleusRadius: number;
}

/**
 * Nucleus diameter (um) each Herlev class is scaled to, drawn uniformly in the range: Herlev
 * crops are squashed to 40x40 whatever the cell's size, so the scale comes from the nucleus.
 */
export const NUCLEUS_UM: Record<string, readonly [number, number]> = {
  normal_superficiel: [6, 7],
  normal_intermediate: [7, 8.5],
  normal_columnar: [8, 10],
  light_dysplastic: [8.5, 11],
  moderate_dysplastic: [9, 12],
  severe_dysplastic: [9, 12],
  carcinoma_in_situ: [9, 12],
};
export const DEFAULT_NUCLEUS_UM: readonly [number, number] = [7, 11];

/**
 * Radial fall-off, as fractions of the half side: full strength inside RADIAL_FULL, gone at
 * RADIAL_ZERO. Herlev crops often hold parts of neighbouring cells near their edges; fading the
 * rim keeps one cell (and one nucleus) per sprite, which the ground truth assumes.
 */
const RADIAL_FULL = 0.6;
const RADIAL_ZERO = 0.95;
/** Glass level assumed for crops that show none (typical of Herlev's brighter backgrounds). */
const HERLEV_GLASS = 225;

const od = (v: number, white: number): number => Math.max(0, -Math.log10((v + 1) / (white + 1)));

/** One of the 8 rotations/flips of a square crop, so repeated crops do not look identical. */
export function dihedral(img: RgbImage, k: number): RgbImage {
  const { width: w, height: h } = img;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let sx = k & 1 ? w - 1 - x : x;
      let sy = y;
      if (k & 2) [sx, sy] = [sy, sx];
      if (k & 4) sy = h - 1 - sy;
      const s = (sy * w + sx) * 3;
      const d = (y * w + x) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  return { data: out, width: w, height: h };
}

/**
 * A sprite from a crop, scaled so its nucleus measures `nucleusUm` at `mpp`; `rng` picks the
 * orientation, unless `turn` is false (the crop as it is). The crop's side is clamped to 14-110 um
 * (a sane cell size) whatever the estimate.
 */
export async function makeSprite(crop: RgbImage, nucleusUm: number, mpp: number, rng: Rng, turn = true): Promise<Sprite> {
  const img = turn ? dihedral(crop, rng.int(8)) : crop;
  const blob = nucleusBlob(img);
  const sideUm = Math.min(110, Math.max(14, (nucleusUm * img.width) / Math.max(1, blob.diameter)));
  const side = Math.max(8, Math.round(sideUm / mpp));
  const scale = side / img.width;
  const mask = cellMask(img, blob);
  const mask8 = Buffer.alloc(mask.length);
  for (let i = 0; i < mask.length; i++) mask8[i] = mask[i] * 255;
  const [rgb, alpha] = await Promise.all([
    sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .resize(side, side, { kernel: 'cubic' })
      .raw()
      .toBuffer(),
    // Feather the mask by about 1.2 source pixels before upscaling it with the colours.
    sharp(mask8, { raw: { width: img.width, height: img.height, channels: 1 } })
      .blur(1.2)
      .resize(side, side, { kernel: 'linear' })
      .extractChannel(0) // libvips widens one-band raw input to sRGB on the way
      .raw()
      .toBuffer(),
  ]);
  // The crop's own glass, per channel. Herlev crops were imaged under differing, often tinted
  // light, and transmittance against their own glass is what carries over onto ours. Where the
  // border is among the crop's brighter parts it is background: its median is the glass. Where
  // it is darker (the cell fills the crop, no glass shows) a typical Herlev glass level is used.
  const luma = (i: number): number => rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2];
  const lumas: number[] = [];
  const borderIdx: number[] = [];
  for (let i = 0; i < side * side; i++) {
    lumas.push(luma(i));
    const x = i % side;
    const y = Math.floor(i / side);
    if (x < 2 || y < 2 || x >= side - 2 || y >= side - 2) borderIdx.push(i);
  }
  lumas.sort((p, q) => p - q);
  const borderLuma = borderIdx.map(luma).sort((p, q) => p - q)[borderIdx.length >> 1];
  const glassShows = borderLuma >= lumas[Math.floor(lumas.length * 0.75)];
  const white = [0, 1, 2].map((c) => {
    const all = Array.from({ length: side * side }, (_, i) => rgb[3 * i + c]).sort((p, q) => p - q);
    const border = borderIdx.map((i) => rgb[3 * i + c]).sort((p, q) => p - q);
    const bright = all[Math.floor(all.length * 0.98)];
    return glassShows ? Math.max(150, border[border.length >> 1], bright) : Math.max(HERLEV_GLASS, bright);
  });
  const out = new Float32Array(side * side * 3);
  const half = side / 2;
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const r = Math.hypot(x + 0.5 - half, y + 0.5 - half) / half;
      const radial =
        r < RADIAL_FULL ? 1 : r >= RADIAL_ZERO ? 0 : 0.5 + 0.5 * Math.cos((Math.PI * (r - RADIAL_FULL)) / (RADIAL_ZERO - RADIAL_FULL));
      const a = (alpha[y * side + x] / 255) * radial;
      const i = (y * side + x) * 3;
      for (let c = 0; c < 3; c++) out[i + c] = a * od(rgb[i + c], white[c]);
      sum += a;
      sx += a * (x + 0.5);
      sy += a * (y + 0.5);
    }
  return {
    side,
    od: out,
    cx: sum > 0 ? sx / sum : half,
    cy: sum > 0 ? sy / sum : half,
    radius: Math.sqrt(sum / Math.PI),
    nucleusX: blob.x * scale,
    nucleusY: blob.y * scale,
    nucleusRadius: (blob.diameter * scale) / 2,
  };
}
