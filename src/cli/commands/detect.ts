// `cytotune detect SLIDE`: every nucleus of a slide or large image, tile by tile at one pyramid
// level, one row per detected cell (level-0 pixel centre, size in um^2, mean haematoxylin OD).
// Progress and time left go to stderr; the table to --csv or stdout (--json for JSON).
import { writeFile } from 'node:fs/promises';
import { detectCells, PRESETS, type DetectionParams, type PresetName } from '../../slides/cells';
import { openSlide } from '../../slides/slideOpener';
import { toGeoJson } from '../../main/export/geojson';
import { unclassifiedCellRow } from '../../main/export/labelTable';
import { defineCommand } from '../command';
import { formatDuration } from '../duration';
import { progressLine } from '../progressLine';

const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export const command = defineCommand({
  name: 'detect',
  summary: 'find every cell (nucleus) of a slide; one row per cell',
  usage:
    'usage: cytotune detect SLIDE [--level N] [--preset pap-lbc|he-histology] [--min-diameter UM] [--max-diameter UM] [--min-contrast OD] [--csv OUT | --json] [--geojson OUT]\n' +
    'Nuclei are found from stain (optical density), without model weights. Sizes are in micrometres,\n' +
    'converted with the slide`s microns per pixel. --level picks the pyramid level to detect at (0: full\n' +
    'resolution). The table has x, y (level-0 pixels), area_um2, mean_od, circularity and the box.\n' +
    '--geojson: also the nuclei as QuPath detections (outline polygons with area, stain and circularity), as `cytotune export` writes cells.',
  positionals: { min: 1, max: 1, name: 'SLIDE' },
  options: {
    level: { type: 'int', min: 0 },
    preset: { type: 'string', choices: PRESET_NAMES },
    'min-diameter': { type: 'number', positive: true },
    'max-diameter': { type: 'number', positive: true },
    'min-contrast': { type: 'number', positive: true },
    csv: { type: 'string' },
    json: { type: 'switch' },
    geojson: { type: 'string' },
  },
  async main({ values: v, positionals }, io) {
    const base = PRESETS[(v.preset as PresetName | undefined) ?? 'pap-lbc'];
    const params: Partial<DetectionParams> = { ...base };
    if (v['min-diameter'] !== undefined || v['max-diameter'] !== undefined) {
      params.nucleusDiameterUm = {
        min: v['min-diameter'] ?? base.nucleusDiameterUm.min,
        max: v['max-diameter'] ?? base.nucleusDiameterUm.max,
      };
    }
    if (v['min-contrast'] !== undefined) params.minContrastOd = v['min-contrast'];
    const reader = await openSlide(positionals[0]);
    const t0 = performance.now();
    const report = progressLine(io, 'detect');
    try {
      const result = await detectCells(reader, params, {
        level: v.level ?? 0,
        onProgress: (p) => report(p.tilesDone, p.tilesTotal, `tile ${p.tilesDone}/${p.tilesTotal}, ${p.cells} cells`),
      });
      if (result.mppAssumed)
        io.err(`detect: the slide records no microns per pixel; sizes assume ${params.fallbackMppUm ?? base.fallbackMppUm} um/px`);
      const rows = result.detections.map((d) => ({
        x: Math.round(d.x * 10) / 10,
        y: Math.round(d.y * 10) / 10,
        area_um2: Math.round(d.areaUm2 * 100) / 100,
        mean_od: Math.round(d.meanOd * 1000) / 1000,
        circularity: Math.round(d.circularity * 1000) / 1000,
        box_x: d.box.x,
        box_y: d.box.y,
        box_w: d.box.w,
        box_h: d.box.h,
      }));
      const seconds = (performance.now() - t0) / 1000;
      io.err(
        `detect: ${rows.length} cells in ${formatDuration(seconds)} (level ${result.level}, ${result.umPerPx.toFixed(3)} um/px, ${result.tilesSkipped} of ${result.tilesTotal} tiles empty)`,
      );
      if (v.geojson) {
        const source = `cytotune detect (detector ${result.detectorVersion})`;
        const cells = result.detections.map((d, i) =>
          unclassifiedCellRow({ ...d, id: i + 1, imageId: 0, detectionRunId: 0 }, positionals[0], source),
        );
        await writeFile(v.geojson, JSON.stringify(toGeoJson(cells)));
      }
      if (v.json) {
        io.out(
          JSON.stringify({ slide: positionals[0], detectorVersion: result.detectorVersion, params, level: result.level, cells: rows }),
        );
        return 0;
      }
      const header = Object.keys(
        rows[0] ?? { x: 0, y: 0, area_um2: 0, mean_od: 0, circularity: 0, box_x: 0, box_y: 0, box_w: 0, box_h: 0 },
      );
      const csv = [header.join(','), ...rows.map((r) => Object.values(r).join(','))].join('\n') + '\n';
      if (v.csv) await writeFile(v.csv, csv);
      else io.out(csv.trimEnd());
      return 0;
    } finally {
      reader.close();
    }
  },
});
