// Patch extraction: the pixels of any box of a slide, at level 0 or resampled to a target
// microns per pixel, at a requested output size. One function for the shots-panel gallery,
// the training data pipeline and export, so all three see the same pixels for a label.
// Reads come from the coarsest slide level that still has enough resolution, as tiles do.
import { bestLevelForDownsample } from '../shared/deepZoom';
import type { Box, RgbImage, Size } from '../shared/image';
import type { SlideReader } from './types';
import sharp from 'sharp';
import { MAX_REGION_PIXELS } from './pixelLimits';
import { fromRgb, toRgb } from './sharpRgb';

export interface PatchSpec {
  box: Box;
  /** Resample so one output pixel covers `targetMpp` microns (needs the slide's mpp). */
  targetMpp?: number;
  /** Output (width, height) or a square side; default: the box at level 0 or at targetMpp. */
  outputSize?: number | Size;
}

export class PatchError extends Error {
  constructor(
    readonly kind: 'slide-has-no-mpp',
    message: string,
  ) {
    super(message);
  }
}

function sizeOf(s: number | Size): Size {
  return typeof s === 'number' ? [s, s] : s;
}

/** The level-0 box of `outputSize` pixels at `targetMpp`, centred on (cx, cy): a click-placed label at a physical size. */
export function boxAroundCenter(
  reader: Pick<SlideReader, 'mpp' | 'path'>,
  cx: number,
  cy: number,
  outputSize: number | Size,
  targetMpp?: number,
): Box {
  const [ow, oh] = sizeOf(outputSize);
  let sx = 1;
  let sy = 1;
  if (targetMpp !== undefined) {
    if (!reader.mpp) throw new PatchError('slide-has-no-mpp', `${reader.path} has no microns-per-pixel; give the patch size in pixels`);
    sx = targetMpp / reader.mpp.x;
    sy = targetMpp / reader.mpp.y;
  }
  const width = Math.max(1, Math.round(ow * sx));
  const height = Math.max(1, Math.round(oh * sy));
  return { x: Math.round(cx - width / 2), y: Math.round(cy - height / 2), w: width, h: height };
}

/** Integer level-0 box; a box no image could hold (NaN, 1e300) is the caller's bug, named in the error. */
function checkBox(box: Box): Box {
  const b = { x: Math.round(box.x), y: Math.round(box.y), w: Math.round(box.w), h: Math.round(box.h) };
  if (![b.x, b.y, b.w, b.h].every((v) => Number.isSafeInteger(v) && Math.abs(v) <= 2 ** 31) || !(b.w >= 1 && b.h >= 1)) {
    throw new RangeError(`invalid patch box ${JSON.stringify(box)}`);
  }
  return b;
}

/** Up to this many pixels a box is read whole (the reader pads what lies outside); above, only its part inside the slide. */
const READ_WHOLE_MAX_PIXELS = 4 * 1024 * 1024;

/** RGB pixels of `spec.box` (level-0 pixels; outside the slide is background) at the requested size. */
export async function extractPatch(reader: SlideReader, spec: PatchSpec): Promise<RgbImage> {
  const box = checkBox(spec.box);
  let natural: Size = [box.w, box.h];
  if (spec.targetMpp !== undefined) {
    if (!(spec.targetMpp > 0)) throw new RangeError(`targetMpp must be > 0, got ${spec.targetMpp}`);
    if (!reader.mpp) throw new PatchError('slide-has-no-mpp', `${reader.path} has no microns-per-pixel; extract the patch in pixels`);
    natural = [
      Math.max(1, Math.round((box.w * reader.mpp.x) / spec.targetMpp)),
      Math.max(1, Math.round((box.h * reader.mpp.y) / spec.targetMpp)),
    ];
  }
  const [ow, oh] = spec.outputSize === undefined ? natural : sizeOf(spec.outputSize);
  if (!(Number.isInteger(ow) && Number.isInteger(oh) && ow >= 1 && oh >= 1)) throw new RangeError(`invalid output size ${ow}x${oh}`);
  if (ow * oh > MAX_REGION_PIXELS) throw new RangeError(`patch of ${ow}x${oh} px is too large to make at once`);

  // Level-0 pixels per output pixel decides the slide level, as DeepZoomGenerator does per tile.
  const level = bestLevelForDownsample(reader.levelDownsamples, Math.min(box.w / ow, box.h / oh));
  const ds = reader.levelDownsamples[level];
  const lw = Math.max(1, Math.ceil(box.w / ds));
  const lh = Math.max(1, Math.ceil(box.h / ds));
  if (lw * lh <= READ_WHOLE_MAX_PIXELS) return scaledRegion(reader, level, box, lw, lh, ow, oh);
  return clippedPatch(reader, box, level, ow, oh);
}

