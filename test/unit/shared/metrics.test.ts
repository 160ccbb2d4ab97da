import { describe, expect, it } from 'vitest';
import { argmaxRows, classificationMetrics, confusionMatrix } from '../../../src/shared/metrics';

describe('classification metrics (hand-computed example)', () => {
  // 3 classes. True:   0 0 0 0 1 1 2 2 2 2 (class sizes 4, 2, 4)
  //            Pred:   0 0 1 2 1 0 2 2 2 0
  // Confusion rows (true) x cols (pred):
  //   0: [2, 1, 1]   recall 2/4 = 0.5
  //   1: [1, 1, 0]   recall 1/2 = 0.5
  //   2: [1, 0, 3]   recall 3/4 = 0.75
  // top-1 = (2 + 1 + 3) / 10 = 0.6; balanced = (0.5 + 0.5 + 0.75) / 3 = 0.58333...
  const labels = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
  const preds = [0, 0, 1, 2, 1, 0, 2, 2, 2, 0];

  it('computes the confusion matrix, top-1, per-class recall and balanced accuracy', () => {
    const m = classificationMetrics(labels, preds, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(m.confusion).toEqual([
      [2, 1, 1],
      [1, 1, 0],
      [1, 0, 3],
    ]);
    expect(m.count).toBe(10);
    expect(m.top1).toBeCloseTo(0.6, 12);
    expect(m.perClassRecall).toEqual([0.5, 0.5, 0.75]);
    expect(m.balancedAccuracy).toBeCloseTo(1.75 / 3, 12);
    expect(m.loss).toBeCloseTo(5.5, 12);
  });

  it('leaves classes without images out of balanced accuracy (recall null)', () => {
    const m = classificationMetrics([0, 0, 2], [0, 1, 2], 3);
    expect(m.perClassRecall).toEqual([0.5, null, 1]);
    expect(m.balancedAccuracy).toBeCloseTo(0.75, 12);
    expect(m.loss).toBeNull();
  });

  it('rejects out-of-range classes and mismatched lengths', () => {
    expect(() => confusionMatrix([0, 3], [0, 0], 3)).toThrow(/out of range/);
    expect(() => confusionMatrix([0], [0, 1], 3)).toThrow(/2 predictions/);
  });

  it('takes the arg-max per row, first on ties', () => {
    expect(argmaxRows([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0, 0, 1], 3)).toEqual([1, 0, 2]);
  });
});
