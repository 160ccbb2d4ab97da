// Which classes an experiment trains on. Flat datasets: the class folders. Hierarchical ones
// (a --tree JSON file, or class folders named with the separator, `Abnormal__Squamous__HSIL`):
// the classes at the chosen --level (default: the deepest), every image relabelled with its
// ancestor at that level, and accuracy reported at that level and every coarser one.
import {
  hierarchyFromPaths,
  hierarchyFromTree,
  labelsAtLevel,
  maxDepth,
  unknownClasses,
  HierarchyError,
  type ClassHierarchy,
} from '../../shared/classes';
import type { LabeledItem } from '../data/fewShot';

export interface LabelView {
  /** Classes the models are trained on (at `level` when hierarchical). */
  classNames: string[];
  hierarchy: ClassHierarchy | null;
  level: number | null;
  /** Levels reported, coarsest first: 1..level (empty when flat). */
  levels: number[];
  /** Folder-class labels -> training-class labels. */
  relabel(items: LabeledItem[]): LabeledItem[];
}

export function labelView(folderClasses: string[], tree: unknown | null, separator: string, level: number | null): LabelView {
  const hierarchical = tree !== null || folderClasses.some((c) => c.includes(separator));
  if (!hierarchical) {
    if (level !== null)
      throw new HierarchyError(
        `--level needs a class tree: pass --tree tree.json, or name the class folders with their path such as Abnormal${separator}HSIL`,
      );
    return { classNames: folderClasses, hierarchy: null, level: null, levels: [], relabel: (items) => items };
  }
  const h = tree !== null ? hierarchyFromTree(tree) : hierarchyFromPaths(folderClasses, separator);
  const unknown = unknownClasses(h, folderClasses);
  if (unknown.length)
    throw new HierarchyError(
      `class folder(s) ${unknown.join(', ')} are not in the class tree; every folder must be named after a class of --tree`,
    );
  const deepest = maxDepth(h, folderClasses);
  const lvl = level ?? deepest;
  if (!Number.isInteger(lvl) || lvl < 1 || lvl > deepest)
    throw new HierarchyError(`--level must be between 1 and ${deepest} (the deepest level of the class folders), got ${level}`);
  const map = labelsAtLevel(h, folderClasses, lvl);
  if (map.classNames.length < 2)
    throw new HierarchyError(`level ${lvl} has only one class (${map.classNames[0]}); choose a deeper --level`);
  return {
    classNames: map.classNames,
    hierarchy: h,
    level: lvl,
    levels: Array.from({ length: lvl }, (_, i) => i + 1),
    relabel: (items) => items.map((it) => ({ path: it.path, label: map.indexOf[it.label] })),
  };
}
