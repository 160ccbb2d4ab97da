// What a training run will use: for each chosen class, its live labels and those of its
// subclasses (a class at a coarse level of the tree stands for everything under it, so "level 1"
// trains abnormal against normal), split (seeded) into training and validation the way the paper
// validates few-shot runs: min(shots, 4) per class. A label goes to its nearest chosen class, so a
// subclass chosen beside its parent keeps its own labels.
import { ApiError } from '../../shared/api';
import type { Annotation, ClassRecord, PlanClass } from '../../shared/domain';
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

/** For each chosen class, the classes whose labels it takes: itself and its subclasses not chosen themselves. */
export function classMembers(classes: readonly ClassRecord[], chosen: readonly number[]): Map<number, number[]> {
  const parentOf = new Map(classes.map((c) => [c.id, c.parentId]));
  const picked = new Set(chosen);
  const members = new Map<number, number[]>(chosen.map((id) => [id, []]));
  for (const c of classes) {
    let owner: number | null = c.id;
    for (let hops = 0; owner !== null && !picked.has(owner) && hops <= classes.length; hops++) owner = parentOf.get(owner) ?? null;
    if (owner !== null && picked.has(owner)) members.get(owner)!.push(c.id);
  }
  return members;
}

/**
 * The plan for `classIds` (one label index each, in order). A class without labels is an error a
 * user can act on, unless `allowEmpty` (the estimate shown before a run lists it with 0 instead).
 */
export function planTraining(project: Project, classIds: number[], seed: number, options: { allowEmpty?: boolean } = {}): TrainingPlan {
  if (classIds.length < 2) throw new ApiError('invalid-input', 'Choose at least two classes to train a classifier.');
  if (new Set(classIds).size !== classIds.length) throw new ApiError('invalid-input', 'A class is chosen twice.');
  const all = project.classes.all();
  const members = classMembers(all, classIds);
  const nameOf = new Map(all.map((c) => [c.id, c.name]));
  const plan: TrainingPlan = { classes: [], train: [], val: [] };
  classIds.forEach((classId, label) => {
    const cls = project.requireClass(classId);
    const own = members.get(classId) ?? [classId];
    // Oldest first, then the seeded shuffle: the same labels give the same split.
    const pooled = own.flatMap((id) => project.annotations.listForClass(id, 1_000_000)).sort((a, b) => a.id - b.id);
    const labels = shuffled(pooled, seed + classId);
    if (labels.length === 0 && !options.allowEmpty)
      throw new ApiError('invalid-input', `"${cls.name}" has no labels yet (nor have its subclasses): label a few cells of it first.`);
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
    const includes = own.filter((id) => id !== classId).map((id) => nameOf.get(id)!);
    plan.classes.push({ id: cls.id, name: cls.name, train: labels.length - nVal, val: nVal, ...(includes.length ? { includes } : {}) });
  });
  return plan;
}
