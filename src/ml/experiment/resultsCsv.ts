// results.csv: one row per finished cell, appended and fsynced as each cell finishes, so an
// interrupted experiment loses at most the cell in progress and a rerun knows what is done.
// Accuracies are fractions (0..1) written with JavaScript's shortest round-trip form, so the
// learning-rate choice can be recomputed exactly from the file.
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { cellKey, type Cell, type Regime } from './grid';
import type { Method } from '../../shared/training';

export const RESULTS_FILE = 'results.csv';

export interface ResultRow extends Cell {
  valAcc: number;
  valLoss: number;
  testAcc: number;
  testBalancedAcc: number;
  /** Test top-1 at levels 1..L (hierarchical labels only, coarsest first). */
  testLevelAcc: number[];
  seconds: number;
  steps: number;
  trainImages: number;
  valImages: number;
  testImages: number;
  finishedAt: string;
}

const BASE_COLUMNS = [
  'model',
  'method',
  'shots',
  'percent',
  'seed',
  'lr',
  'val_acc',
  'val_loss',
  'test_acc',
  'test_balanced_acc',
  'seconds',
  'steps',
  'train_images',
  'val_images',
  'test_images',
  'finished_at',
];

export function csvHeader(levels: number): string[] {
  return [...BASE_COLUMNS, ...Array.from({ length: levels }, (_, i) => `test_acc_level${i + 1}`)];
}

export function formatRow(r: ResultRow): string {
  const v = [
    r.model,
    r.method,
    r.regime.kind === 'shots' ? String(r.regime.value) : '',
    r.regime.kind === 'percent' ? String(r.regime.value) : '',
    String(r.seed),
    String(r.lr),
    String(r.valAcc),
    String(r.valLoss),
    String(r.testAcc),
    String(r.testBalancedAcc),
    r.seconds.toFixed(3),
    String(r.steps),
    String(r.trainImages),
    String(r.valImages),
    String(r.testImages),
    r.finishedAt,
    ...r.testLevelAcc.map(String),
  ];
  return v.join(',');
}

export function parseRows(text: string): ResultRow[] {
  const lines = text.split('\n');
  const header = lines[0]?.split(',') ?? [];
  const levels = header.filter((h) => h.startsWith('test_acc_level')).length;
  const rows: ResultRow[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    // A line cut short by a crash mid-write has fewer fields: the cell is simply not done.
    if (f.length !== header.length || line.trim() === '') continue;
    const regime: Regime = f[2] !== '' ? { kind: 'shots', value: Number(f[2]) } : { kind: 'percent', value: Number(f[3]) };
    rows.push({
      model: f[0],
      method: f[1] as Method,
      regime,
      seed: Number(f[4]),
      lr: Number(f[5]),
      valAcc: Number(f[6]),
      valLoss: Number(f[7]),
      testAcc: Number(f[8]),
      testBalancedAcc: Number(f[9]),
      seconds: Number(f[10]),
      steps: Number(f[11]),
      trainImages: Number(f[12]),
      valImages: Number(f[13]),
      testImages: Number(f[14]),
      finishedAt: f[15],
      testLevelAcc: f.slice(16, 16 + levels).map(Number),
    });
  }
  return rows;
}

export async function readResults(path: string): Promise<ResultRow[]> {
  if (!existsSync(path)) return [];
  return parseRows(await readFile(path, 'utf8'));
}

/** Appends one row (writing the header first for a new file) and fsyncs before returning. */
export async function appendResult(path: string, row: ResultRow, levels: number): Promise<void> {
  const fresh = !existsSync(path);
  let prefix = fresh ? csvHeader(levels).join(',') + '\n' : '';
  if (!fresh) {
    // After a crash mid-line, start on a new line so the cut line stays one bad line.
    const text = await readFile(path, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
  }
  const fh = await open(path, 'a');
  try {
    await fh.writeFile(prefix + formatRow(row) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Keys of finished cells (the last row wins if a cell was somehow written twice). */
export function finishedKeys(rows: ResultRow[]): Map<string, ResultRow> {
  return new Map(rows.map((r) => [cellKey(r), r]));
}
