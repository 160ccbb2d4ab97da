// The int8 agreement check stored with a trained run (metrics.json `int8`): on the project's
// labelled cells, how often the int8 graph's top-1 class equals full precision's and the largest
// probability difference. `--engine auto` classifies with int8 only when a stored check passed
// for the same int8 graph (exporter version, weight range and recipe); the UI shows it in one line.

/** What a check must reach before `auto` uses int8 (the issue's bar, also the tests'). */
export interface Int8Bar {
  minTop1Agreement: number;
  maxProbDiff: number;
}

export const DEFAULT_INT8_BAR: Int8Bar = { minTop1Agreement: 0.99, maxProbDiff: 0.02 };

/** Which int8 graph a check measured: another exporter, weight range or recipe needs a new check. */
export interface Int8GraphId {
  exporter: number;
  /** Largest |weight| code: 127, or 63 on x86 CPUs without VNNI (ml/onnx/quantize.ts). */
  weightMax: number;
  /** What else shapes the graph (ml/onnx/quantize.ts int8GraphKey: float32 layers, activation scales). */
  float32?: string[];
  float32Blocks?: number[];
  activations?: string;
}

/** Same int8 graph: every field equal (absent = default). */
export function sameInt8Graph(a: Int8GraphId, b: Int8GraphId): boolean {
  const canon = (g: Int8GraphId) =>
    JSON.stringify([g.exporter, g.weightMax, g.float32 ?? [], g.float32Blocks ?? [], g.activations ?? 'tensor']);
  return canon(a) === canon(b);
}

const graphWords = (g: Int8GraphId) =>
  `exporter ${g.exporter}, weights ±${g.weightMax}${g.float32Blocks?.length ? `, float32 blocks ${g.float32Blocks.join(' ')}` : ''}${g.float32?.length ? `, float32 ${g.float32.join(' ')}` : ''}, activations per ${g.activations === 'row' ? 'token' : 'tensor'}`;

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

/** "99.8 % agreement with full precision on 240 labelled cells (largest probability difference 0.004)". */
function agreementWords(c: Int8Check, unit: string): string {
  return `${pct(c.top1Agreement)} agreement with full precision on ${c.n.toLocaleString('en-US')} ${unit} (largest probability difference ${c.maxProbDiff.toFixed(3)})`;
}

/** "int8: 99.8 % agreement with full precision on 240 labelled cells (largest probability difference 0.004)". */
export function describeInt8Check(c: Int8Check, unit = 'labelled cells'): string {
  return `int8: ${agreementWords(c, unit)}`;
}

/**
 * Whether `auto` classifies with int8 given the run's stored check, and why, in words for the
 * job result and the UI. `current` is the int8 graph this machine would run.
 */
export function int8Decision(check: Int8Check | null | undefined, current: Int8GraphId): { useInt8: boolean; reason: string } {
  if (!check) return { useInt8: false, reason: 'full precision: this run has no stored int8 agreement check' };
  if (!sameInt8Graph(check.graph, current))
    return {
      useInt8: false,
      reason: `full precision: the stored int8 check measured another int8 graph (${graphWords(check.graph)}; this machine: ${graphWords(current)})`,
    };
  // The one bar, whatever bar the check was stored with.
  const passed = int8CheckPasses(check, DEFAULT_INT8_BAR);
  const bar = `needs >= ${pct(DEFAULT_INT8_BAR.minTop1Agreement)} and <= ${DEFAULT_INT8_BAR.maxProbDiff}`;
  return passed
    ? { useInt8: true, reason: `int8: the stored check passed, ${agreementWords(check, 'labelled cells')}; ${bar}` }
    : { useInt8: false, reason: `full precision: the stored int8 check did not pass, ${agreementWords(check, 'labelled cells')}; ${bar}` };
}
