import type { Box } from './image';
// Which patches of a slide to classify: a grid at the patch size and stride, keeping only
// patches on tissue or cells. The mask is Otsu's threshold on HSV saturation of a
// low-resolution overview (glass is bright and grey, stained material is saturated).

export interface Overview {
  /** Interleaved RGB of the whole slide at `downsample` (level-0 pixels per overview pixel). */
  data: Uint8Array;
  width: number;
  height: number;
  downsample: number;
}

/** Saturation (0-255) of each RGB pixel, as HSV's S = (max - min) / max. */
export function saturation(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0, p = 0; i < out.length; i++, p += 3) {
    const max = Math.max(rgb[p], rgb[p + 1], rgb[p + 2]);
    const min = Math.min(rgb[p], rgb[p + 1], rgb[p + 2]);
    out[i] = max === 0 ? 0 : Math.round((255 * (max - min)) / max);
  }
  return out;
}

/** Otsu's threshold of 8-bit values: maximises the between-class variance. */
export function otsuThreshold(values: Uint8Array): number {
  const hist = new Float64Array(256);
  for (const v of values) hist[v]++;
  const total = values.length;
  let sumAll = 0;
  for (let t = 0; t < 256; t++) sumAll += t * hist[t];
  let sumBack = 0;
  let weightBack = 0;
  let best = 0;
  let bestVariance = -1;
  for (let t = 0; t < 256; t++) {
    weightBack += hist[t];
    if (weightBack === 0) continue;
    const weightFore = total - weightBack;
    if (weightFore === 0) break;
    sumBack += t * hist[t];
    const meanBack = sumBack / weightBack;
    const meanFore = (sumAll - sumBack) / weightFore;
    const variance = weightBack * weightFore * (meanBack - meanFore) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = t;
    }
  }
  return best;
}

export interface TissueMask {
  /** 1 where the overview pixel is tissue. */
  mask: Uint8Array;
  width: number;
  height: number;
  downsample: number;
  threshold: number;
}

/** Tissue where saturation exceeds Otsu's threshold (and a floor, so an empty slide stays empty). */
export function tissueMask(overview: Overview, minSaturation = 20): TissueMask {
  const sat = saturation(overview.data);
  const threshold = Math.max(otsuThreshold(sat), minSaturation);
  const mask = new Uint8Array(sat.length);
  for (let i = 0; i < sat.length; i++) mask[i] = sat[i] > threshold ? 1 : 0;
  return { mask, width: overview.width, height: overview.height, downsample: overview.downsample, threshold };
}

/** Fraction of the mask's pixels inside a level-0 box that are tissue. */
export function tissueFraction(m: TissueMask, box: Box): number {
  const x0 = Math.max(0, Math.floor(box.x / m.downsample));
  const y0 = Math.max(0, Math.floor(box.y / m.downsample));
  const x1 = Math.min(m.width, Math.ceil((box.x + box.w) / m.downsample));
  const y1 = Math.min(m.height, Math.ceil((box.y + box.h) / m.downsample));
  let on = 0;
  let all = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++, all++) on += m.mask[y * m.width + x];
  return all === 0 ? 0 : on / all;
}

/** Every full patch of a grid over the slide, row by row. */
export function patchGrid(width: number, height: number, patchSize: number, stride: number = patchSize): Box[] {
  const boxes: Box[] = [];
  for (let y = 0; y + patchSize <= height; y += stride) {
    for (let x = 0; x + patchSize <= width; x += stride) boxes.push({ x, y, w: patchSize, h: patchSize });
  }
  return boxes;
}

/** The grid patches with at least `minTissue` of their area on tissue. */
export function tissuePatches(
  m: TissueMask,
  width: number,
  height: number,
  patchSize: number,
  stride = patchSize,
  minTissue = 0.25,
): Box[] {
  return patchGrid(width, height, patchSize, stride).filter((b) => tissueFraction(m, b) >= minTissue);
}
