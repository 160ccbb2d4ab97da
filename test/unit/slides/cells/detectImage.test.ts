import { describe, expect, it } from 'vitest';
import { floodBasins } from '../../../../src/slides/cells/basins';
import { gaussianBlur, subtractBackground } from '../../../../src/slides/cells/filters';
import { HE_HISTOLOGY_PRESET, toPixelParams, type DetectionParams } from '../../../../src/slides/cells/params';
import { previewRegion } from '../../../../src/slides/cells/preview';
import { haematoxylinLuts, haematoxylinOd, STAIN_VECTORS } from '../../../../src/slides/cells/stains';
import { Workspace } from '../../../../src/slides/cells/workspace';
import { drawBlobs, type Blob } from './synthetic';

const MPP = { x: 0.5, y: 0.5 };
// Nuclei of 4-16 um are 8-32 px here.
const params: DetectionParams = { ...HE_HISTOLOGY_PRESET };

describe('seeds and basins on a synthetic disk image', () => {
  it('one basin per disk, none on glass', () => {
    const blobs: Blob[] = [
      { x: 40, y: 40, r: 8, od: 0.6 },
      { x: 120, y: 50, r: 12, od: 0.4 },
      { x: 70, y: 130, r: 5, od: 0.9 },
    ];
    const img = drawBlobs(180, 180, blobs);
    const conv = toPixelParams(params, MPP, 1);
    if (!conv.ok) throw new Error(conv.message);
    const px = conv.px;
    const n = img.width * img.height;
    const od = haematoxylinOd(img, haematoxylinLuts(STAIN_VECTORS.he, [250, 250, 250]));
    const c = gaussianBlur(od, img.width, img.height, px.sigmaPx, new Float32Array(n), new Float32Array(n));
    subtractBackground(c, img.width, img.height, px.backgroundRadiusPx);
    const basins = floodBasins(c, img.width, img.height, px.minContrastOd, 2 * px.sigmaPx + 1, new Workspace());
    expect(basins.count - 1).toBe(3);
    const idAt = (x: number, y: number): number => basins.ids[y * img.width + x];
    const ids = blobs.map((b) => idAt(b.x, b.y));
    expect(new Set(ids).size).toBe(3);
    expect(ids.every((id) => id > 0)).toBe(true);
    expect(idAt(5, 5)).toBe(0);
  });

  it('finds disks where they are, with the right area and a round shape', () => {
    const blobs: Blob[] = [
      { x: 50.5, y: 50.5, r: 10, od: 0.6 },
      { x: 150.5, y: 60.5, r: 6, od: 0.8 },
      { x: 100.5, y: 150.5, r: 14, od: 0.35 },
    ];
    const { detections } = previewRegion(drawBlobs(200, 200, blobs), params, { mpp: MPP });
    expect(detections).toHaveLength(3);
    for (const b of blobs) {
      const d = detections.find((q) => Math.hypot(q.x - b.x, q.y - b.y) < 1.5);
      expect(d, `disk at ${b.x},${b.y}`).toBeDefined();
      // Half-maximum edge of a blurred disk is the disk's edge: area within 25 %.
      expect(d!.areaPx / (Math.PI * b.r * b.r)).toBeGreaterThan(0.75);
      expect(d!.areaPx / (Math.PI * b.r * b.r)).toBeLessThan(1.25);
      expect(d!.areaUm2).toBeCloseTo(d!.areaPx * 0.25, 6);
      expect(d!.circularity).toBeGreaterThan(0.85);
      expect(d!.meanOd).toBeGreaterThan(b.od * 0.6);
      expect(d!.outline!.length).toBeGreaterThanOrEqual(6);
    }
  });

  it('ignores specks below the minimum size and blobs below the minimum contrast', () => {
    const img = drawBlobs(160, 100, [
      { x: 30, y: 50, r: 2, od: 1.0 }, // 2 um across: debris
      { x: 80, y: 50, r: 10, od: 0.06 }, // faint haze
      { x: 130, y: 50, r: 10, od: 0.6 }, // a nucleus
    ]);
    const { detections } = previewRegion(img, params, { mpp: MPP });
    expect(detections.map((d) => Math.round(d.x))).toEqual([130]);
  });

  it('reports level-0 coordinates for an image read at a downsample', () => {
    const img = drawBlobs(100, 100, [{ x: 50.5, y: 40.5, r: 8, od: 0.6 }]);
    // Image taken at downsample 2 from level-0 position (1000, 2000); mpp 0.25 makes 0.5 um per image px.
    const { detections, px } = previewRegion(img, params, { mpp: { x: 0.25, y: 0.25 }, downsample: 2, x0: 1000, y0: 2000 });
    expect(px.umPerPx).toBeCloseTo(0.5, 9);
    expect(detections).toHaveLength(1);
    expect(detections[0].x).toBeCloseTo(1000 + 50.5 * 2, 0);
    expect(detections[0].y).toBeCloseTo(2000 + 40.5 * 2, 0);
    expect(detections[0].box.w).toBeGreaterThan(28);
  });
});

describe('splitting touching nuclei', () => {
  it('splits two touching disks into two detections at their centres', () => {
    const blobs: Blob[] = [
      { x: 60, y: 60, r: 12, od: 0.6 },
      { x: 80, y: 60, r: 12, od: 0.6 }, // centres 20 px apart: overlapping by 4 px
    ];
    const img = drawBlobs(140, 120, blobs);
    const split = previewRegion(img, params, { mpp: MPP }).detections;
    expect(split).toHaveLength(2);
    const xs = split.map((d) => d.x).sort((a, b) => a - b);
    expect(Math.abs(xs[0] - 60)).toBeLessThan(3);
    expect(Math.abs(xs[1] - 80)).toBeLessThan(3);
    const merged = previewRegion(img, { ...params, splitTouching: false, minCircularity: 0 }, { mpp: MPP }).detections;
    expect(merged).toHaveLength(1);
  });

  it('does not split one elongated nucleus', () => {
    const img = drawBlobs(140, 100, [{ x: 70, y: 50, r: 14, ry: 7, od: 0.6 }]);
    expect(previewRegion(img, params, { mpp: MPP }).detections).toHaveLength(1);
  });

  it('splits touching disks of different stain depth', () => {
    const img = drawBlobs(140, 120, [
      { x: 60, y: 60, r: 10, od: 0.9 },
      { x: 79, y: 60, r: 10, od: 0.35 },
    ]);
    expect(previewRegion(img, params, { mpp: MPP }).detections).toHaveLength(2);
  });
});
