// End to end on a real file: a synthetic LBC slide written as a pyramidal JPEG TIFF by sharp,
// read back tile by tile through the app's slide readers (OpenSlide first), detected, and scored against the generator's truth.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticLbcSlide, type SyntheticSlide } from '../../../../scripts/synthetic-lbc-slide';
import { detectCells, matchDetections, PAP_LBC_PRESET } from '../../../../src/slides/cells/index';
import { openSlide } from '../../../../src/slides/slideOpener';

// The full Herlev set when the integrator points at it, else the 35-crop sample kept for tests.
const CROPS = process.env.CYTOTUNE_HERLEV_DIR ?? join(__dirname, '../../../fixtures/cells/herlev-sample');

describe('synthetic LBC slide', () => {
  let dir: string;
  let slide: SyntheticSlide;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cytotune-cells-'));
    slide = await generateSyntheticLbcSlide({ out: join(dir, 'lbc.tiff'), cells: 200, seed: 1, sourceDir: CROPS });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is a pyramidal TIFF with its mpp and a truth CSV', async () => {
    const source = await openSlide(slide.path);
    expect(source.levelCount).toBeGreaterThanOrEqual(3);
    expect(source.levelDownsamples.slice(0, 3)).toEqual([1, 2, 4]);
    expect(source.mpp!.x).toBeCloseTo(0.5, 6);
    expect(slide.width * slide.height).toBeGreaterThan(1.5e6);
    const csv = (await readFile(slide.truthPath, 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('x,y,radius,class,source,nucleus_radius');
    expect(csv).toHaveLength(201);
    expect(new Set(slide.cells.map((c) => c.className)).size).toBe(7);
    // Nuclei scaled to a realistic 6-12 um (radius 6-12 px at 0.5 um/px, within the crop estimate's slack).
    const radii = slide.cells.map((c) => c.nucleusRadius).sort((a, b) => a - b);
    expect(radii[Math.floor(radii.length / 2)]).toBeGreaterThan(5);
    expect(radii[Math.floor(radii.length / 2)]).toBeLessThan(13);
  });

  it('detection finds >= 95 % of the cells with >= 90 % precision', async () => {
    const source = await openSlide(slide.path);
    const r = await detectCells(source, PAP_LBC_PRESET, { tileSize: 512 });
    const m = matchDetections(slide.cells, r.detections);
    expect(r.mppAssumed).toBe(false);
    expect(m.recall).toBeGreaterThanOrEqual(0.95);
    expect(m.precision).toBeGreaterThanOrEqual(0.9);
    // Every detection carries its geometry in level-0 pixels and micrometres.
    for (const d of r.detections) {
      expect(d.areaUm2).toBeCloseTo(d.areaPx * 0.25, 6);
      expect(d.outline!.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('a coarser level finds the same cells where nuclei stay resolvable', async () => {
    const source = await openSlide(slide.path);
    // At level 1 (1 um/px) the smallest nuclei (5 um) are 5 px: still above the 3 px floor.
    const r = await detectCells(source, PAP_LBC_PRESET, { level: 1, tileSize: 512 });
    const m = matchDetections(slide.cells, r.detections);
    expect(r.downsample).toBe(2);
    expect(m.recall).toBeGreaterThan(0.8);
    expect(m.precision).toBeGreaterThan(0.85);
  });
});

describe('synthetic LBC slide for checks against the source crops', () => {
  it('can plant crops unturned and write each cell alone, centred on its nucleus', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cytotune-cells-'));
    try {
      const side = 48;
      const slide = await generateSyntheticLbcSlide({
        out: join(dir, 'lbc.tiff'),
        cells: 12,
        seed: 2,
        sourceDir: CROPS,
        turn: false,
        planted: { dir: join(dir, 'planted'), side },
      });
      for (const cell of slide.cells) {
        const { data, info } = await sharp(cell.planted!).raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height, info.channels]).toEqual([side, side, 3]);
        // The nucleus (the darkest pixels) at the centre.
        let sx = 0;
        let sy = 0;
        let n = 0;
        const luma = (i: number) => data[3 * i] + data[3 * i + 1] + data[3 * i + 2];
        const darkest = Math.min(...Array.from({ length: side * side }, (_, i) => luma(i)));
        for (let i = 0; i < side * side; i++)
          if (luma(i) <= darkest + 60) {
            sx += i % side;
            sy += Math.floor(i / side);
            n++;
          }
        expect(Math.hypot(sx / n - side / 2, sy / n - side / 2)).toBeLessThan(cell.nucleusRadius + 2);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
