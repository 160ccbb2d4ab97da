// From cells to the paper's numbers: for each (model, method, shots or percent, seed) the
// learning rate with the highest validation accuracy (ties: lower validation loss, then the
// order of --lrs), then the test accuracy of that learning rate as mean and standard deviation
// over seeds (population std, as numpy's np.std). Only complete lr sweeps are used.
import { groupKey, regimeKey, type Regime } from './grid';
import type { ResultRow } from './resultsCsv';
import type { Method } from '../../shared/training';

/** The chosen row of one lr sweep: highest val accuracy, then lowest val loss, then first in `lrs`. */
export function chooseLearningRate(rows: ResultRow[], lrs: number[]): ResultRow {
  if (rows.length === 0) throw new Error('chooseLearningRate: no rows');
  const order = (r: ResultRow) => lrs.indexOf(r.lr);
  return [...rows].sort((a, b) => b.valAcc - a.valAcc || a.valLoss - b.valLoss || order(a) - order(b))[0];
}

export interface Aggregate {
  model: string;
  method: Method;
  regime: Regime;
  /** Seeds with a complete lr sweep, ascending, and the lr chosen for each. */
  seeds: number[];
  chosenLrs: number[];
  test: Stat;
  balanced: Stat;
  /** Per level 1..L (hierarchical labels only). */
  levels: Stat[];
  /** Chosen rows, one per seed. */
  chosen: ResultRow[];
}

export interface Stat {
  mean: number;
  std: number;
}

export function meanStd(values: number[]): Stat {
  if (values.length === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * Aggregates per (model, method, regime) over seeds. A seed counts only when every lr in `lrs`
 * has a row (a sweep cut by --budget is not summarised until a rerun completes it).
 */
export function aggregate(rows: ResultRow[], lrs: number[]): Aggregate[] {
  const sweeps = new Map<string, ResultRow[]>();
  for (const r of rows) {
    if (!lrs.includes(r.lr)) continue;
    const k = groupKey(r);
    const list = sweeps.get(k) ?? [];
    // A cell written twice (should not happen) counts once: keep the last.
    sweeps.set(k, [...list.filter((x) => x.lr !== r.lr), r]);
  }
  const byCondition = new Map<string, ResultRow[]>();
  for (const sweep of sweeps.values()) {
    if (sweep.length !== lrs.length) continue;
    const best = chooseLearningRate(sweep, lrs);
    const k = `${best.model}|${best.method}|${regimeKey(best.regime)}`;
    byCondition.set(k, [...(byCondition.get(k) ?? []), best]);
  }
  const out: Aggregate[] = [];
  for (const chosen of byCondition.values()) {
    chosen.sort((a, b) => a.seed - b.seed);
    const first = chosen[0];
    const nLevels = first.testLevelAcc.length;
    out.push({
      model: first.model,
      method: first.method,
      regime: first.regime,
      seeds: chosen.map((r) => r.seed),
      chosenLrs: chosen.map((r) => r.lr),
      test: meanStd(chosen.map((r) => r.testAcc)),
      balanced: meanStd(chosen.map((r) => r.testBalancedAcc)),
      levels: Array.from({ length: nLevels }, (_, i) => meanStd(chosen.map((r) => r.testLevelAcc[i]))),
      chosen,
    });
  }
  return out;
}

/** The aggregate of one condition, if any. */
export function find(aggs: Aggregate[], model: string, method: Method, regime: Regime): Aggregate | undefined {
  return aggs.find((a) => a.model === model && a.method === method && a.regime.kind === regime.kind && a.regime.value === regime.value);
}
