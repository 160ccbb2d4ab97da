import type { ClassNode, ClassRecord } from './domain';

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

/** Depth-first list of a forest, each with its depth (for indented lists and selects). */
export function flattenClassTree(roots: ClassNode[], depth = 0): { node: ClassNode; depth: number }[] {
  return roots.flatMap((node) => [{ node, depth }, ...flattenClassTree(node.children, depth + 1)]);
}

/** True when moving class `id` under `newParentId` would make it its own ancestor. */
export function wouldCreateCycle(classes: ClassRecord[], id: number, newParentId: number): boolean {
  const byId = new Map(classes.map((c) => [c.id, c]));
  for (let cur = byId.get(newParentId); cur; cur = cur.parentId === null ? undefined : byId.get(cur.parentId)) {
    if (cur.id === id) return true;
  }
  return false;
}
