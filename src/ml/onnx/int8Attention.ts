// The attention half of an int8 block: h [N, T, width] (after LN1) -> context [N, T, width].
// The q, k, v projections are int8 GEMMs that share one quantization of h; the attention itself
// (q k^T / sqrt(d), softmax, p v) stays float32 in ONNX Runtime's fused com.microsoft
// MultiHeadAttention, which takes q, k, v as [N, T, width] and returns [N, T, width].
//
// Why not the fp32 graph's packed qkv + Split + per-head Reshape/Transpose/MatMul/Softmax:
// once the projections are int8, those copies are a large share of what is left. Profiled on
// ViT-B/16 (2 blocks, batch 8, 1 thread, per 2 blocks): packed int8 qkv + Split 9 ms +
// Transpose 15 ms + QK^T 24 ms + Softmax 4 ms + PV 19 ms = 267 ms for the model; separate q/k/v
// + MultiHeadAttention 37 ms = 212 ms. (The same change in fp32 gains only 625 -> 589 ms.)
import type { GraphBuilder } from './graphBuilder';
import type { HostDense } from './hostWeights';
import { quantizeActivation, quantizedDense, type Int8Options } from './quantize';

export function int8Attention(
  g: GraphBuilder,
  h: string,
  qkv: { q: HostDense; k: HostDense; v: HostDense },
  heads: number,
  name: string,
  o: Int8Options,
): string {
  const hq = quantizeActivation(g, h, `${name}.h`, o);
  const [q, k, v] = (['q', 'k', 'v'] as const).map((p) => quantizedDense(g, hq, qkv[p], `${name}.${p}`, o)); // each [N, T, width]
  // scale defaults to 1 / sqrt(width / heads), as in VitGraph.attention.
  return g.domainOp('com.microsoft', 1, 'MultiHeadAttention', [q, k, v], { num_heads: { i: heads } }, `${name}.mha`);
}