/** The region of `box` at `level` (lw x lh pixels there) resized to ow x oh. */
async function scaledRegion(
  reader: SlideReader,
  level: number,
  box: Box,
  lw: number,
  lh: number,
  ow: number,
  oh: number,
): Promise<RgbImage> {
  const region = await reader.readRegion(level, box.x, box.y, lw, lh);
  if (lw === ow && lh === oh) return region;
  return toRgb(fromRgb(region).resize(ow, oh, { fit: 'fill', kernel: 'lanczos3' }));
}

/**
 * A large box read as the part of it inside the slide, resized to its share of the output and
 * placed on the background: the cost follows the slide's pixels, never the box's (a 16000 px box
 * on a 40 px image reads 40 x 40 px). A part larger than one band is read band by band.
 */
async function clippedPatch(reader: SlideReader, box: Box, level: number, ow: number, oh: number): Promise<RgbImage> {
  const [W, H] = reader.dimensions;
  const x0 = Math.max(box.x, 0);
  const y0 = Math.max(box.y, 0);
  const x1 = Math.min(box.x + box.w, W);
  const y1 = Math.min(box.y + box.h, H);
  const [r, g, b] = reader.background;
  if (x1 <= x0 || y1 <= y0) return toRgb(sharp({ create: { width: ow, height: oh, channels: 3, background: { r, g, b } } }));
  const left = Math.min(ow - 1, Math.round(((x0 - box.x) * ow) / box.w));
  const top = Math.min(oh - 1, Math.round(((y0 - box.y) * oh) / box.h));
  const pw = Math.min(ow - left, Math.max(1, Math.round(((x1 - x0) * ow) / box.w)));
  const ph = Math.min(oh - top, Math.max(1, Math.round(((y1 - y0) * oh) / box.h)));
  const inside = await bandedRegion(reader, level, { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, pw, ph);
  if (pw === ow && ph === oh) return inside;
  return toRgb(fromRgb(inside).extend({ left, top, right: ow - left - pw, bottom: oh - top - ph, background: { r, g, b } }));
}

/** Rows of the level read per band: 16 MP of RGBA at a time. */
const BAND_PIXELS = 16 * 1024 * 1024;

/** `box` (inside the slide) at `level`, resized to ow x oh, read in horizontal bands of at most BAND_PIXELS. */
export async function readScaled(reader: SlideReader, level: number, box: Box, ow: number, oh: number): Promise<RgbImage> {
  return bandedRegion(reader, level, box, ow, oh);
}

async function bandedRegion(reader: SlideReader, level: number, box: Box, ow: number, oh: number): Promise<RgbImage> {
  const ds = reader.levelDownsamples[level];
  const lw = Math.max(1, Math.ceil(box.w / ds));
  const lh = Math.max(1, Math.ceil(box.h / ds));
  if (lw * lh <= BAND_PIXELS) return scaledRegion(reader, level, box, lw, lh, ow, oh);
  const out = new Uint8Array(ow * oh * 3);
  const bandRows = Math.max(1, Math.floor(BAND_PIXELS / lw));
  for (let r0 = 0; r0 < lh; r0 += bandRows) {
    const r1 = Math.min(lh, r0 + bandRows);
    const o0 = Math.round((r0 * oh) / lh);
    const o1 = Math.round((r1 * oh) / lh);
    if (o1 <= o0) continue;
    const band = await reader.readRegion(level, box.x, box.y + Math.round(r0 * ds), lw, r1 - r0);
    const scaled = await toRgb(fromRgb(band).resize(ow, o1 - o0, { fit: 'fill', kernel: 'lanczos3' }));
    out.set(scaled.data, o0 * ow * 3);
  }
  return { data: out, width: ow, height: oh };
}

/** Encode RGB pixels for the gallery or export. */
export async function encodeRgb(img: RgbImage, format: 'jpeg' | 'png' = 'jpeg', quality = 90): Promise<Buffer> {
  const s = fromRgb(img);
  return format === 'png' ? s.png().toBuffer() : s.jpeg({ quality }).toBuffer();
}

/** A gallery thumbnail of a label box: the box fitted into `size` x `size`, aspect kept. */
export async function patchThumbnail(reader: SlideReader, box: Box, size = 128, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const b = checkBox(box);
  const scale = size / Math.max(b.w, b.h);
  const out: Size = [Math.max(1, Math.round(b.w * scale)), Math.max(1, Math.round(b.h * scale))];
  return encodeRgb(await extractPatch(reader, { box: b, outputSize: out }), format);
}

/** A whole-slide thumbnail fitting `maxSide` (openslide-python get_thumbnail: best level, whole slide, Lanczos). */
export async function slideThumbnail(reader: SlideReader, maxSide = 512): Promise<RgbImage> {
  const [w, h] = reader.dimensions;
  const scale = Math.min(1, maxSide / Math.max(w, h));
  return extractPatch(reader, {
    box: { x: 0, y: 0, w, h },
    outputSize: [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale))],
  });
}
