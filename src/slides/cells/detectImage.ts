// Nucleus detection on one RGB image, in the spirit of QuPath's watershed cell detection:
// haematoxylin OD -> Gaussian smoothing -> background subtraction (grey opening) -> watershed
// from local maxima above the minimum contrast, each basin cut at half its peak -> basins split
// at distance-map necks (touching nuclei) -> size and shape filters. Everything runs on reused Float32/Int32 planes; see README.md for the choices.
import { floodBasins } from './basins';
import type { Component } from './components';
import { gaussianBlur, subtractBackground } from './filters';
import { measureRegions, type ColourTables, type MeasureOptions } from './measure';
import type { PixelParams } from './params';
import { splitComponent } from './split';
import { haematoxylinOd } from './stains';
import type { CellDetection, RgbImage } from './types';
import { Workspace } from './workspace';

export interface DetectImageOptions extends Partial<MeasureOptions> {
  /** channelLuts(channel, stain vectors, white) for this slide: the detection image. */
  luts: [Float32Array, Float32Array, Float32Array];
  /** Haematoxylin and OD-sum tables for the reported mean OD and the haematoxylin-share filter. */
  tables: ColourTables;
  workspace?: Workspace;
}

export interface Planes {
  /** Raw and smoothed haematoxylin OD, contrast above local background, and the final region ids. */
  od: Float32Array;
  smooth: Float32Array;
  contrast: Float32Array;
  regions: Int32Array;
  regionCount: number;
  /** 1 for region ids that came from leftovers of brighter basins (held to a rounder shape). */
  secondChance: Uint8Array;
  /** Basin each region id was split from: parts of one basin are siblings. */
  group: Int32Array;
}

/** The intermediate planes, for tests and for drawing what the detector saw. */
export function detectPlanes(img: RgbImage, px: PixelParams, luts: DetectImageOptions['luts'], ws = new Workspace()): Planes {
  const { width: w, height: h } = img;
  const n = w * h;
  const od = haematoxylinOd(img, luts, ws.f32('od', n));
  const smooth = gaussianBlur(od, w, h, px.sigmaPx, ws.f32('smooth', n), ws.f32('scratch', n));
  const contrast = ws.f32('contrast', n);
  contrast.set(smooth);
  subtractBackground(contrast, w, h, px.backgroundRadiusPx);

  const minRadius = px.minDiameterPx / 2;
  // Leftovers must clear a dark neighbour's blurred rim (about 2 sigma) to count as a nucleus.
  const basins = floodBasins(contrast, w, h, px.minContrastOd, 2 * px.sigmaPx + 1, ws);
  const comps = boxes(basins.ids, w, h, basins.count);
  const regions = ws.i32('regions', n).fill(0);
  let next = 1;
  const strict: number[] = [];
  const groupOf: number[] = [0];
  for (const c of comps) {
    const first = next;
    // Specks far below the smallest nucleus cannot become one: skip the splitting work.
    if (c.area < px.minAreaPx * 0.5) continue;
    if (px.splitTouching && c.area >= px.minAreaPx * 1.5) next = splitComponent(basins.ids, w, c, minRadius, regions, next);
    else {
      for (let y = c.y0; y <= c.y1; y++)
        for (let x = c.x0; x <= c.x1; x++) if (basins.ids[y * w + x] === c.label) regions[y * w + x] = next;
      next++;
    }
    if (c.label >= basins.firstLeftover) for (let id = first; id < next; id++) strict.push(id);
    for (let id = first; id < next; id++) groupOf[id] = c.label;
  }
  const secondChance = new Uint8Array(next);
  for (const id of strict) secondChance[id] = 1;
  return { od, smooth, contrast, regions, regionCount: next, secondChance, group: Int32Array.from(groupOf) };
}

/** Area and bounding box of each id 1..count-1. */
function boxes(ids: Int32Array, w: number, h: number, count: number): Component[] {
  const comps: Component[] = Array.from({ length: count - 1 }, (_, k) => ({ label: k + 1, area: 0, x0: w, y0: h, x1: -1, y1: -1 }));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const id = ids[y * w + x];
      if (!id) continue;
      const c = comps[id - 1];
      c.area++;
      if (x < c.x0) c.x0 = x;
      if (x > c.x1) c.x1 = x;
      if (y < c.y0) c.y0 = y;
      if (y > c.y1) c.y1 = y;
    }
  return comps;
}

/** Detections on `img`, in level-0 pixels of the slide it came from (see DetectImageOptions). */
export function detectInImage(img: RgbImage, px: PixelParams, o: DetectImageOptions): CellDetection[] {
  const planes = detectPlanes(img, px, o.luts, o.workspace);
  return measureRegions(planes.regions, img.width, img.height, planes.regionCount, img.data, planes.smooth, o.tables, px, {
    originX: o.originX ?? 0,
    originY: o.originY ?? 0,
    core: o.core,
    secondChance: planes.secondChance,
    group: planes.group,
  });
}
