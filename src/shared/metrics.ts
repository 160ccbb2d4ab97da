// Classification metrics, pure TypeScript (used by the worker's evaluation and by the UI).
// Conventions: labels and predictions are class indices 0..C-1; confusion[t][p] counts images
// of true class t predicted as p; recall of a class with no images is null and is left out
// of balanced accuracy (as sklearn's balanced_accuracy_score over present classes).

export interface ClassificationMetrics {
  count: number;
  /** Fraction of images whose top-1 prediction is right (0..1). */
  top1: number;
  /** Mean recall over classes that have at least one image (0..1). */
  balancedAccuracy: number;
  /** Per class: correct / images of that class, null when the class has no images. */
  perClassRecall: (number | null)[];
  /** [true][predicted] counts, C x C. */
  confusion: number[][];
  /** Mean cross-entropy, when probabilities or losses were given. */
  loss: number | null;
}

export function confusionMatrix(labels: readonly number[], preds: readonly number[], numClasses: number): number[][] {
  if (labels.length !== preds.length) throw new Error(`confusionMatrix: ${labels.length} labels but ${preds.length} predictions`);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  labels.forEach((t, i) => {
    const p = preds[i];
    if (!(t >= 0 && t < numClasses && p >= 0 && p < numClasses)) throw new Error(`class index out of range: true ${t}, predicted ${p}`);
    m[t][p] += 1;
  });
  return m;
}

export function metricsFromConfusion(confusion: number[][], loss: number | null = null): ClassificationMetrics {
  const count = confusion.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
  const correct = confusion.reduce((a, row, i) => a + row[i], 0);
  const perClassRecall = confusion.map((row, i) => {
    const n = row.reduce((x, y) => x + y, 0);
    return n === 0 ? null : row[i] / n;
  });
  const present = perClassRecall.filter((r): r is number => r !== null);
  return {
    count,
    top1: count === 0 ? 0 : correct / count,
    balancedAccuracy: present.length === 0 ? 0 : present.reduce((a, b) => a + b, 0) / present.length,
    perClassRecall,
    confusion,
    loss,
  };
}

/** Metrics from labels and predicted classes; `losses` (per image) give the mean loss. */
export function classificationMetrics(
  labels: readonly number[],
  preds: readonly number[],
  numClasses: number,
  losses?: readonly number[],
): ClassificationMetrics {
  const loss = losses && losses.length > 0 ? losses.reduce((a, b) => a + b, 0) / losses.length : null;
  return metricsFromConfusion(confusionMatrix(labels, preds, numClasses), loss);
}

/** Index of the largest value of each row of a row-major [n, c] array (first wins on ties). */
export function argmaxRows(values: ArrayLike<number>, numClasses: number): number[] {
  const n = values.length / numClasses;
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (values[i * numClasses + c] > values[i * numClasses + best]) best = c;
    out[i] = best;
  }
  return out;
}
