// ETA and budget durations: one formatter, rounding once, so never "60s", "1m60s" or "1h60m".
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../../src/cli/duration';
import { progressPrinter } from '../../../src/cli/commands/train';
import type { TrainProgress } from '../../../src/ml/training/trainingLoop';

describe('formatDuration', () => {
  it('rounds before splitting into units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59.4)).toBe('59s');
    expect(formatDuration(59.6)).toBe('1m00s');
    expect(formatDuration(65)).toBe('1m05s');
    expect(formatDuration(119.6)).toBe('2m00s');
    expect(formatDuration(3599.4)).toBe('59m59s');
    expect(formatDuration(3599.6)).toBe('1h00m');
    expect(formatDuration(7170)).toBe('2h00m');
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3h05m');
    expect([formatDuration(null), formatDuration(NaN), formatDuration(-1)]).toEqual(['?', '?', '?']);
  });

  it('never prints 60 of a unit', () => {
    const bad: string[] = [];
    for (let s = 0; s < 3 * 3600; s += 0.25) if (/(^|\D)60[sm]/.test(formatDuration(s))) bad.push(`${s} -> ${formatDuration(s)}`);
    expect(bad).toEqual([]);
  });

  it('is what `cytotune train` prints as ETA (it printed "ETA 1m60s" for 119.6 s)', () => {
    const lines: string[] = [];
    const print = progressPrinter({ out: (l) => lines.push(l), err: () => {} });
    const p: TrainProgress = {
      step: 1,
      totalSteps: 10,
      epoch: 1,
      loss: 1,
      accuracy: 0.5,
      lr: 1e-3,
      imagesPerSecond: 10,
      etaSeconds: 119.6,
    };
    print(p);
    expect(lines[0]).toMatch(/ETA 2m00s$/);
  });
});
