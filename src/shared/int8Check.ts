// The int8 agreement check stored with a trained run (metrics.json `int8`): on the project's
// labelled cells, how often the int8 graph's top-1 class equals full precision's and the largest
// probability difference. `--engine auto` classifies with int8 only when a stored check passed
// for the same int8 graph (exporter version and weight range); the UI shows it in one line.

/** What a check must reach before `auto` uses int8 (the issue's bar, also the tests'). */
export interface Int8Bar {
  minTop1Agreement: number;
  maxProbDiff: number;
}

export const DEFAULT_INT8_BAR: Int8Bar = { minTop1Agreement: 0.99, maxProbDiff: 0.02 };

/** Which int8 graph a check measured: another exporter or weight range needs a new check. */
export interface Int8GraphId {
  exporter: number;
  /** Largest |weight| code: 127, or 63 on x86 CPUs without VNNI (ml/onnx/quantize.ts). */
  weightMax: number;
}

export interface Int8Check {
  /** Labelled images (cells) compared. */
  n: number;
  /** Fraction whose top-1 class is the same under int8 and fp32. */
  top1Agreement: number;
  /** Largest |p_int8 - p_fp32| over all images and classes. */
  maxProbDiff: number;
  bar: Int8Bar;
  passed: boolean;
  graph: Int8GraphId;
  measuredAt: string;
}

export function int8CheckPasses(a: { n: number; top1Agreement: number; maxProbDiff: number }, bar: Int8Bar = DEFAULT_INT8_BAR): boolean {
  return a.n > 0 && a.top1Agreement >= bar.minTop1Agreement && a.maxProbDiff <= bar.maxProbDiff;
}

const pct = (x: number) => `${(Math.floor(x * 1000) / 10).toFixed(1)} %`;

/** "int8: 99.8 % agreement with full precision on 240 labelled cells (largest probability difference 0.004)". */
export function describeInt8Check(c: Int8Check, unit = 'labelled cells'): string {
  return `int8: ${pct(c.top1Agreement)} agreement with full precision on ${c.n.toLocaleString('en-US')} ${unit} (largest probability difference ${c.maxProbDiff.toFixed(3)})`;
}

/**
 * Whether `auto` classifies with int8 given the run's stored check, and why, in words for the
 * job result and the UI. `current` is the int8 graph this machine would run.
 */
export function int8Decision(check: Int8Check | null | undefined, current: Int8GraphId): { useInt8: boolean; reason: string } {
  if (!check) return { useInt8: false, reason: 'full precision: this run has no stored int8 agreement check' };
  if (check.graph.exporter !== current.exporter || check.graph.weightMax !== current.weightMax)
    return {
      useInt8: false,
      reason: `full precision: the stored int8 check measured another int8 graph (exporter ${check.graph.exporter}, weights ±${check.graph.weightMax}; this machine: ${current.exporter}, ±${current.weightMax})`,
    };
  // The one bar, whatever bar the check was stored with.
  const passed = int8CheckPasses(check, DEFAULT_INT8_BAR);
  const bar = `needs >= ${pct(DEFAULT_INT8_BAR.minTop1Agreement)} and <= ${DEFAULT_INT8_BAR.maxProbDiff}`;
  return passed
    ? { useInt8: true, reason: `int8: the stored check passed (${describeInt8Check(check)}; ${bar})` }
    : { useInt8: false, reason: `full precision: the stored int8 check did not pass (${describeInt8Check(check)}; ${bar})` };
}
