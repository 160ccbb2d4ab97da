// Classifying detected cells at the scale the model was trained at: a training run records the
// side of its labelled patches in micrometres (from the labels' boxes and their slides' mpp) and
// in pixels; a cell of a slide is then classified as a square of that many micrometres centred on
// it (images without mpp use the pixel side).
import { ApiError } from '../../shared/api';
import { median } from '../../shared/median';
import type { ImageRecord } from '../../shared/domain';
import type { ClassifyTarget, LabelledPatch, TrainingScale } from '../../shared/jobs';
import type { Project } from '../project/project';

export type { TrainingScale };

/** The scale of a training set: its patch sides (a whole image counts its longer side). */
export function trainingScale(project: Project, items: readonly LabelledPatch[], fallbackPx: number): TrainingScale {
  const px: number[] = [];
  const um: number[] = [];
  for (const item of items) {
    const annotation = /^a(\d+)$/.exec(item.key) ? project.annotations.get(Number(item.key.slice(1))) : undefined;
    const image = annotation ? project.images.get(annotation.imageId) : undefined;
    const side = item.box ? Math.max(item.box.w, item.box.h) : image ? Math.max(image.width, image.height) : null;
    if (side === null) continue;
    px.push(side);
    if (image?.mpp) um.push(side * image.mpp);
  }
  return { patchUm: um.length ? median(um) : null, patchPx: px.length ? Math.round(median(px)) : fallbackPx };
}

/** The side in level-0 pixels at which `image`'s cells are classified for a run of this scale (mpp in um/px). */
export function cellSideFor(image: { mpp: number | null }, scale: TrainingScale | undefined, fallbackPx: number): number {
  if (scale?.patchUm && image.mpp) return Math.max(8, Math.round(scale.patchUm / image.mpp));
  return Math.max(8, scale?.patchPx ?? fallbackPx);
}

/** Classification targets for the cells of each image's newest completed detection. */
export function cellTargets(
  project: Project,
  images: ImageRecord[],
  scale: TrainingScale | undefined,
  fallbackPx: number,
): ClassifyTarget[] {
  return images.map((image) => {
    const detection = project.cells.latestCompleted(image.id);
    if (!detection)
      throw new ApiError('conflict', `${image.path.split(/[\\/]/).pop()} has no detected cells yet: detect cells on it first.`);
    const cells = project.cells.cells(detection.id).map((c) => ({ id: c.id, x: c.x, y: c.y }));
    return {
      imageId: image.id,
      path: image.path,
      kind: image.kind,
      width: image.width,
      height: image.height,
      cells,
      cellSide: cellSideFor(image, scale, fallbackPx),
    };
  });
}
