import { describe, expect, it } from 'vitest';
import { matchDetections } from '../../../../src/slides/cells/match';

describe('matchDetections', () => {
  it('matches within 0.8 x the radius, each truth and each detection once', () => {
    const truth = [
      { x: 100, y: 100, radius: 10 },
      { x: 130, y: 100, radius: 10 },
      { x: 300, y: 300, radius: 20 },
    ];
    const detections = [
      { x: 103, y: 100 }, // truth 0
      { x: 101, y: 101 }, // closer to truth 0: wins it; 103 is then left without a match
      { x: 137.9, y: 100 }, // 7.9 from truth 1: inside 8
      { x: 317, y: 300 }, // 17 > 16 from truth 2: outside
      { x: 500, y: 500 },
    ];
    const m = matchDetections(truth, detections);
    expect(m.pairs).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(m.truePositives).toBe(2);
    expect(m.falsePositives).toBe(3);
    expect(m.falseNegatives).toBe(1);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.precision).toBeCloseTo(2 / 5, 12);
  });

  it('takes the tolerance as a parameter and handles empty inputs', () => {
    expect(matchDetections([{ x: 0, y: 0, radius: 10 }], [{ x: 9, y: 0 }], 1).truePositives).toBe(1);
    expect(matchDetections([], []).recall).toBe(1);
    expect(matchDetections([], [{ x: 1, y: 1 }]).precision).toBe(0);
  });
});
