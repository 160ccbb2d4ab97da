// Patch extraction: the pixels of any box of a slide, at level 0 or resampled to a target
// microns per pixel, at a requested output size. One function for the shots-panel gallery,
// the training data pipeline and export, so all three see the same pixels for a label.
// Reads come from the coarsest slide level that still has enough resolution, as tiles do.
import { bestLevelForDownsample } from '../shared/deepZoom';
import type { Box, RgbImage, Size } from '../shared/image';
import type { SlideReader } from './types';
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

function checkBox(box: Box): Box {
  const b = { x: Math.round(box.x), y: Math.round(box.y), w: Math.round(box.w), h: Math.round(box.h) };
  if (![b.x, b.y].every(Number.isSafeInteger) || !(b.w >= 1 && b.h >= 1) || b.w * b.h > 2 ** 28) {
    throw new RangeError(`invalid patch box ${JSON.stringify(box)}`);
  }
  return b;
}

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

  // Level-0 pixels per output pixel decides the slide level, as DeepZoomGenerator does per tile.
  const level = bestLevelForDownsample(reader.levelDownsamples, Math.min(box.w / ow, box.h / oh));
  const ds = reader.levelDownsamples[level];
  const lw = Math.max(1, Math.ceil(box.w / ds));
  const lh = Math.max(1, Math.ceil(box.h / ds));
  const region = await reader.readRegion(level, box.x, box.y, lw, lh);
  if (lw === ow && lh === oh) return region;
  return toRgb(fromRgb(region).resize(ow, oh, { fit: 'fill', kernel: 'lanczos3' }));
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
