import { describe, expect, it } from 'vitest';
import { buildClassTree, flattenClassTree, wouldCreateCycle } from '../../../src/shared/classes';
import type { ClassRecord } from '../../../src/shared/domain';

const c = (id: number, parentId: number | null, name: string, position = 0): ClassRecord => ({
  id,
  parentId,
  name,
  color: '#000000',
  shortcut: null,
  position,
});

// The three-level shape of HiCervix: level 1 > level 2 > level 3.
const classes = [
  c(1, null, 'Abnormal', 1),
  c(2, null, 'Normal', 0),
  c(3, 1, 'Squamous'),
  c(4, 3, 'HSIL', 1),
  c(5, 3, 'LSIL', 0),
  c(6, 2, 'NILM'),
];

describe('class tree', () => {
  it('nests children, orders siblings by position and sums counts up the tree', () => {
    const roots = buildClassTree(
      classes,
      new Map([
        [4, 3],
        [5, 2],
        [3, 1],
        [6, 7],
      ]),
    );
    expect(roots.map((r) => r.name)).toEqual(['Normal', 'Abnormal']);
    const abnormal = roots[1];
    expect(abnormal.totalCount).toBe(6);
    expect(abnormal.labelCount).toBe(0);
    expect(abnormal.children[0].children.map((n) => n.name)).toEqual(['LSIL', 'HSIL']);
    expect(flattenClassTree(roots).map(({ node, level }) => `${level}:${node.name}`)).toEqual([
      '1:Normal',
      '2:NILM',
      '1:Abnormal',
      '2:Squamous',
      '3:LSIL',
      '3:HSIL',
    ]);
  });

  it('detects moves that would make a class its own ancestor', () => {
    expect(wouldCreateCycle(classes, 1, 4)).toBe(true); // Abnormal under its grandchild HSIL
    expect(wouldCreateCycle(classes, 3, 3)).toBe(true);
    expect(wouldCreateCycle(classes, 4, 2)).toBe(false);
  });
});
