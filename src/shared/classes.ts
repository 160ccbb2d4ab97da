// The class tree, in both of its forms: the project's classes (ClassNode forest with label
// counts, for the sidebar, forms and training plans) and a hierarchy of class names (from a
// JSON tree or folder names, for the experiment grid and hierarchical scoring). One level
// numbering everywhere: level 1 is the roots, level 2 their children, and so on.
//
// A class that sits above the chosen level (an image labelled only "ASC" when training at
// level 3) stays its own class at the deeper levels, as the paper's HiCervix level-3 label set
// keeps parents such as "ADC" and "AGC-NOS"; a prediction maps to its ancestors for accuracy
// at coarser levels.
import type { ClassNode, ClassRecord } from './domain';
import { classificationMetrics } from './metrics';

/** A palette that stays distinguishable on H&E and Pap stains (Tableau 10). */
export const classPalette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Builds the class forest (ordered by position) with own and subtree label counts. */
export function buildClassTree(classes: ClassRecord[], labelCounts: Map<number, number>): ClassNode[] {
  const nodes = new Map<number, ClassNode>();
  for (const c of classes) nodes.set(c.id, { ...c, children: [], labelCount: labelCounts.get(c.id) ?? 0, totalCount: 0 });
  const roots: ClassNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentId === null ? undefined : nodes.get(node.parentId);
    (parent ? parent.children : roots).push(node);
  }
  const sortAndTotal = (list: ClassNode[]): number => {
    list.sort((a, b) => a.position - b.position || a.id - b.id);
    let sum = 0;
    for (const n of list) {
      n.totalCount = n.labelCount + sortAndTotal(n.children);
      sum += n.totalCount;
    }
    return sum;
  };
  sortAndTotal(roots);
  return roots;
}

/** Depth-first list of a forest, each with its level (1 for roots), for indented lists and selects. */
export function flattenClassTree(roots: ClassNode[], level = 1): { node: ClassNode; level: number }[] {
  return roots.flatMap((node) => [{ node, level }, ...flattenClassTree(node.children, level + 1)]);
}

/** True when moving class `id` under `newParentId` would make it its own ancestor. */
export function wouldCreateCycle(classes: ClassRecord[], id: number, newParentId: number): boolean {
  const byId = new Map(classes.map((c) => [c.id, c]));
  for (let cur = byId.get(newParentId); cur; cur = cur.parentId === null ? undefined : byId.get(cur.parentId)) {
    if (cur.id === id) return true;
  }
  return false;
}

/** JSON form: {"Abnormal": {"Squamous": ["HSIL", "LSIL"]}, "Normal": ["NILM"]}; a leaf may also be null, {} or []. */
export type TreeSpec = { [name: string]: TreeSpec | (string | TreeSpec)[] | null };

export interface ClassHierarchy {
  /** Parent of each node (null for a root). */
  parent: ReadonlyMap<string, string | null>;
  /** 1 for roots. */
  depth: ReadonlyMap<string, number>;
}

export class HierarchyError extends Error {
  readonly kind = 'invalid-hierarchy';
}

/** Builds a hierarchy from the JSON tree form; node names must be unique across the tree. */
export function hierarchyFromTree(spec: unknown): ClassHierarchy {
  const parent = new Map<string, string | null>();
  const depth = new Map<string, number>();
  const add = (name: string, par: string | null) => {
    if (typeof name !== 'string' || name.trim() === '')
      throw new HierarchyError(`class tree: class names must be non-empty strings (under ${par ?? 'the root'})`);
    if (parent.has(name)) throw new HierarchyError(`class tree: "${name}" appears twice; class names must be unique`);
    parent.set(name, par);
    depth.set(name, par === null ? 1 : depth.get(par)! + 1);
  };
  const walk = (node: unknown, par: string | null) => {
    if (node === null || node === undefined) return;
    if (Array.isArray(node)) {
      for (const child of node) {
        if (typeof child === 'string') add(child, par);
        else if (child && typeof child === 'object') walk(child, par);
        else
          throw new HierarchyError(
            `class tree: unexpected ${JSON.stringify(child)} under ${par ?? 'the root'}; use names, objects or arrays`,
          );
      }
      return;
    }
    if (typeof node !== 'object')
      throw new HierarchyError(`class tree: unexpected ${JSON.stringify(node)} under ${par ?? 'the root'}; use names, objects or arrays`);
    for (const [name, children] of Object.entries(node as Record<string, unknown>)) {
      add(name, par);
      walk(children, name);
    }
  };
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
    throw new HierarchyError('class tree: expected a JSON object such as {"Abnormal": ["HSIL", "LSIL"], "Normal": ["NILM"]}');
  walk(spec, null);
  if (parent.size === 0) throw new HierarchyError('class tree: the tree is empty');
  return { parent, depth };
}

