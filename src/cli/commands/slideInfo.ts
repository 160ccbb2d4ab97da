// `cytotune slide-info FILE [--json] [--reader openslide|sharp]`: what a slide is, as the
// app will see it (reader used, levels, downsamples, mpp, vendor). Exit 0 on success,
// 1 with a one-line reason when the file cannot be opened, 2 on a usage error.
import { openSlide, openSlideAvailability } from '../../slides/slideOpener';
import type { SlideReader } from '../../slides/types';
import { defineCommand } from '../command';
import type { Io } from '../io';

export function describeSlide(reader: SlideReader) {
  const os = openSlideAvailability();
  return {
    file: reader.path,
    reader: reader.readerName,
    openslide: os.available ? { available: true, version: os.version } : { available: false, reason: os.message },
    vendor: reader.vendor,
    width: reader.dimensions[0],
    height: reader.dimensions[1],
    levelCount: reader.levelCount,
    levels: reader.levelDimensions.map(([width, height], i) => ({ level: i, width, height, downsample: reader.levelDownsamples[i] })),
    mpp: reader.mpp,
    objectivePower: reader.objectivePower,
    associatedImages: [...reader.associatedImageNames],
  };
}

export const command = defineCommand({
  name: 'slide-info',
  summary: 'what a slide is: reader, levels, downsamples, mpp, vendor',
  usage:
    'usage: cytotune slide-info FILE [--json] [--reader openslide|sharp]\n--reader sharp skips OpenSlide (the fallback the app uses when OpenSlide is missing).',
  options: { json: { type: 'switch' }, reader: { type: 'string', choices: ['openslide', 'sharp'] } },
  positionals: { name: 'FILE', min: 1, max: 1 },
  main: ({ values, positionals }, io) => slideInfo(positionals[0], values.reader, values.json, io),
});

export const runSlideInfo = command.run;

async function slideInfo(file: string, prefer: 'openslide' | 'sharp' | undefined, json: boolean, io: Io): Promise<number> {
  let reader: SlideReader;
  try {
    reader = await openSlide(file, { prefer });
  } catch (err) {
    // Expected failures (kind 'unreadable-slide') already name the file and the reason.
    io.err(`slide-info: ${(err as Error).message.split('\n')[0]}`);
    return 1;
  }
  try {
    const info = describeSlide(reader);
    if (json) {
      io.out(JSON.stringify(info, null, 2));
      return 0;
    }
    const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(4));
    const lines = [
      `file:        ${info.file}`,
      `reader:      ${info.reader}${info.reader === 'openslide' && info.openslide.available ? ` (OpenSlide ${info.openslide.version})` : ''}`,
      `vendor:      ${info.vendor ?? 'unknown'}`,
      `dimensions:  ${info.width} x ${info.height}`,
      `mpp:         ${info.mpp ? `${fmt(info.mpp.x)} x ${fmt(info.mpp.y)} µm/px` : 'unknown'}`,
      `objective:   ${info.objectivePower !== null ? `${info.objectivePower}x` : 'unknown'}`,
      `levels:      ${info.levelCount}`,
      ...info.levels.map((l) => `  level ${l.level}: ${l.width} x ${l.height}  downsample ${fmt(l.downsample)}`),
      `associated:  ${info.associatedImages.length ? info.associatedImages.join(', ') : 'none'}`,
    ];
    if (!info.openslide.available) lines.push(`note:        ${info.openslide.reason}`);
    io.out(lines.join('\n'));
    return 0;
  } finally {
    reader.close();
  }
}
