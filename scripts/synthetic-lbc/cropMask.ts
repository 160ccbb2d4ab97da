// What of a Herlev crop is "the cell": the crop minus its background (whatever is reachable from
// the border through the border's colour), closed, and reduced to the piece holding the nucleus,
// so fragments of neighbouring cells cut by the crop do not come along. Also a rough nucleus
// locator, which sets the crop's scale and the ground-truth position.
import type { RgbImage } from './bmp';

const od = (v: number): number => Math.max(0, -Math.log10((v + 1) / 256));

export interface NucleusBlob {
  /** Centre and equivalent diameter, crop pixels (pixel centres at i + 0.5). */
  x: number;
  y: number;
  diameter: number;
  /** 1 on the blob's pixels. */
  pixels: Uint8Array;
  /** The half-maximum level (OD sum) that drew the blob's edge. */
  cut: number;
}

/**
 * The blob around the darkest point of the crop's central 60 % (found on a 3x3 mean of OD sum,
 * against chromatin speckle), cut halfway between that point and the median of the crop's 2-px border:
 * a half-maximum contour against whatever surrounds the cell, glass or cytoplasm.
 */
export function nucleusBlob(img: RgbImage): NucleusBlob {
  const { width: w, height: h, data } = img;
  const raw = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) raw[i] = od(data[3 * i]) + od(data[3 * i + 1]) + od(data[3 * i + 2]);
  const dark = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let sum = 0;
      let n = 0;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(h - 1, y + 1); yy++)
        for (let xx = Math.max(0, x - 1); xx <= Math.min(w - 1, x + 1); xx++, n++) sum += raw[yy * w + xx];
      dark[y * w + x] = sum / n;
    }
  let peak = -1;
  let at = 0;
  for (let y = Math.floor(h * 0.2); y < h * 0.8; y++)
    for (let x = Math.floor(w * 0.2); x < w * 0.8; x++)
      if (dark[y * w + x] > peak) {
        peak = dark[y * w + x];
        at = y * w + x;
      }
  // The smoothed plane finds the nucleus; the raw one draws its edge (smoothing would widen a
  // 3-px pyknotic nucleus by half).
  let top = at;
  for (let y = Math.max(0, Math.floor(at / w) - 1); y <= Math.min(h - 1, Math.floor(at / w) + 1); y++)
    for (let x = Math.max(0, (at % w) - 1); x <= Math.min(w - 1, (at % w) + 1); x++) if (raw[y * w + x] > raw[top]) top = y * w + x;
  const border: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (x < 2 || y < 2 || x >= w - 2 || y >= h - 2) border.push(raw[y * w + x]);
  border.sort((p, q) => p - q);
  const cut = (raw[top] + border[border.length >> 1]) / 2;
  const above = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) above[i] = raw[i] > cut ? 1 : 0;
  at = top;
  const pixels = flood(above, w, h, [at]);
  let area = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < w * h; i++)
    if (pixels[i]) {
      area++;
      sx += (i % w) + 0.5;
      sy += Math.floor(i / w) + 0.5;
    }
  return { x: sx / area, y: sy / area, diameter: 2 * Math.sqrt(area / Math.PI), pixels, cut };
}

/** 3x3 binary dilation (or erosion) of a w x h mask. */
function morph(m: Uint8Array, w: number, h: number, dilate: boolean): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(m.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let v = dilate ? 0 : 1;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const xx = Math.min(w - 1, Math.max(0, x + dx));
          const yy = Math.min(h - 1, Math.max(0, y + dy));
          v = dilate ? v | m[yy * w + xx] : v & m[yy * w + xx];
        }
      out[y * w + x] = v;
    }
  return out;
}

/** 4-connected flood from `seeds` over pixels where `pass` is 1. */
function flood(pass: Uint8Array, w: number, h: number, seeds: number[]): Uint8Array {
  const reached = new Uint8Array(w * h);
  const stack: number[] = [];
  for (const s of seeds)
    if (pass[s] && !reached[s]) {
      reached[s] = 1;
      stack.push(s);
    }
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % w;
    for (const j of [i - w, i + w, x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1]) {
      if (j < 0 || j >= w * h || reached[j] || !pass[j]) continue;
      reached[j] = 1;
      stack.push(j);
    }
  }
  return reached;
}

/** 1 on the cell holding `nucleus`, 0 elsewhere (colours compared on a 3x3 mean of OD). */
export function cellMask(img: RgbImage, nucleus: NucleusBlob, tolerance = 0.07): Uint8Array {
  const { width: w, height: h, data } = img;
  const mean = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (let yy = Math.max(0, y - 1); yy <= Math.min(h - 1, y + 1); yy++)
          for (let xx = Math.max(0, x - 1); xx <= Math.min(w - 1, x + 1); xx++, n++) sum += od(data[(yy * w + xx) * 3 + c]);
        mean[(y * w + x) * 3 + c] = sum / n;
      }
  const border: number[][] = [[], [], []];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (x < 2 || y < 2 || x >= w - 2 || y >= h - 2) for (let c = 0; c < 3; c++) border[c].push(mean[(y * w + x) * 3 + c]);
  const ref = border.map((v) => v.sort((a, b) => a - b)[v.length >> 1]);
  const similar = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) {
    let d = 0;
    for (let c = 0; c < 3; c++) d = Math.max(d, Math.abs(mean[i * 3 + c] - ref[c]));
    similar[i] = d < tolerance ? 1 : 0;
  }
  const edge: number[] = [];
  for (let i = 0; i < w * h; i++) if (i % w === 0 || i < w || i % w === w - 1 || i >= w * (h - 1)) edge.push(i);
  const background = flood(similar, w, h, edge);
  const open = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) open[i] = 1 - background[i];
  const inside = morph(morph(open, w, h, true), w, h, false);
  // Where the whole crop is cell (its border is cytoplasm), the flood eats the cell: the nucleus
  // and a margin around it always stay.
  const margin = morph(morph(nucleus.pixels, w, h, true), w, h, true);
  for (let i = 0; i < w * h; i++) inside[i] |= margin[i];
  const seeds: number[] = [];
  for (let i = 0; i < w * h; i++) if (nucleus.pixels[i]) seeds.push(i);
  return flood(inside, w, h, seeds);
}

/**
 * Pixels of the visible cell (mask, inside 0.8 of the half side where the sprite's fall-off
 * still shows it) darker than the nucleus' own edge level but more than 2 px from it: a second
 * nucleus, a neutrophil on top, a fold. Crops with a few such pixels are left out of synthetic
 * slides, whose truth holds one nucleus per cell.
 */
export function otherDarkPixels(img: RgbImage, blob: NucleusBlob, mask: Uint8Array): number {
  const { width: w, height: h, data } = img;
  const near = morph(morph(blob.pixels, w, h, true), w, h, true);
  let count = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i] || near[i] || Math.hypot(x + 0.5 - w / 2, y + 0.5 - h / 2) > 0.4 * w) continue;
      if (od(data[3 * i]) + od(data[3 * i + 1]) + od(data[3 * i + 2]) > blob.cut) count++;
    }
  return count;
}
