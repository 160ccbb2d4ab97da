// Hierarchical labels (src/shared/hierarchy.ts): ancestors, the classes at a level, and
// accuracy at the training level and every coarser one, on hand-computed examples.
import { describe, expect, it } from 'vitest';
import {
  ancestorAt,
  hierarchicalAccuracy,
  hierarchyFromPaths,
  hierarchyFromTree,
  labelsAtLevel,
  maxDepth,
  unknownClasses,
} from '../../../../src/shared/classes';
import { labelView } from '../../../../src/ml/experiment/levelLabels';

describe('hierarchy: two-level example computed by hand', () => {
  const h = hierarchyFromTree({ Abnormal: ['HSIL', 'LSIL'], Normal: ['NILM', 'Reactive'] });
  const classes = ['HSIL', 'LSIL', 'NILM', 'Reactive']; // level-2 classes, indices 0..3

  it('maps leaves to their level-1 ancestors', () => {
    expect(ancestorAt(h, 'LSIL', 1)).toBe('Abnormal');
    expect(ancestorAt(h, 'Reactive', 1)).toBe('Normal');
    expect(ancestorAt(h, 'Reactive', 2)).toBe('Reactive');
    expect(labelsAtLevel(h, classes, 1)).toEqual({ level: 1, classNames: ['Abnormal', 'Normal'], indexOf: [0, 0, 1, 1] });
  });

  it('reports level-2 accuracy 2/6 and level-1 accuracy 4/6', () => {
    // truth -> predicted:
    //   HSIL->HSIL (L2 ok, L1 ok)   HSIL->LSIL (L2 wrong, L1 ok: both Abnormal)
    //   LSIL->NILM (both wrong)     NILM->NILM (both ok)
    //   NILM->Reactive (L2 wrong, L1 ok: both Normal)   Reactive->HSIL (both wrong)
    const truth = [0, 0, 1, 2, 2, 3];
    const pred = [0, 1, 2, 2, 3, 0];
    const acc = hierarchicalAccuracy(h, classes, truth, pred, 2);
    expect(acc.map((a) => a.level)).toEqual([1, 2]);
    expect(acc[1].top1).toBeCloseTo(2 / 6, 12);
    expect(acc[0].top1).toBeCloseTo(4 / 6, 12);
    // Balanced: level 2 recalls HSIL 1/2, LSIL 0/1, NILM 1/2, Reactive 0/1 -> 0.25;
    // level 1 recalls Abnormal 2/3, Normal 2/3 -> 2/3.
    expect(acc[1].balancedAccuracy).toBeCloseTo(0.25, 12);
    expect(acc[0].balancedAccuracy).toBeCloseTo(2 / 3, 12);
    expect(acc.every((a) => a.count === 6)).toBe(true);
  });
});

describe('hierarchy: three levels, classes above the chosen level, folder-name form', () => {
  const tree = { Abnormal: { Squamous: ['HSIL', 'LSIL'], AGC: null }, Normal: ['NILM'] };

  it('a class above the level stays its own class (as HiCervix level 3 keeps AGC-like parents)', () => {
    const h = hierarchyFromTree(tree);
    expect(maxDepth(h, ['HSIL', 'AGC', 'NILM'])).toBe(3);
    expect(ancestorAt(h, 'HSIL', 2)).toBe('Squamous');
    expect(ancestorAt(h, 'HSIL', 1)).toBe('Abnormal');
    expect(ancestorAt(h, 'AGC', 3)).toBe('AGC');
    expect(labelsAtLevel(h, ['AGC', 'HSIL', 'LSIL', 'NILM'], 2)).toEqual({
      level: 2,
      classNames: ['AGC', 'NILM', 'Squamous'],
      indexOf: [0, 2, 2, 1],
    });
    // HSIL predicted as LSIL: wrong at level 3, right at 2 (Squamous) and 1 (Abnormal);
    // AGC predicted as HSIL: wrong at 3 and 2, right at 1 (Abnormal).
    const acc = hierarchicalAccuracy(h, ['AGC', 'HSIL', 'LSIL', 'NILM'], [1, 0, 3], [2, 1, 3], 3);
    expect(acc.map((a) => a.top1)).toEqual([1, 2 / 3, 1 / 3]);
  });

  it('folder names with a separator build the same shape of tree', () => {
    const names = ['Abnormal__Squamous__HSIL', 'Abnormal__Squamous__LSIL', 'Abnormal__AGC', 'Normal'];
    const h = hierarchyFromPaths(names);
    expect(ancestorAt(h, 'Abnormal__Squamous__HSIL', 2)).toBe('Abnormal__Squamous');
    expect(ancestorAt(h, 'Abnormal__AGC', 1)).toBe('Abnormal');
    expect(maxDepth(h, names)).toBe(3);
    expect(unknownClasses(h, ['Normal', 'Other'])).toEqual(['Other']);
  });

  it('rejects duplicate names and folders missing from the tree with a kind', () => {
    expect(() => hierarchyFromTree({ A: ['x'], B: ['x'] })).toThrow(/appears twice/);
    expect(() => labelView(['HSIL', 'Mystery'], tree, '__', null)).toThrow(
      expect.objectContaining({ kind: 'invalid-hierarchy', message: expect.stringMatching(/Mystery/) }),
    );
    expect(() => labelView(['a', 'b'], null, '__', 2)).toThrow(/--level needs a class tree/);
    expect(() => labelView(['HSIL', 'NILM'], tree, '__', 4)).toThrow(/between 1 and 3/);
  });

  it('labelView relabels images at the chosen level and lists the reported levels', () => {
    const v = labelView(['AGC', 'HSIL', 'LSIL', 'NILM'], tree, '__', 1);
    expect(v.classNames).toEqual(['Abnormal', 'Normal']);
    expect(v.levels).toEqual([1]);
    expect(
      v.relabel([
        { path: 'a', label: 0 },
        { path: 'b', label: 3 },
      ]),
    ).toEqual([
      { path: 'a', label: 0 },
      { path: 'b', label: 1 },
    ]);
    const deep = labelView(['AGC', 'HSIL', 'LSIL', 'NILM'], tree, '__', null);
    expect(deep.level).toBe(3);
    expect(deep.levels).toEqual([1, 2, 3]);
  });
});
