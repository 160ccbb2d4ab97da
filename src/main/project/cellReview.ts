// The cells that matter: per slide, the top cells of a trained run ranked by a score chosen in
// the class tree (the probability of a class, its descendants included), per-class counts, and
// the case list of all slides with a slide score and a review status.
import { ApiError } from '../../shared/api';
import type { CaseSummary, ScoredCell, SlideReviewStatus } from '../../shared/cells';
import type { ClassRecord, Prediction } from '../../shared/domain';
import type { Project } from './project';

/** For each class of a run (training order), whether it is one of `chosen` or lies under one. */
function scoredIndexes(project: Project, runClassIds: number[], chosen: number[]): number[] {
  const byId = new Map(project.classes.all().map((c: ClassRecord) => [c.id, c]));
  const under = (id: number): boolean => {
    for (let c = byId.get(id); c; c = c.parentId === null ? undefined : byId.get(c.parentId)) if (chosen.includes(c.id)) return true;
    return false;
  };
  return runClassIds.flatMap((id, i) => (under(id) ? [i] : []));
}

function runClassIds(project: Project, runId: number): number[] {
  const run = project.runs.get(runId);
  if (!run) throw new ApiError('not-found', `No run with id ${runId}.`);
  return (run.config.classes as { id: number }[]).map((c) => c.id);
}

/** The label given to a prediction's box (accepting or correcting it), if any. */
function labelOf(project: Project, p: Prediction): number | null {
  const hit = project.annotations
    .listForImage(p.imageId)
    .find((a) => a.box.x === p.box.x && a.box.y === p.box.y && a.box.w === p.box.w && a.box.h === p.box.h);
  return hit ? hit.classId : null;
}

function scoreCells(predictions: Prediction[], indexes: number[]): { p: Prediction; score: number }[] {
  return predictions
    .filter((p) => p.cellId !== null)
    .map((p) => ({ p, score: indexes.reduce((s, i) => s + (p.probabilities[i] ?? 0), 0) }));
}

export interface Gallery {
  cells: ScoredCell[];
  /** Cells of the slide per predicted class (all classified cells, not only the top ones). */
  counts: { classId: number; count: number }[];
}

/** The top `limit` cells of one slide for the score of `classIds` (default 30, as the reference product). */
export function gallery(project: Project, runId: number, imageId: number, classIds: number[], limit = 30): Gallery {
  const indexes = scoredIndexes(project, runClassIds(project, runId), classIds);
  const predictions = project.runs.predictions(runId, imageId);
  const scored = scoreCells(predictions, indexes).sort((a, b) => b.score - a.score || a.p.id - b.p.id);
  const counts = new Map<number, number>();
  for (const { p } of scored) counts.set(p.classId, (counts.get(p.classId) ?? 0) + 1);
  return {
    cells: scored.slice(0, limit).map(({ p, score }) => ({
      cellId: p.cellId!,
      imageId: p.imageId,
      predictionId: p.id,
      x: p.box.x + p.box.w / 2,
      y: p.box.y + p.box.h / 2,
      box: p.box,
      classId: p.classId,
      probabilities: p.probabilities,
      score,
      labelClassId: labelOf(project, p),
    })),
    counts: [...counts].map(([classId, count]) => ({ classId, count })),
  };
}

/** Every slide of the project with its cells, its slide score for `classIds` and its review. */
export function caseList(project: Project, runId: number, classIds: number[], threshold = 0.5): CaseSummary[] {
  const indexes = scoredIndexes(project, runClassIds(project, runId), classIds);
  return project.images
    .list(0, 1_000_000)
    .filter((i) => i.kind === 'slide')
    .map((image) => {
      const scored = scoreCells(project.runs.predictions(runId, image.id), indexes);
      const review = project.cells.review(image.id);
      const status: SlideReviewStatus = review?.status ?? (scored.length ? 'classified' : 'not-classified');
      return {
        imageId: image.id,
        name: image.path.split(/[\\/]/).pop() ?? image.path,
        cells: project.cells.latestCompleted(image.id)?.cellCount ?? 0,
        classifiedCells: scored.length,
        maxScore: scored.length ? Math.max(...scored.map((s) => s.score)) : null,
        cellsAboveThreshold: scored.filter((s) => s.score >= threshold).length,
        status,
        note: review?.note ?? '',
        reviewedBy: review?.reviewedBy ?? null,
        reviewedAt: review?.reviewedAt ?? null,
      };
    });
}

/** Records a slide's review status and note, with the reviewer and time in the audit log. */
export function reviewSlide(project: Project, imageId: number, status: SlideReviewStatus, note: string): void {
  const image = project.requireImage(imageId);
  project.transaction(() => {
    const before = project.cells.review(image.id) ?? null;
    project.cells.setReview(image.id, status, note, project.actor);
    project.audit.record({ action: 'slide.review', entity: 'image', entityId: image.id, before, after: { status, note } });
  });
}
