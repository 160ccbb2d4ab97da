// Labels, predictions and detected cells of a project as one list of rows: what CSV and GeoJSON
// export. A prediction centred on a detected cell is exported as that cell (its nucleus outline,
// measurements, class and every class's probability); cells of an image's newest detection that
// no exported run classified follow as unclassified cells, so QuPath gets every detection.
import type { Project } from '../project/project';
import type { Box } from '../../shared/image';
import type { CellRecord } from '../../shared/cells';
import type { ClassRecord } from '../../shared/domain';

/** A detected cell as exported: centre and outline in level-0 pixels, QuPath-style measurements. */
export interface ExportCell {
  id: number;
  x: number;
  y: number;
  outline: Array<[number, number]> | null;
  areaUm2: number;
  meanOd: number;
  circularity: number;
}

export interface ExportRow {
  type: 'label' | 'prediction' | 'cell';
  imageId: number;
  imagePath: string;
  /** Null for a detected cell that no exported run classified. */
  className: string | null;
  /** Ancestors down to the class, joined with ' > ' (the class tree). */
  classPath: string | null;
  color: string | null;
  /** The patch (labels, grid predictions) or the nucleus box (cells). */
  box: Box;
  source: string;
  author: string;
  runId: number | null;
  probability: number | null;
  entropy: number | null;
  /** Every class of the run with its probability, by class name (predictions and classified cells). */
  probabilities: Record<string, number> | null;
  cell: ExportCell | null;
  createdAt: string;
}

const exportCell = (c: CellRecord): ExportCell => ({
  id: c.id,
  x: c.x,
  y: c.y,
  outline: c.outline ?? null,
  areaUm2: c.areaUm2,
  meanOd: c.meanOd,
  circularity: c.circularity,
});

/** A detected cell that no run classified (also what `cytotune detect --geojson` writes per cell). */
export function unclassifiedCellRow(cell: CellRecord, imagePath: string, source = `detection ${cell.detectionRunId}`): ExportRow {
  return {
    type: 'cell',
    imageId: cell.imageId,
    imagePath,
    className: null,
    classPath: null,
    color: null,
    box: cell.box,
    source,
    author: '',
    runId: null,
    probability: null,
    entropy: null,
    probabilities: null,
    cell: exportCell(cell),
    createdAt: '',
  };
}

export function exportRows(project: Project, options: { imageId?: number; runId?: number } = {}): ExportRow[] {
  const classes = new Map(project.classes.all().map((c) => [c.id, c]));
  const pathOf = (id: number): string => {
    const c = classes.get(id);
    if (!c) return '?';
    return c.parentId === null ? c.name : `${pathOf(c.parentId)} > ${c.name}`;
  };
  const classed = (c: ClassRecord) => ({ className: c.name, classPath: pathOf(c.id), color: c.color });
  const images = new Map(
    project.db
      .prepare(`SELECT id, path FROM images`)
      .all()
      .map((r) => [(r as { id: number }).id, (r as { path: string }).path]),
  );
  const imageIds = options.imageId === undefined ? [...images.keys()] : [project.requireImage(options.imageId).id];
  const rows: ExportRow[] = [];
  const none = { runId: null, probability: null, entropy: null, probabilities: null, cell: null };
  for (const imageId of imageIds) {
    for (const a of project.annotations.listForImage(imageId)) {
      const c = classes.get(a.classId)!;
      rows.push({
        type: 'label',
        imageId,
        imagePath: images.get(imageId)!,
        ...classed(c),
        box: a.box,
        source: a.source,
        author: a.author,
        ...none,
        createdAt: a.createdAt,
      });
    }
  }
  const runs = options.runId === undefined ? project.runs.list() : [project.runs.get(options.runId)].filter((r) => r !== undefined);
  for (const imageId of imageIds) {
    const detection = project.cells.latestCompleted(imageId);
    const newest = new Map((detection ? project.cells.cells(detection.id) : []).map((c) => [c.id, c]));
    const classified = new Set<number>();
    for (const run of runs) {
      const runClasses = ((run.config.classes as { id: number }[] | undefined) ?? []).map((c) => classes.get(c.id)?.name ?? '?');
      for (const p of project.runs.predictions(run.id, imageId)) {
        const c = classes.get(p.classId)!;
        // A prediction on a cell of an older detection still exports that cell.
        const cell = p.cellId === null ? undefined : (newest.get(p.cellId) ?? project.cells.cell(p.cellId));
        if (cell) classified.add(cell.id);
        rows.push({
          type: cell ? 'cell' : 'prediction',
          imageId,
          imagePath: images.get(imageId)!,
          ...classed(c),
          box: cell ? cell.box : p.box,
          source: `run ${run.id}`,
          author: '',
          runId: run.id,
          probability: Math.max(...p.probabilities),
          entropy: p.entropy,
          probabilities: Object.fromEntries(p.probabilities.map((q, i) => [runClasses[i] ?? `class ${i}`, q])),
          cell: cell ? exportCell(cell) : null,
          createdAt: '',
        });
      }
    }
    for (const cell of newest.values()) if (!classified.has(cell.id)) rows.push(unclassifiedCellRow(cell, images.get(imageId)!));
  }
  return rows;
}
