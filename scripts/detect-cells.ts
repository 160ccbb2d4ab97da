// The detector's outlines drawn over a slide, for checking it against what a pathologist (or
// QuPath) sees: a thin front on the app's own pieces (the slide readers, detectCells). Counts,
// timing, the CSV and QuPath GeoJSON come from `cytotune detect SLIDE [--geojson OUT]`; this
// script adds only the picture.
//
//   npx tsx scripts/detect-cells.ts --slide S.svs|S.tiff --overlay out.png [--preset he-histology|pap-lbc] [--level 0]
//
// The overlay is drawn at the detection level and is meant for small slides or crops.
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { parseArgs } from '../src/cli/args';
import { detectCells, PRESETS, type PresetName } from '../src/slides/cells/index';
import { openSlide } from '../src/slides/slideOpener';

const OPTIONS = {
  slide: { type: 'string', required: true },
  overlay: { type: 'string', required: true },
  preset: { type: 'string', choices: Object.keys(PRESETS) },
  level: { type: 'int', min: 0 },
} as const;

async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs(argv, OPTIONS);
  const reader = await openSlide(v.slide!);
  try {
    const level = v.level ?? 0;
    const r = await detectCells(reader, PRESETS[(v.preset as PresetName | undefined) ?? 'he-histology'], { level });
    const [width, height] = reader.levelDimensions[level];
    const img = await reader.readRegion(level, 0, 0, width, height);
    const ds = r.downsample;
    const polygons = r.detections
      .filter((d) => d.outline && d.outline.length > 2)
      .map((d) => `<polygon points="${d.outline!.map(([x, y]) => `${(x / ds).toFixed(1)},${(y / ds).toFixed(1)}`).join(' ')}"/>`)
      .join('');
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g fill="none" stroke="#00ff40" stroke-width="1.2">${polygons}</g></svg>`;
    await sharp(img.data, { raw: { width, height, channels: 3 }, limitInputPixels: false })
      .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
      .png()
      .toFile(v.overlay!);
    console.log(`${v.slide}: ${r.detections.length} nuclei at level ${level} (${r.umPerPx.toFixed(3)} um/px); wrote ${v.overlay}`);
  } finally {
    reader.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(`detect-cells: ${err.message}`);
    process.exitCode = 1;
  });
}
