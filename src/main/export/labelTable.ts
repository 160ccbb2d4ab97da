// Labels and predictions of a project as one list of rows: what CSV and GeoJSON export.
import type { Project } from '../project/project';
import type { Box } from '../../shared/image';

export interface ExportRow {
  type: 'label' | 'prediction';
  imageId: number;
  imagePath: string;
  className: string;
  /** Ancestors down to the class, joined with ' > ' (the class tree). */
  classPath: string;
  color: string;
  box: Box;
  source: string;
  author: string;
  runId: number | null;
  probability: number | null;
  entropy: number | null;
  createdAt: string;
}

export function exportRows(project: Project, options: { imageId?: number; runId?: number } = {}): ExportRow[] {
  const classes = new Map(project.classes.all().map((c) => [c.id, c]));
  const pathOf = (id: number): string => {
    const c = classes.get(id);
    if (!c) return '?';
    return c.parentId === null ? c.name : `${pathOf(c.parentId)} > ${c.name}`;
  };
  const images = new Map(
    project.db
      .prepare(`SELECT id, path FROM images`)
      .all()
      .map((r) => [(r as { id: number }).id, (r as { path: string }).path]),
  );
  const imageIds = options.imageId === undefined ? [...images.keys()] : [project.requireImage(options.imageId).id];
  const rows: ExportRow[] = [];
  for (const imageId of imageIds) {
    for (const a of project.annotations.listForImage(imageId)) {
      const c = classes.get(a.classId)!;
      rows.push({
        type: 'label',
        imageId,
        imagePath: images.get(imageId)!,
        className: c.name,
        classPath: pathOf(c.id),
        color: c.color,
        box: a.box,
        source: a.source,
        author: a.author,
        runId: null,
        probability: null,
        entropy: null,
        createdAt: a.createdAt,
      });
    }
  }
  const runs = options.runId === undefined ? project.runs.list().map((r) => r.id) : [options.runId];
  for (const runId of runs) {
    for (const imageId of imageIds) {
      for (const p of project.runs.predictions(runId, imageId)) {
        const c = classes.get(p.classId)!;
        rows.push({
          type: 'prediction',
          imageId,
          imagePath: images.get(imageId)!,
          className: c.name,
          classPath: pathOf(c.id),
          color: c.color,
          box: p.box,
          source: `run ${runId}`,
          author: '',
          runId,
          probability: Math.max(...p.probabilities),
          entropy: p.entropy,
          createdAt: '',
        });
      }
    }
  }
  return rows;
}
