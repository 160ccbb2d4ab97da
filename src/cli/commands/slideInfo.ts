// `cytotune slide-info FILE [--json] [--reader openslide|sharp]`: what a slide is, as the
// app will see it (reader used, levels, downsamples, mpp, vendor). Exit 0 on success,
// 1 with a one-line reason when the file cannot be opened, 2 on a usage error.
import { openSlide, openSlideAvailability } from '../../slides/slideOpener';
import type { SlideReader } from '../../slides/types';

export interface CommandIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

const USAGE = 'usage: cytotune slide-info FILE [--json] [--reader openslide|sharp]';

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

export async function runSlideInfo(argv: string[], io: CommandIo): Promise<number> {
  let json = false;
  let prefer: 'openslide' | 'sharp' | undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--reader' && (argv[i + 1] === 'openslide' || argv[i + 1] === 'sharp')) prefer = argv[++i] as 'openslide' | 'sharp';
    else if (a === '-h' || a === '--help') {
      io.out(USAGE);
      return 0;
    } else if (a.startsWith('-')) {
      io.err(`slide-info: unknown option ${a}\n${USAGE}`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    io.err(`slide-info: expected one FILE\n${USAGE}`);
    return 2;
  }
  let reader: SlideReader;
  try {
    reader = await openSlide(files[0], { prefer });
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
