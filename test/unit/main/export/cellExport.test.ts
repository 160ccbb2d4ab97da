// Exports carry the detected cells: a classified cell is a QuPath detection with its nucleus
// outline (or a point), class and colour, area and stain measurements and every class's
// probability; the CSV gives it a row with the same. Real project file (SQLite).
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportLabels } from '../../../../src/main/export/exportLabels';
import type { FeatureCollection } from '../../../../src/main/export/geojson';
import { Project } from '../../../../src/main/project/project';
import type { DetectedCell } from '../../../../src/shared/cells';
import { tempDir } from '../../../support/paths';

let project: Project;
let runId: number;
let cellIds: number[];

const square = (x: number, y: number): Array<[number, number]> => [
  [x - 4, y - 4],
  [x + 4, y - 4],
  [x + 4, y + 4],
  [x - 4, y + 4],
];
const cell = (x: number, y: number, outline: boolean): DetectedCell => ({
  x,
  y,
  box: { x: x - 4, y: y - 4, w: 8, h: 8 },
  ...(outline ? { outline: square(x, y) } : {}),
  areaUm2: 16.5,
  meanOd: 0.42,
  circularity: 0.9,
});

beforeEach(() => {
  project = Project.open(join(tempDir(), 'export.cytotune'), { create: true });
  const normal = project.createClass({ name: 'normal', color: '#00ff00' }).id;
  const abnormal = project.createClass({ name: 'abnormal', color: '#ff0000' }).id;
  const imageId = project.images.insert({ kind: 'slide', path: '/x/s.tiff', sha256: 's', width: 1000, height: 1000, mpp: 0.5 }).id;
  project.createAnnotation({ imageId, classId: normal, box: { x: 0, y: 0, w: 40, h: 40 } });
  const detection = project.cells.createRun(imageId, 'test', {}, 0);
  const checkpoint = { detectorVersion: 'test', level: 0, tileSize: 1024, overlap: 32, tilesTotal: 1, nextTile: 1 };
  project.transaction(() =>
    project.cells.addTile(detection.id, imageId, 0, [cell(100, 100, true), cell(300, 200, false), cell(500, 500, true)], checkpoint),
  );
  project.cells.setStatus(detection.id, 'completed');
  cellIds = project.cells.cells(detection.id).map((c) => c.id);
  runId = project.runs.insert({ modelId: null, config: { classes: [{ id: normal }, { id: abnormal }] }, seed: 1 }).id;
  const predict = (cellId: number | null, x: number, y: number, p: number[]) =>
    project.runs.insertPrediction({
      runId,
      imageId,
      box: { x: x - 20, y: y - 20, w: 40, h: 40 },
      classId: p[0] > p[1] ? normal : abnormal,
      probabilities: p,
      entropy: 0.5,
      cellId,
    });
  predict(cellIds[0], 100, 100, [0.2, 0.8]);
  predict(cellIds[1], 300, 200, [0.7, 0.3]);
  predict(null, 800, 800, [0.6, 0.4]); // a grid patch
});
afterEach(() => project.close());

describe('exports with cells', () => {
  it('GeoJSON: each cell a detection with its outline or centre, class, measurements and scores', () => {
    const geo = JSON.parse(exportLabels(project, 'geojson').text) as FeatureCollection;
    const cells = geo.features.filter((f) => f.properties.cellId !== undefined);
    expect(cells).toHaveLength(3);
    const [outlined, point, unclassified] = cells;
    expect(outlined.geometry).toEqual({ type: 'Polygon', coordinates: [[...square(100, 100), [96, 96]]] });
    expect(outlined.properties).toMatchObject({
      objectType: 'detection',
      classification: { name: 'abnormal', color: [255, 0, 0] },
      cellId: cellIds[0],
      measurements: {
        'Nucleus: Area µm^2': 16.5,
        'Nucleus: Hematoxylin OD mean': 0.42,
        'Nucleus: Circularity': 0.9,
        probability: 0.8,
        p_normal: 0.2,
        p_abnormal: 0.8,
      },
    });
    expect(point.geometry).toEqual({ type: 'Point', coordinates: [300, 200] });
    expect(point.properties.classification).toEqual({ name: 'normal', color: [0, 255, 0] });
    // A cell no run classified is still a detection, without a classification (as in QuPath).
    expect(unclassified.properties.objectType).toBe('detection');
    expect(unclassified.properties.classification).toBeUndefined();
    expect(unclassified.properties.measurements).toEqual({
      'Nucleus: Area µm^2': 16.5,
      'Nucleus: Hematoxylin OD mean': 0.42,
      'Nucleus: Circularity': 0.9,
    });
    // Labels and grid predictions keep their box polygons.
    const others = geo.features.filter((f) => f.properties.cellId === undefined).map((f) => [f.properties.objectType, f.geometry.type]);
    expect(others).toEqual([
      ['annotation', 'Polygon'],
      ['detection', 'Polygon'],
    ]);
  });

  it('CSV: one row per cell with its class, measurements and one probability column per class', () => {
    const [header, ...rows] = exportLabels(project, 'csv').text.trimEnd().split('\r\n');
    const cols = header.split(',');
    expect(cols.slice(-8)).toEqual(['cell_id', 'cell_x', 'cell_y', 'area_um2', 'mean_od', 'circularity', 'p_normal', 'p_abnormal']);
    const byType = (t: string) => rows.map((r) => r.split(',')).filter((r) => r[0] === t);
    const get = (row: string[], col: string) => row[cols.indexOf(col)];
    const cells = byType('cell');
    expect(cells.map((r) => [get(r, 'class'), get(r, 'cell_id'), get(r, 'cell_x'), get(r, 'p_normal'), get(r, 'p_abnormal')])).toEqual([
      ['abnormal', String(cellIds[0]), '100', '0.2', '0.8'],
      ['normal', String(cellIds[1]), '300', '0.7', '0.3'],
      ['', String(cellIds[2]), '500', '', ''],
    ]);
    expect(cells.map((r) => [get(r, 'x'), get(r, 'width'), get(r, 'area_um2'), get(r, 'mean_od')])[0]).toEqual(['96', '8', '16.5', '0.42']);
    expect(byType('prediction').map((r) => [get(r, 'class'), get(r, 'cell_id'), get(r, 'p_normal')])).toEqual([['normal', '', '0.6']]);
    expect(byType('label')).toHaveLength(1);
  });

  it('exporting one run gives the cells it did not classify as unclassified detections', () => {
    const other = project.runs.insert({ modelId: null, config: { classes: [] }, seed: 2 }).id;
    const geo = JSON.parse(exportLabels(project, 'geojson', undefined, other).text) as FeatureCollection;
    const cells = geo.features.filter((f) => f.properties.cellId !== undefined);
    expect(cells).toHaveLength(3);
    expect(cells.every((f) => f.properties.classification === undefined)).toBe(true);
    expect(exportLabels(project, 'geojson', undefined, runId).text).toContain('"p_abnormal":0.8');
  });
});
