// Colour deconvolution (Ruifrok & Johnston 2001) reduced to what nucleus detection needs: the
// haematoxylin concentration per pixel. Beer-Lambert makes optical density linear in stain
// amounts, OD = -log10(I / I0), so a 3x3 inverse separates the stains; with 8-bit input the
// whole per-pixel cost folds into three 256-entry tables and two additions.
import type { RgbImage } from './types';

export type Rgb3 = readonly [number, number, number];
export type StainName = 'he' | 'hdab' | 'pap';

/**
 * OD vectors (R, G, B absorption), first is haematoxylin. H&E and H-DAB are QuPath's defaults
 * (after Ruifrok & Johnston). Pap: haematoxylin again, with the eosin-azure/orange-G cytoplasm
 * counterstains modelled by eosin's vector; what matters is that cyanophilic and eosinophilic
 * cytoplasm load mostly on the second and third channels, not on haematoxylin.
 */
export const STAIN_VECTORS: Record<StainName, readonly [Rgb3, Rgb3]> = {
  he: [
    [0.651, 0.701, 0.29],
    [0.216, 0.801, 0.558],
  ],
  hdab: [
    [0.65, 0.704, 0.286],
    [0.268, 0.57, 0.776],
  ],
  pap: [
    [0.651, 0.701, 0.29],
    [0.216, 0.801, 0.558],
  ],
};

function normalise(v: Rgb3): [number, number, number] {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

/** Rows: the two stains and their normalised cross product (the residual channel). */
export function stainMatrix(vectors: readonly [Rgb3, Rgb3]): number[][] {
  const a = normalise(vectors[0]);
  const b = normalise(vectors[1]);
  const c = normalise([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]);
  return [a, b, c];
}

export function invert3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (Math.abs(det) < 1e-9) throw new RangeError('stain vectors are (nearly) parallel: the colour deconvolution has no inverse');
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

/** OD of an 8-bit value against the background (white) level, as QuPath: -log10((I + 1) / (I0 + 1)). */
export function opticalDensity(value: number, white = 255): number {
  return Math.max(0, -Math.log10((value + 1) / (white + 1)));
}

/** Tables so that haematoxylin(r, g, b) = lut[0][r] + lut[1][g] + lut[2][b]. */
export function haematoxylinLuts(
  vectors: readonly [Rgb3, Rgb3],
  white: Rgb3 = [255, 255, 255],
): [Float32Array, Float32Array, Float32Array] {
  const inv = invert3(stainMatrix(vectors));
  const luts: [Float32Array, Float32Array, Float32Array] = [new Float32Array(256), new Float32Array(256), new Float32Array(256)];
  for (let ch = 0; ch < 3; ch++) for (let v = 0; v < 256; v++) luts[ch][v] = opticalDensity(v, white[ch]) * inv[ch][0];
  return luts;
}

/** Tables for the optical-density sum (QuPath's alternative detection image): stain-agnostic darkness. */
export function odSumLuts(white: Rgb3 = [255, 255, 255]): [Float32Array, Float32Array, Float32Array] {
  const luts: [Float32Array, Float32Array, Float32Array] = [new Float32Array(256), new Float32Array(256), new Float32Array(256)];
  for (let ch = 0; ch < 3; ch++) for (let v = 0; v < 256; v++) luts[ch][v] = opticalDensity(v, white[ch]);
  return luts;
}

export type DetectionChannel = 'haematoxylin' | 'od-sum';

export function channelLuts(
  channel: DetectionChannel,
  vectors: readonly [Rgb3, Rgb3],
  white: Rgb3,
): [Float32Array, Float32Array, Float32Array] {
  return channel === 'od-sum' ? odSumLuts(white) : haematoxylinLuts(vectors, white);
}

/** Haematoxylin OD of every pixel (Float32Array, width x height), written into `out` if given. */
export function haematoxylinOd(img: RgbImage, luts: [Float32Array, Float32Array, Float32Array], out?: Float32Array): Float32Array {
  const n = img.width * img.height;
  const dst = out && out.length >= n ? out : new Float32Array(n);
  const [lr, lg, lb] = luts;
  const d = img.data;
  for (let i = 0, p = 0; i < n; i++, p += 3) dst[i] = lr[d[p]] + lg[d[p + 1]] + lb[d[p + 2]];
  return dst;
}

/**
 * The glass colour: mean of the brightest 1% of pixels. A region with no glass in view (all
 * cells or tissue) would make stained pixels look like background, so below 180 we keep white.
 */
export function estimateWhite(img: RgbImage): Rgb3 {
  const d = img.data;
  const n = img.width * img.height;
  const hist = new Uint32Array(766);
  for (let p = 0; p < d.length; p += 3) hist[d[p] + d[p + 1] + d[p + 2]]++;
  let cut = 765;
  for (let acc = 0; cut > 0 && acc < n * 0.01; cut--) acc += hist[cut];
  let r = 0;
  let g = 0;
  let b = 0;
  let count = 0;
  for (let p = 0; p < d.length; p += 3) {
    if (d[p] + d[p + 1] + d[p + 2] <= cut) continue;
    r += d[p];
    g += d[p + 1];
    b += d[p + 2];
    count++;
  }
  if (count === 0 || (r + g + b) / count / 3 < 180) return [255, 255, 255];
  return [Math.round(r / count), Math.round(g / count), Math.round(b / count)];
}
