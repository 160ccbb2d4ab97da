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

export function defaultInt8Options(): Int8Options {
  return { weightMax: cpuHasSaturationFreeInt8() ? 127 : 63 };
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
  xs: string; // float scalar scale
  xz: string; // uint8 scalar zero point
}

/** x float [...] -> uint8 codes, scale and zero point over the whole tensor (asymmetric). */
export function quantizeActivation(g: GraphBuilder, x: string, name: string): QuantizedInput {
  const [xq, xs, xz] = g.opN('DynamicQuantizeLinear', [x], 3, {}, `${name}_xq`);
  return { xq, xs, xz };
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
  const { xq, xs, xz } = typeof x === 'string' ? quantizeActivation(g, x, name) : x;
  const acc = g.op('MatMulInteger', [xq, wq, xz], {}, `${name}_mmi`); // int32 [..., outDim]
  const scale = g.op('Mul', [xs, ws], {}, `${name}_scale`); // [outDim]; a_scale first, as the fusion expects
  const y = g.op('Mul', [g.op('Cast', [acc], { to: { i: 1 } }), scale], {}, `${name}_deq`);
  return d.b ? g.op('Add', [y, g.weight(`${name}.b`, [d.outDim], d.b)], {}, name) : y;
}
