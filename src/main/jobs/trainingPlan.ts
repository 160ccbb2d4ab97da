// What a training run will use: for each chosen class, its live labels, split (seeded) into
// training and validation the way the paper validates few-shot runs: min(shots, 4) per class.
import { ApiError } from '../../shared/api';
import type { Annotation, PlanClass } from '../../shared/domain';
import type { Project } from '../project/project';
import type { LabelledPatch } from '../../shared/jobs';
import { Rng } from '../../ml/random';
import { labelBoxProblem } from '../../shared/labelBounds';

export interface TrainingPlan {
  classes: PlanClass[];
  train: LabelledPatch[];
  val: LabelledPatch[];
}

/** Deterministic shuffle (the one seeded RNG) so a plan shown before training is the plan trained. */
function shuffled<T>(items: T[], seed: number): T[] {
  return new Rng(seed).shuffle([...items]);
}

/** Validation labels per class: min(shots, 4) as in the paper, never the last training label. */
export function validationCount(labels: number): number {
  return Math.max(0, Math.min(4, Math.floor(labels / 2)));
}

export function planTraining(project: Project, classIds: number[], seed: number): TrainingPlan {
  if (classIds.length < 2) throw new ApiError('invalid-input', 'Choose at least two classes to train a classifier.');
  const plan: TrainingPlan = { classes: [], train: [], val: [] };
  classIds.forEach((classId, label) => {
    const cls = project.requireClass(classId);
    const labels = shuffled(project.annotations.listForClass(classId, 1_000_000).reverse(), seed + classId);
    if (labels.length === 0) throw new ApiError('invalid-input', `"${cls.name}" has no labels yet: label a few cells of it first.`);
    const nVal = validationCount(labels.length);
    const toItem = (a: Annotation): LabelledPatch => {
      const image = project.requireImage(a.imageId);
      // Labels from before boxes were bounded (migration 6) may lie outside their image: name them.
      const problem = labelBoxProblem(a.box, image);
      if (problem) {
        throw new ApiError(
          'invalid-input',
          `"${cls.name}": label ${a.id} on image ${image.id} cannot be trained on: ${problem}. Move or delete it.`,
        );
      }
      const whole = a.box.x === 0 && a.box.y === 0 && a.box.w === image.width && a.box.h === image.height;
      return { key: `a${a.id}`, path: image.path, box: whole && image.kind === 'image' ? null : a.box, label };
    };
    plan.val.push(...labels.slice(0, nVal).map(toItem));
    plan.train.push(...labels.slice(nVal).map(toItem));
    plan.classes.push({ id: cls.id, name: cls.name, train: labels.length - nVal, val: nVal });
  });
  return plan;
}
