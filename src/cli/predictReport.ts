// What `cytotune predict` writes: one CSV row per image (path, predicted class, one probability
// column per class) and, for a labelled folder, top-1 accuracy with per-class counts.

import { csvField } from '../main/export/csv';

/** `probs` is [paths.length, classNames.length], row-major. */
export function toCsv(paths: string[], probs: Float32Array, predicted: number[], classNames: string[]): string {
  const c = classNames.length;
  const lines = [['path', 'predicted', ...classNames.map((n) => `p_${n}`)].map(csvField).join(',')];
  paths.forEach((p, i) => {
    const row = [csvField(p), csvField(classNames[predicted[i]])];
    for (let k = 0; k < c; k++) row.push(probs[i * c + k].toFixed(6));
    lines.push(row.join(','));
  });
  return lines.join('\n') + '\n';
}

export interface FolderAccuracy {
  top1: number;
  correct: number;
  total: number;
  /** Classes with an image or a prediction, in the run's order. */
  perClass: { name: string; images: number; correct: number; predicted: number }[];
}

export function folderAccuracy(labels: number[], predicted: number[], classNames: string[]): FolderAccuracy {
  const perClass = classNames.map((name) => ({ name, images: 0, correct: 0, predicted: 0 }));
  labels.forEach((l, i) => {
    perClass[l].images++;
    perClass[predicted[i]].predicted++;
    if (predicted[i] === l) perClass[l].correct++;
  });
  const correct = perClass.reduce((a, c) => a + c.correct, 0);
  return {
    top1: labels.length ? correct / labels.length : 0,
    correct,
    total: labels.length,
    perClass: perClass.filter((c) => c.images || c.predicted),
  };
}

export function accuracyLines(a: FolderAccuracy): string[] {
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  const width = Math.max(...a.perClass.map((c) => c.name.length));
  return [
    `top-1 accuracy ${pct(a.top1)} (${a.correct} of ${a.total} images; labels from the class folders)`,
    ...a.perClass.map(
      (c) =>
        `  ${c.name.padEnd(width)}  ${c.images} images, ${c.correct} correct${c.images ? ` (${pct(c.correct / c.images)})` : ''}, ${c.predicted} predicted`,
    ),
  ];
}
