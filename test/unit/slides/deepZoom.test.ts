import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allTiles, bestLevelForDownsample, createDeepZoom, dziXml, tileRegion } from '../../../src/shared/deepZoom';
import type { Size } from '../../../src/shared/image';

// Expected values come from openslide-python's DeepZoomGenerator (test/fixtures/slides/make_deepzoom_fixture.py).
interface FixtureTile {
  level: number;
  col: number;
  row: number;
  l0Location: number[];
  slideLevel: number;
  levelSize: number[];
  tileSize: number[];
}
interface FixtureCase {
  name: string;
  slide: { levelDimensions: number[][]; levelDownsamples: number[]; properties: Record<string, string> };
  tileSize: number;
  overlap: number;
  limitBounds: boolean;
  levelCount: number;
  levelDimensions: number[][];
  levelTiles: number[][];
  tileCount: number;
  dzi: string;
  tiles: FixtureTile[];
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/slides/deepzoom.json', import.meta.url), 'utf8')) as {
  cases: FixtureCase[];
};

function layoutOf(c: FixtureCase) {
  const p = c.slide.properties;
  const num = (k: string) => (p[k] === undefined ? undefined : Number(p[k]));
  return createDeepZoom(
    {
      levelDimensions: c.slide.levelDimensions as unknown as Size[],
      levelDownsamples: c.slide.levelDownsamples,
      bounds: {
        x: num('openslide.bounds-x'),
        y: num('openslide.bounds-y'),
        width: num('openslide.bounds-width'),
        height: num('openslide.bounds-height'),
      },
    },
    { tileSize: c.tileSize, overlap: c.overlap, limitBounds: c.limitBounds },
  );
}

describe('Deep Zoom maths match openslide-python DeepZoomGenerator', () => {
  it('the fixture covers the real slide at three tile sizes and multi-level synthetic slides', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(6);
    expect(fixture.cases[0].slide.levelDimensions[0]).toEqual([2220, 2967]);
    expect(new Set(fixture.cases.flatMap((c) => c.tiles.map((t) => t.slideLevel))).size).toBeGreaterThan(3);
  });

  for (const c of fixture.cases) {
    describe(c.name, () => {
      const layout = layoutOf(c);
      it('level count, level dimensions, tile grids, tile count and DZI', () => {
        expect(layout.levelCount).toBe(c.levelCount);
        expect(layout.levelDimensions).toEqual(c.levelDimensions);
        expect(layout.levelTiles).toEqual(c.levelTiles);
        expect(layout.tileCount).toBe(c.tileCount);
        expect(dziXml(layout)).toBe(c.dzi);
      });
      it(`get_tile_coordinates and tile dimensions for ${c.tiles.length} sampled tiles`, () => {
        for (const t of c.tiles) {
          const r = tileRegion(layout, t.level, t.col, t.row);
          expect(r, `${t.level}/${t.col}_${t.row}`).toEqual({
            level: t.level,
            col: t.col,
            row: t.row,
            l0Location: t.l0Location,
            slideLevel: t.slideLevel,
            levelSize: t.levelSize,
            tileSize: t.tileSize,
          });
        }
      });
    });
  }

  it('refuses addresses outside the pyramid and non-integers', () => {
    const layout = layoutOf(fixture.cases[0]);
    const last = layout.levelCount - 1;
    const [cols, rows] = layout.levelTiles[last];
    expect(tileRegion(layout, last, cols - 1, rows - 1)).not.toBeNull();
    for (const [l, c, r] of [
      [-1, 0, 0],
      [layout.levelCount, 0, 0],
      [last, cols, 0],
      [last, 0, rows],
      [last, -1, 0],
      [0.5, 0, 0],
      [last, NaN, 0],
      [last, 1e300, 0],
    ]) {
      expect(tileRegion(layout, l, c, r)).toBeNull();
    }
  });

  it('every tile of the real slide tiles each Deep Zoom level exactly (sizes add up)', () => {
    const layout = layoutOf(fixture.cases[0]);
    let n = 0;
    const widthOfRow0 = new Map<number, number>();
    for (const { level, col, row } of allTiles(layout)) {
      const r = tileRegion(layout, level, col, row)!;
      n++;
      // Interior edges carry the overlap, outer edges do not.
      const cols = layout.levelTiles[level][0];
      const ov = layout.overlap * ((col > 0 ? 1 : 0) + (col < cols - 1 ? 1 : 0));
      if (row === 0) widthOfRow0.set(level, (widthOfRow0.get(level) ?? 0) + r.tileSize[0] - ov);
    }
    expect(n).toBe(layout.tileCount);
    for (const [level, w] of widthOfRow0) expect(w).toBe(layout.levelDimensions[level][0]);
  });

  it('best level follows OpenSlide: the finest level whose downsample does not exceed the request', () => {
    const d = [1, 4.0001, 16.0005];
    expect([0.5, 1, 3.99, 4.0001, 15, 16.0005, 64].map((x) => bestLevelForDownsample(d, x))).toEqual([0, 0, 0, 1, 1, 2, 2]);
  });

  it('rejects a bad tile size or overlap as a bug in the caller', () => {
    expect(() => createDeepZoom({ levelDimensions: [[10, 10]], levelDownsamples: [1] }, { tileSize: 0 })).toThrow(RangeError);
    expect(() => createDeepZoom({ levelDimensions: [[10, 10]], levelDownsamples: [1] }, { overlap: -1 })).toThrow(RangeError);
  });
});
