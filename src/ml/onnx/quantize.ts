// Int8 linear layers for the ONNX export: weights quantized per output channel (symmetric,
// zero point 0) when the graph is written, activations quantized per tensor at run time.
//
//   x [..., in] --DynamicQuantizeLinear--> xq uint8 [..., in], xs, xz (scalars)
//   MatMulInteger(xq, Wq int8 [in, out], xz) -> int32 [..., out]
//   Cast(float) * (xs * ws [out]) + b [out]  -> float [..., out]
//
// Only standard ONNX ops, in the exact shape ONNX Runtime's MatMulIntegerToFloatFusion and
// DynamicQuantizeMatMulFusion match: the CPU provider runs each layer as one
// com.microsoft.DynamicQuantizeMatMul (quantize, u8s8 GEMM on prepacked weights, scale, bias).
// Writing that contrib op directly measured the same (ViT-B MLP, 6304 rows, 1 thread:
// standard ops 241 ms, DynamicQuantizeMatMul 265 ms, MatMulIntegerToFloat 252 ms, fp32
// MatMul 893 ms; rel. error 1.25e-2 for all three), so the portable form is kept.
import { readFileSync } from 'node:fs';
import type { GraphBuilder } from './graphBuilder';
import { readSource, type HostDense } from './hostWeights';

export type Precision = 'fp32' | 'int8';

export interface Int8Options {
  /**
   * Largest |weight| code: 127, or 63 on x86 CPUs without VNNI, whose u8 x s8 kernels
   * (vpmaddubsw) add pairs of products in saturating int16 (255 * 127 * 2 > 32767); ONNX
   * Runtime's own quantizer calls this reduce_range. Part of the graph cache key.
   */
  weightMax: number;
  /**
   * Projections kept float32 in every block (default none), and blocks kept float32 whole
   * (indices; negative from the end): what bench/int8-agreement.ts measures, one at a time.
   */
  float32?: Int8LayerKind[];
  float32Blocks?: number[];
  /**
   * Activation scale: 'tensor' (default; one per call, DynamicQuantizeLinear, fused by ONNX
   * Runtime into DynamicQuantizeMatMul) or 'row' (one per token for the centred inputs q, k, v,
   * o and fc1 read: Abs, ReduceMax, Div, Round, Cast, unfused MatMulInteger; fc2 stays per
   * tensor); what bench/int8-agreement.ts compares.
   */
  activations?: 'tensor' | 'row';
}

/** The int8 projections of a block: q, k, v (one quantization of h), o, fc1, fc2. */
export type Int8LayerKind = 'qkv' | 'o' | 'fc1' | 'fc2';

/** What of `o` changes the graph (the cache key's int8 part); options at their defaults are left out. */
export function int8GraphKey(o: Int8Options): Record<string, unknown> {
  return {
    weightMax: o.weightMax,
    ...(o.float32?.length ? { float32: [...o.float32].sort() } : {}),
    ...(o.float32Blocks?.length ? { float32Blocks: [...o.float32Blocks].sort((a, b) => a - b) } : {}),
    ...(o.activations === 'row' ? { activations: 'row' } : {}),
  };
}

/**
 * Whether this CPU's u8 x s8 dot products cannot saturate: x86 with VNNI or AMX (read from
 * /proc/cpuinfo; elsewhere, e.g. Windows, unknown: assume not); ARM and others: yes.
 */
export function cpuHasSaturationFreeInt8(
  arch: string = process.arch,
  cpuFlags: () => string = () => readFileSync('/proc/cpuinfo', 'utf8'),
): boolean {
  if (arch !== 'x64' && arch !== 'ia32') return true;
  try {
    return /\b(avx512_vnni|avx_vnni|amx_int8)\b/.test(cpuFlags());
  } catch {
    return false;
  }
}

/**
 * The int8 recipe: every projection int8 except block 0's, which stays float32. Measured on
 * real-size ViT-B/16 with random weights (bench/int8-agreement.ts, 96 noise images, 2-core
 * Xeon): the error is spread evenly over q/k/v, o, fc1 and fc2 (keeping any one kind float32
 * removes 12-14 % of it and halves the speed-up); the last block matters least (1 %), the first
 * most: float32 there removes 29 % of the embedding error (3.6e-2 -> 2.4e-2 with one image per
 * call) and halves the largest probability change (0.021 -> 0.011) for 3.8 x -> 3.0 x fp32.
 * Per-token activation scales remove 18 % but cost 30 %; two float32 blocks leave 2.5 x.
 */
export function defaultInt8Options(): Int8Options {
  return { weightMax: cpuHasSaturationFreeInt8() ? 127 : 63, float32Blocks: [0] };
}

export interface QuantizedColumns {
  /** [inDim, outDim] row-major, like the float weight, in [-weightMax, weightMax]. */
  q: Int8Array;
  /** [outDim]: w[i, j] ~= q[i, j] * scales[j]. */
  scales: Float32Array;
}

