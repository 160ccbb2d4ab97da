// Seeded few-shot subsets, per class, as the paper's DatasetBase.generate_fewshot_dataset:
// k items without replacement when the class has at least k, otherwise k with replacement.
// Validation takes min(shots, 4) per class from images not used for training when drawn
// from the same folder.
import { hashSeed, Rng } from '../random';

export interface LabeledItem {
  path: string;
  label: number;
}

/** items must be in a stable order (sorted paths); the result is grouped by class, in class order. */
export function sampleFewShot(items: LabeledItem[], numClasses: number, shots: number, seed: number, purpose = 'train'): LabeledItem[] {
  if (!Number.isInteger(shots) || shots < 1) throw new Error(`shots must be a positive integer, got ${shots}`);
  const out: LabeledItem[] = [];
  for (let c = 0; c < numClasses; c++) {
    const pool = items.filter((it) => it.label === c);
    if (pool.length === 0) continue;
    const rng = new Rng(hashSeed(seed, 'fewshot', purpose, c));
    if (pool.length >= shots) {
      out.push(...rng.shuffle([...pool]).slice(0, shots));
    } else {
      for (let i = 0; i < shots; i++) out.push(pool[rng.int(pool.length)]);
    }
  }
  return out;
}

export function validationShots(shots: number): number {
  return Math.min(shots, 4);
}

/** Items of `all` whose path is not in `used`. */
export function remaining(all: LabeledItem[], used: LabeledItem[]): LabeledItem[] {
  const taken = new Set(used.map((u) => u.path));
  return all.filter((it) => !taken.has(it.path));
}
