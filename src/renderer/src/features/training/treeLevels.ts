// The classes a run trains at one level of the class tree. Levels are numbered from 1 (the
// roots). A class at the level stands for its whole subtree (main pools their labels), and a
// class above the level with labels of its own stays its own class (src/shared/classes.ts: a
// leaf that stops at level 2, or a label only "ASC" when training at level 3), so an uneven
// tree loses none of its labels at its deepest level.
import type { ClassNode } from '@shared/domain';

type Flat = readonly { node: ClassNode; level: number }[];

/** The levels of the tree, 1 to its depth. */
export function treeLevels(flat: Flat): number[] {
  const depth = Math.max(0, ...flat.map((f) => f.level));
  return Array.from({ length: depth }, (_, i) => i + 1);
}

/** The labelled classes a model trained at `level` predicts. */
export function classesAtLevel(flat: Flat, level: number): ClassNode[] {
  return flat.filter((f) => (f.level === level && f.node.totalCount > 0) || (f.level < level && f.node.labelCount > 0)).map((f) => f.node);
}
