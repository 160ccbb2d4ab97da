import { describe, expect, it } from 'vitest';
import {
  estimateWhite,
  haematoxylinLuts,
  haematoxylinOd,
  invert3,
  odSumLuts,
  opticalDensity,
  STAIN_VECTORS,
  stainMatrix,
} from '../../../../src/slides/cells/stains';

/** The 8-bit colour of `amounts` (OD units) of the given stains on glass of `white`. */
function colour(vectors: ReadonlyArray<readonly number[]>, amounts: number[], white = 255): number[] {
  const od = [0, 0, 0];
  vectors.forEach((v, k) => {
    const n = Math.hypot(...v);
    for (let c = 0; c < 3; c++) od[c] += (amounts[k] * v[c]) / n;
  });
  // Inverse of OD = -log10((I + 1) / (white + 1)).
  return od.map((d) => Math.round((white + 1) * Math.pow(10, -d) - 1));
}

describe('colour deconvolution', () => {
  it('uses QuPath optical density: 0 on glass, log10(256) on black', () => {
    expect(opticalDensity(255)).toBe(0);
    expect(opticalDensity(0)).toBeCloseTo(Math.log10(256), 6);
    expect(opticalDensity(127)).toBeCloseTo(-Math.log10(128 / 256), 6);
    // Brighter than the estimated white is clamped to 0 rather than negative.
    expect(opticalDensity(250, 240)).toBe(0);
  });

  it('the stain matrix inverse is an inverse', () => {
    const m = stainMatrix(STAIN_VECTORS.he);
    const inv = invert3(m);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) expect(m[i].reduce((a, _, k) => a + m[i][k] * inv[k][j], 0)).toBeCloseTo(i === j ? 1 : 0, 9);
  });

  it('recovers the haematoxylin amount of pure and mixed H&E colours', () => {
    const luts = haematoxylinLuts(STAIN_VECTORS.he);
    const cases: Array<[number, number]> = [
      [0.5, 0],
      [1.0, 0],
      [0.3, 0.4],
      [0, 0.8],
    ];
    for (const [h, e] of cases) {
      const [r, g, b] = colour(STAIN_VECTORS.he, [h, e]);
      const got = luts[0][r] + luts[1][g] + luts[2][b];
      // 8-bit rounding costs up to ~0.02 OD at these densities.
      expect(got).toBeCloseTo(h, 1);
      expect(Math.abs(got - h)).toBeLessThan(0.03);
    }
  });

  it('separates haematoxylin from DAB with the H-DAB vectors', () => {
    const luts = haematoxylinLuts(STAIN_VECTORS.hdab);
    const [r, g, b] = colour(STAIN_VECTORS.hdab, [0.2, 0.9]);
    expect(Math.abs(luts[0][r] + luts[1][g] + luts[2][b] - 0.2)).toBeLessThan(0.03);
  });

  it('OD relative to the estimated white: a tinted glass reads as zero', () => {
    const luts = haematoxylinLuts(STAIN_VECTORS.he, [240, 236, 245]);
    expect(luts[0][240] + luts[1][236] + luts[2][245]).toBeCloseTo(0, 6);
    const sum = odSumLuts([240, 236, 245]);
    expect(sum[0][240] + sum[1][236] + sum[2][245]).toBeCloseTo(0, 6);
  });

  it('haematoxylinOd writes one value per pixel', () => {
    const img = { data: new Uint8Array([255, 255, 255, ...colour(STAIN_VECTORS.he, [0.7, 0])]), width: 2, height: 1 };
    const od = haematoxylinOd(img, haematoxylinLuts(STAIN_VECTORS.he));
    expect(od[0]).toBeCloseTo(0, 6);
    expect(od[1]).toBeCloseTo(0.7, 1);
  });

  it('estimates the glass colour from the brightest pixels, and keeps white when no glass shows', () => {
    const n = 10_000;
    const data = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) data.set(i < n * 0.3 ? [232, 228, 240] : [120, 90, 150], i * 3);
    expect(estimateWhite({ data, width: n, height: 1 })).toEqual([232, 228, 240]);
    const dark = new Uint8Array(n * 3).fill(100);
    expect(estimateWhite({ data: dark, width: n, height: 1 })).toEqual([255, 255, 255]);
  });
});
