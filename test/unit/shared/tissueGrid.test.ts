import { describe, expect, it } from 'vitest';
import { otsuThreshold, patchGrid, tissueMask, tissuePatches } from '../../../src/shared/tissueGrid';

/** A 20 x 10 overview: left half pink stained tissue, right half white glass. */
function halfTissue(): { data: Uint8Array; width: number; height: number; downsample: number } {
  const width = 20;
  const height = 10;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data.set(x < 10 ? [200, 90, 160] : [242, 240, 244], p);
    }
  return { data, width, height, downsample: 16 };
}

describe('tissue mask and patch grid', () => {
  it("finds Otsu's threshold between two populations", () => {
    const v = new Uint8Array([...Array(50).fill(10), ...Array(50).fill(200)]);
    const t = otsuThreshold(v);
    expect(t).toBeGreaterThanOrEqual(10);
    expect(t).toBeLessThan(200);
  });

  it('keeps only patches over tissue', () => {
    const m = tissueMask(halfTissue());
    expect(m.mask.reduce((a, b) => a + b, 0)).toBe(100);
    // level 0 is 320 x 160; 32-px patches: 10 x 5 grid, the left half (5 columns) on tissue.
    expect(patchGrid(320, 160, 32)).toHaveLength(50);
    const kept = tissuePatches(m, 320, 160, 32);
    expect(kept).toHaveLength(25);
    expect(Math.max(...kept.map((b) => b.x))).toBe(128);
  });

  it('keeps nothing on an empty slide', () => {
    const o = halfTissue();
    o.data.fill(240);
    expect(tissuePatches(tissueMask(o), 320, 160, 32)).toEqual([]);
  });
});