/** Symmetric per-column (= per output channel) quantization of w [inDim, outDim]. */
export function quantizeColumns(w: Float32Array, inDim: number, outDim: number, weightMax = 127): QuantizedColumns {
  if (w.length !== inDim * outDim) throw new Error(`quantize: ${w.length} values for [${inDim}, ${outDim}]`);
  const maxAbs = new Float32Array(outDim);
  for (let i = 0; i < inDim; i++) {
    const row = i * outDim;
    for (let j = 0; j < outDim; j++) {
      const a = Math.abs(w[row + j]);
      if (a > maxAbs[j]) maxAbs[j] = a;
    }
  }
  // An all-zero column keeps scale 1 (codes 0), never a division by zero.
  const scales = maxAbs.map((m) => (m > 0 ? m / weightMax : 1));
  const inv = scales.map((s) => 1 / s);
  const q = new Int8Array(w.length);
  for (let i = 0; i < inDim; i++) {
    const row = i * outDim;
    for (let j = 0; j < outDim; j++) {
      const v = Math.round(w[row + j] * inv[j]);
      q[row + j] = v > weightMax ? weightMax : v < -weightMax ? -weightMax : v;
    }
  }
  return { q, scales };
}

/**
 * The codes and scales of `d` as two lazy sources that quantize once: the weight (itself often
 * lazy: a tfjs read or a LoRA merge) is read when the first of them is written. The codes are
 * dropped once written (scales are kept: [outDim] floats); a second write recomputes them.
 */
function lazyQuantized(d: HostDense, weightMax: number): { q: () => Int8Array; scales: () => Float32Array } {
  let scales: Float32Array | null = null;
  let pending: Int8Array | null = null;
  const run = () => {
    const r = quantizeColumns(readSource(d.w), d.inDim, d.outDim, weightMax);
    scales = r.scales;
    pending = r.q;
  };
  return {
    q: () => {
      if (!pending) run();
      const q = pending!;
      pending = null;
      return q;
    },
    scales: () => {
      if (!scales) run();
      return scales!;
    },
  };
}

/** An activation quantized once for several int8 layers that read it (q, k and v). */
export interface QuantizedInput {
  xq: string; // uint8, the shape of x
  xs: string; // float scale: a scalar, or [..., 1] per row
  xz: string; // uint8 scalar zero point
  perRow: boolean;
}

/**
 * x float [..., in] -> uint8 codes, scale and zero point: over the whole tensor (asymmetric,
 * DynamicQuantizeLinear), or with o.activations 'row' one symmetric scale per row (token):
 * s = max|x_row| / 127, codes round(x / s) + 128, zero point 128.
 */
export function quantizeActivation(g: GraphBuilder, x: string, name: string, o?: Int8Options): QuantizedInput {
  if (o?.activations !== 'row') {
    const [xq, xs, xz] = g.opN('DynamicQuantizeLinear', [x], 3, {}, `${name}_xq`);
    return { xq, xs, xz, perRow: false };
  }
  const absMax = g.op('ReduceMax', [g.op('Abs', [x])], { axes: { ints: [-1] }, keepdims: { i: 1 } }); // [..., 1]
  const xs = g.op('Div', [g.op('Max', [absMax, g.scalar(1e-12)]), g.scalar(127)], {}, `${name}_xs`);
  const codes = g.op('Add', [g.op('Round', [g.op('Div', [x, xs])]), g.scalar(128)]);
  const xq = g.op('Cast', [codes], { to: { i: 2 } }, `${name}_xq`); // uint8
  const xz = g.op('Cast', [g.scalar(128)], { to: { i: 2 } }); // constant: folded when the session opens
  return { xq, xs, xz, perRow: true };
}

/**
 * x [..., inDim] -> [..., outDim] through an int8 weight (see the header for the ops). `x` is a
 * float tensor (quantized here, fused by ONNX Runtime into DynamicQuantizeMatMul) or an already
 * quantized input shared with other layers (fused into MatMulIntegerToFloat).
 */
export function quantizedDense(g: GraphBuilder, x: string | QuantizedInput, d: HostDense, name: string, o: Int8Options): string {
  const lq = lazyQuantized(d, o.weightMax);
  const wq = g.int8Weight(`${name}.wq`, [d.inDim, d.outDim], lq.q);
  const ws = g.weight(`${name}.ws`, [d.outDim], lq.scales);
  const { xq, xs, xz, perRow } = typeof x === 'string' ? quantizeActivation(g, x, name, o) : x;
  const acc = g.op('MatMulInteger', [xq, wq, xz], {}, `${name}_mmi`); // int32 [..., outDim]
  const float = g.op('Cast', [acc], { to: { i: 1 } });
  const y = perRow
    ? g.op('Mul', [g.op('Mul', [float, ws]), xs], {}, `${name}_deq`) // ws [outDim], then xs [..., 1]
    : g.op('Mul', [float, g.op('Mul', [xs, ws], {}, `${name}_scale`)], {}, `${name}_deq`); // a_scale first, as the fusion expects
  return d.b ? g.op('Add', [y, g.weight(`${name}.b`, [d.outDim], d.b)], {}, name) : y;
}
