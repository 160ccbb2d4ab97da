// Nucleus detection on a slide from the command line, for checking the detector against what a
// pathologist (or QuPath) sees: prints counts and timing, and can write the outlines drawn over
// the image (PNG) and the detections as QuPath-compatible GeoJSON.
//
//   npx tsx scripts/detect-cells.ts --slide S.svs|S.tiff [--preset he-histology|pap-lbc] [--mpp 0.499]
//     [--level 0] [--tile 1024] [--overlay out.png] [--geojson out.geojson]
//
// Reads tiled TIFF and SVS JPEG pages with sharp (src/slides/cells/tiffSource.ts); SVS mpp is not
// visible to sharp, so give --mpp (CMU-1-Small-Region: 0.499). The overlay is drawn at the
// detection level and is meant for small slides or crops.
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { detectCells, openTiffSource, PRESETS, sizeOf, type CellDetection, type PresetName } from '../src/slides/cells/index';

function toGeoJson(detections: CellDetection[]): object {
  return {
    type: 'FeatureCollection',
    features: detections.map((d) => ({
      type: 'Feature',
      geometry: { type: 'Polygon', coordinates: [[...(d.outline ?? []), (d.outline ?? [])[0]].filter(Boolean)] },
      properties: {
        objectType: 'detection',
        classification: { name: 'Nucleus' },
        measurements: { 'Area um^2': d.areaUm2, 'Hematoxylin OD mean': d.meanOd, Circularity: d.circularity },
      },
    })),
  };
}

async function overlay(
  slidePath: string,
  level: number,
  page: { width: number; height: number },
  downsample: number,
  detections: CellDetection[],
  out: string,
  read: (l: number, x: number, y: number, w: number, h: number) => Promise<{ data: Uint8Array; width: number; height: number }>,
): Promise<void> {
  void slidePath;
  const img = await read(level, 0, 0, page.width, page.height);
  const paths = detections
    .filter((d) => d.outline && d.outline.length > 2)
    .map(
      (d) => `<polygon points="${d.outline!.map(([x, y]) => `${(x / downsample).toFixed(1)},${(y / downsample).toFixed(1)}`).join(' ')}"/>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${page.width}" height="${page.height}"><g fill="none" stroke="#00ff40" stroke-width="1.2">${paths}</g></svg>`;
  await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 }, limitInputPixels: false })
    .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
    .png()
    .toFile(out);
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
  const slidePath = opt('slide');
  if (!slidePath) throw new Error('--slide <file> is required');
  const presetName = (opt('preset') ?? 'he-histology') as PresetName;
  if (!(presetName in PRESETS)) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}`);
  const mpp = opt('mpp') ? { x: Number(opt('mpp')), y: Number(opt('mpp')) } : undefined;
  const source = await openTiffSource(slidePath, mpp ? { mpp } : {});
  const level = Number(opt('level') ?? 0);
  const t0 = performance.now();
  const r = await detectCells(source, PRESETS[presetName], { level, tileSize: Number(opt('tile') ?? 1024) });
  const seconds = (performance.now() - t0) / 1000;
  const { width, height } = sizeOf(source.levelDimensions[level]);
  const areas = r.detections.map((d) => d.areaUm2).sort((a, b) => a - b);
  const median = areas.length ? areas[areas.length >> 1] : 0;
  console.log(
    `${slidePath}: ${width}x${height} px at level ${level} (${r.umPerPx.toFixed(3)} um/px${r.mppAssumed ? ', ASSUMED' : ''}), preset ${presetName}: ` +
      `${r.detections.length} nuclei in ${seconds.toFixed(2)} s (${((width * height) / 1e6 / seconds).toFixed(2)} MP/s), median area ${median.toFixed(1)} um^2 ` +
      `(equivalent diameter ${(2 * Math.sqrt(median / Math.PI)).toFixed(1)} um), ${r.tilesSkipped}/${r.tilesTotal} tiles skipped as glass`,
  );
  const geo = opt('geojson');
  if (geo) await writeFile(geo, JSON.stringify(toGeoJson(r.detections)));
  const png = opt('overlay');
  if (png)
    await overlay(slidePath, level, { width, height }, r.downsample, r.detections, png, (l, x, y, w, h) =>
      source.readRegion(l, x, y, w, h),
    );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(`detect-cells: ${err.message}`);
    process.exitCode = 1;
  });
}
