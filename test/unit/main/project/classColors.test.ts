import { describe, expect, it } from 'vitest';
import { colourDistance, nextClassColor } from '../../../../src/main/project/classColors';
import { classPalette } from '../../../../src/shared/classes';

describe('class colours', () => {
  it('use the palette first, then colours of their own, all distinct and apart', () => {
    const used: string[] = [];
    for (let i = 0; i < 40; i++) used.push(nextClassColor(used));
    expect(used.slice(0, 10)).toEqual(classPalette);
    expect(new Set(used).size).toBe(40);
    for (const c of used) expect(c).toMatch(/^#[0-9a-f]{6}$/);
    // Past the palette each new colour keeps away from all the others.
    for (let i = 10; i < 25; i++) expect(Math.min(...used.slice(0, i).map((u) => colourDistance(u, used[i])))).toBeGreaterThan(90);
  });

  it('reuses a palette colour that a deleted class gave back', () => {
    expect(nextClassColor(classPalette.filter((c) => c !== classPalette[3]))).toBe(classPalette[3]);
  });
});
