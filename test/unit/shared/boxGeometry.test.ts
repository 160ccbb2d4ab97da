import { describe, expect, it } from 'vitest';
import { boxAround, boxFromDrag, hitTest, scaleBar } from '../../../src/shared/boxGeometry';

describe('box geometry', () => {
  it('centres a patch on the click and keeps it inside the image', () => {
    expect(boxAround({ x: 500, y: 400 }, 224, 2220, 2967)).toEqual({ x: 388, y: 288, w: 224, h: 224 });
    expect(boxAround({ x: 10, y: 2960 }, 224, 2220, 2967)).toEqual({ x: 0, y: 2743, w: 224, h: 224 });
  });

  it('normalises drags in any direction and picks the innermost box under a point', () => {
    expect(boxFromDrag({ x: 50, y: 80 }, { x: 10, y: 20 })).toEqual({ x: 10, y: 20, w: 40, h: 60 });
    const outer = { id: 1, box: { x: 0, y: 0, w: 100, h: 100 } };
    const inner = { id: 2, box: { x: 40, y: 40, w: 20, h: 20 } };
    expect(hitTest([outer, inner], { x: 50, y: 50 })?.id).toBe(2);
    expect(hitTest([outer, inner], { x: 5, y: 5 })?.id).toBe(1);
    expect(hitTest([outer, inner], { x: 500, y: 5 })).toBeUndefined();
  });

  it('chooses the largest nice scale-bar length that fits', () => {
    // 0.5 µm/px at 1:1 -> 160 px = 80 µm -> 50 µm = 100 px
    expect(scaleBar(0.5, 1)).toEqual({ microns: 50, pixels: 100, label: '50 µm' });
    // zoomed out 1/10: 5 µm per screen px -> 500 µm = 100 px
    expect(scaleBar(0.5, 0.1)).toMatchObject({ microns: 500, label: '500 µm' });
    expect(scaleBar(0.5, 0.01).label).toBe('5 mm');
  });
});