/**
 * Builds a hierarchy from folder names that spell their path with `separator`
 * (`Abnormal__Squamous__HSIL`). Node names are the path prefixes (`Abnormal`,
 * `Abnormal__Squamous`, ...), so a folder name is itself a node name.
 */
export function hierarchyFromPaths(names: readonly string[], separator = '__'): ClassHierarchy {
  const parent = new Map<string, string | null>();
  const depth = new Map<string, number>();
  for (const name of names) {
    const parts = name.split(separator);
    if (parts.some((p) => p === '')) throw new HierarchyError(`class folder "${name}": empty level between "${separator}" separators`);
    for (let i = 0; i < parts.length; i++) {
      const node = parts.slice(0, i + 1).join(separator);
      if (!parent.has(node)) {
        parent.set(node, i === 0 ? null : parts.slice(0, i).join(separator));
        depth.set(node, i + 1);
      }
    }
  }
  return { parent, depth };
}

export function depthOf(h: ClassHierarchy, name: string): number {
  const d = h.depth.get(name);
  if (d === undefined) throw new HierarchyError(`class "${name}" is not in the class tree`);
  return d;
}

/** The deepest level among `names` (the finest level a model can be trained at). */
export function maxDepth(h: ClassHierarchy, names: readonly string[]): number {
  return names.reduce((m, n) => Math.max(m, depthOf(h, n)), 0);
}

/** The ancestor of `name` at `level` (1 = root), or `name` itself when it is at or above that level. */
export function ancestorAt(h: ClassHierarchy, name: string, level: number): string {
  let cur = name;
  for (let d = depthOf(h, name); d > level; d--) cur = h.parent.get(cur)!;
  return cur;
}

/** Names of `names` not in the tree (to report them all at once). */
export function unknownClasses(h: ClassHierarchy, names: readonly string[]): string[] {
  return names.filter((n) => !h.depth.has(n));
}

export interface LevelLabels {
  level: number;
  /** Classes at that level (sorted), the classes a model trained at the level predicts. */
  classNames: string[];
  /** For each input class index, its class index at the level. */
  indexOf: number[];
}

/** Maps the dataset's (finest) classes to their classes at `level`. */
export function labelsAtLevel(h: ClassHierarchy, names: readonly string[], level: number): LevelLabels {
  if (!Number.isInteger(level) || level < 1) throw new HierarchyError(`level must be a positive integer, got ${level}`);
  const at = names.map((n) => ancestorAt(h, n, level));
  const classNames = [...new Set(at)].sort();
  return { level, classNames, indexOf: at.map((a) => classNames.indexOf(a)) };
}

export interface LevelAccuracy {
  level: number;
  count: number;
  /** Fraction of images whose predicted class has the same ancestor at this level as the truth. */
  top1: number;
  balancedAccuracy: number;
}

/**
 * Accuracy at `trainLevel` and at every coarser level: `truth` and `predicted` are indices into
 * `classNames` (the classes of the training level); both are mapped to their ancestors.
 * Returned from level 1 to trainLevel.
 */
export function hierarchicalAccuracy(
  h: ClassHierarchy,
  classNames: readonly string[],
  truth: readonly number[],
  predicted: readonly number[],
  trainLevel: number,
): LevelAccuracy[] {
  if (truth.length !== predicted.length)
    throw new Error(`hierarchicalAccuracy: ${truth.length} labels but ${predicted.length} predictions`);
  const out: LevelAccuracy[] = [];
  for (let level = 1; level <= trainLevel; level++) {
    const map = labelsAtLevel(h, classNames, level);
    const m = classificationMetrics(
      truth.map((t) => map.indexOf[t]),
      predicted.map((p) => map.indexOf[p]),
      map.classNames.length,
    );
    out.push({ level, count: m.count, top1: m.top1, balancedAccuracy: m.balancedAccuracy });
  }
  return out;
}
