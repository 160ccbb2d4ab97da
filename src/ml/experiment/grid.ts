// The cells of an experiment and the data each one trains and validates on. A cell is one
// training run: (model, method, shots k or data percentage p, seed, learning rate).
//   few-shot:   k training images per class (sampleFewShot), validation min(k, 4) per class
//               drawn from the val split, as the paper's code;
//   percentage: p % of each class of the training split (nested: 10 % is inside 20 % for a
//               seed), validation on the full val split.
// The test split is always used in full. The linear probe also always gets a 100 % cell: the
// paper's Table 1 and the reference line of its Figure 1.
import { sampleFewShot, validationShots, type LabeledItem } from '../data/fewShot';
import { hashSeed, Rng } from '../random';
import { formatLr } from './options';
import type { Method } from '../../shared/training';

export type Regime = { kind: 'shots'; value: number } | { kind: 'percent'; value: number };

export interface Cell {
  model: string;
  method: Method;
  regime: Regime;
  seed: number;
  lr: number;
}

export function regimeKey(r: Regime): string {
  return `${r.kind}=${r.value}`;
}

export function cellKey(c: Cell): string {
  return `${c.model}|${c.method}|${regimeKey(c.regime)}|seed=${c.seed}|lr=${formatLr(c.lr)}`;
}

/** The cells that share everything but the learning rate (one lr is picked among them). */
export function groupKey(c: Omit<Cell, 'lr'>): string {
  return `${c.model}|${c.method}|${regimeKey(c.regime)}|seed=${c.seed}`;
}

export interface GridAxes {
  models: string[];
  methods: Method[];
  shots: number[];
  percents: number[];
  seeds: number[];
  lrs: number[];
}

function regimesFor(method: Method, a: GridAxes): Regime[] {
  const percents = new Set(a.percents);
  if (method === 'linear') percents.add(100);
  return [
    ...[...new Set(a.shots)].sort((x, y) => x - y).map((value): Regime => ({ kind: 'shots', value })),
    ...[...percents].sort((x, y) => x - y).map((value): Regime => ({ kind: 'percent', value })),
  ];
}

/** Every cell, in run order: model, method, regime (shots then percentages, ascending), seed, lr. */
export function buildGrid(a: GridAxes): Cell[] {
  const cells: Cell[] = [];
  for (const model of a.models)
    for (const method of a.methods)
      for (const regime of regimesFor(method, a))
        for (const seed of a.seeds) for (const lr of a.lrs) cells.push({ model, method, regime, seed, lr });
  return cells;
}

/** p % of each class (at least one image), seeded; a smaller p gives a prefix of a larger p's subset. */
export function samplePercent(items: LabeledItem[], numClasses: number, percent: number, seed: number): LabeledItem[] {
  if (!(percent > 0 && percent <= 100)) throw new Error(`percent must be in (0, 100], got ${percent}`);
  const out: LabeledItem[] = [];
  for (let c = 0; c < numClasses; c++) {
    const pool = items.filter((it) => it.label === c);
    if (pool.length === 0) continue;
    const keep = Math.max(1, Math.floor((pool.length * percent) / 100 + 1e-9));
    out.push(...new Rng(hashSeed(seed, 'percent', c)).shuffle(pool).slice(0, keep));
  }
  return out;
}

export interface CellData {
  train: LabeledItem[];
  val: LabeledItem[];
}

/** Training and validation items of a cell (labels already at the training level). */
export function cellData(regime: Regime, seed: number, train: LabeledItem[], val: LabeledItem[], numClasses: number): CellData {
  if (regime.kind === 'shots') {
    return {
      train: sampleFewShot(train, numClasses, regime.value, seed),
      val: val.length ? sampleFewShot(val, numClasses, validationShots(regime.value), seed, 'val') : [],
    };
  }
  return { train: samplePercent(train, numClasses, regime.value, seed), val };
}
