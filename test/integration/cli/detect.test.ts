// `cytotune detect`: one row per nucleus of a real H&E slide, and one-line refusals.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { command } from '../../../src/cli/commands/detect';
import type { Io } from '../../../src/cli/io';
import type { FeatureCollection } from '../../../src/main/export/geojson';
import { slidePath, tempDir } from '../../support/paths';

function capture(): Io & { out: (s: string) => void; lines: { out: string[]; err: string[] } } {
  const lines = { out: [] as string[], err: [] as string[] };
  return { lines, out: (s) => lines.out.push(s), err: (s) => lines.err.push(s) };
}

describe('cytotune detect', () => {
  it('writes one CSV row per nucleus of CMU-1-Small-Region (H&E preset), with progress on stderr', async () => {
    const io = capture();
    const csv = join(tempDir(), 'cells.csv');
    const geojson = join(tempDir(), 'cells.geojson');
    expect(await command.run([slidePath, '--preset', 'he-histology', '--csv', csv, '--geojson', geojson], io)).toBe(0);
    const [header, ...rows] = readFileSync(csv, 'utf8').trim().split('\n');
    expect(header).toBe('x,y,area_um2,mean_od,circularity,box_x,box_y,box_w,box_h');
    // A 1.1 x 1.5 mm H&E region at 0.5 um/px holds a few thousand nuclei.
    expect(rows.length).toBeGreaterThan(1000);
    expect(rows.length).toBeLessThan(6000);
    for (const row of rows.slice(0, 50)) {
      const [x, y, area] = row.split(',').map(Number);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(2220);
      expect(y).toBeLessThan(2967);
      expect(area).toBeGreaterThan(5);
    }
    // The same cells as QuPath detections on their outlines, as `cytotune export` writes them.
    const geo = JSON.parse(readFileSync(geojson, 'utf8')) as FeatureCollection;
    expect(geo.features).toHaveLength(rows.length);
    const [first] = geo.features;
    expect(first.geometry.type).toBe('Polygon');
    expect(first.properties.objectType).toBe('detection');
    expect(first.properties.classification).toBeUndefined();
    const measurements = first.properties.measurements as Record<string, number>;
    expect(measurements['Nucleus: Area µm^2']).toBeCloseTo(Number(rows[0].split(',')[2]), 2);
    expect(io.lines.err.some((l) => /^detect: tile \d+\/\d+, \d+ cells/.test(l))).toBe(true);
    expect(io.lines.err.at(-1)).toMatch(/^detect: \d+ cells in .* \(level 0, 0\.499 um\/px/);
  });

  it('refuses a missing file (exit 1) and a bad option (exit 2) with one line', async () => {
    const missing = capture();
    expect(await command.run([join(tempDir(), 'nope.svs')], missing)).toBe(1);
    expect(missing.lines.err).toHaveLength(1);
    const bad = capture();
    expect(await command.run([slidePath, '--preset', 'nope'], bad)).toBe(2);
    expect(bad.lines.err).toHaveLength(1);
  });
});
