// What a training run will use: for each chosen class, its live labels, split (seeded) into
// training and validation the way the paper validates few-shot runs: min(shots, 4) per class.
import { ApiError } from '../../shared/api';
import type { Annotation, PlanClass } from '../../shared/domain';
import type { Project } from '../project/project';
import type { LabelledPatch } from '../../shared/jobs';


export interface TrainingPlan {
  classes: PlanClass[];
  train: LabelledPatch[];
  val: LabelledPatch[];
}

/** Deterministic shuffle (mulberry32) so a plan shown before training is the plan trained. */
function shuffled<T>(items: T[], seed: number): T[] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
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
      const whole = a.box.x === 0 && a.box.y === 0 && a.box.w === image.width && a.box.h === image.height;
      return { key: `a${a.id}`, path: image.path, box: whole && image.kind === 'image' ? null : a.box, label };
    };
    plan.val.push(...labels.slice(0, nVal).map(toItem));
    plan.train.push(...labels.slice(nVal).map(toItem));
    plan.classes.push({ id: cls.id, name: cls.name, train: labels.length - nVal, val: nVal });
  });
  return plan;
}
