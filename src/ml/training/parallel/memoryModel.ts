// How much of wasm's 4 GiB heap (wasm32: WebAssembly.Memory maximum 65536 pages) a LoRA training
// micro-batch needs, from measurements (bench/train-step.ts --memory: random weights, CLIP layout,
// per-head attention, copy-free Identity/Slice, one fwd+bwd in a fresh process; results in
// bench/results/train-step-memory.json). Heap = wasm memory size after the step (it only grows,
// so it is the peak, rounded up by emscripten's growth steps), GB, "x" = aborted (out of heap):
//
//   model, LoRA              matMuls, attention            after build  m=1   m=2   m=3   m=4   m=5   m=6
//   ViT-B/16, r2 q,v         XNNPACK + fastGrad, per head  0.74         2.08  2.68  3.41  4.07  x
//   ViT-B/16, r2 q,v         BLAS, per head                0.37         1.14  1.86  2.67  3.34  4.11  x
//   ViT-B/16, r2 q,v         BLAS, batched                 0.37         1.24  2.16  3.00  3.85  x
//   ViT-L/14, r16 q,k,v,o    XNNPACK + fastGrad, per head  2.44         x
//   ViT-L/14, r16 q,k,v,o    BLAS, per head                1.26         4.21  x
//
// Reading: with XNNPACK the heap holds the frozen weights four times once training has run: the
// weights, their transposed copies (VitEncoder.prepareForTraining, for a fast backward) and
// XNNPACK's packed copy of each (made on a weight's first 2-D matMul, kept while it lives):
// 4 x 344 MB = 1.37 GB for ViT-B against 1.40 GB measured. With BLAS (backend/blasMatMul.ts) one
// copy is enough. Each training image then adds 0.66-0.74 GB for ViT-B and 2.95 GB for ViT-L:
// tfjs keeps every forward activation the backward needs AND every intermediate gradient until the
// whole backward ends (tfjs-core tape.ts backpropagateGradients frees none), ~300-340 bytes per
// block x token x channel plus ~32 per LoRA target; batched attention (autodiff) keeps about six
// [heads, T, T] tensors per block more than per-head attention. So ViT-L/14 trains on wasm only
// with BLAS, per-head attention and one image per micro-batch, at 98 % of the heap (there is no
// activation recomputation: the encoder, model/vit.ts, keeps all blocks' activations).
import type { EncoderConfig } from '../../models/encoder';

/** wasm32's ceiling (bytes). */
export const WASM_HEAP_LIMIT = 4 * 1024 ** 3;
/** Plan to use at most this share of it: fragmentation and the loss/optimiser tensors need room. */
export const HEAP_SAFETY = 0.91;
/**
 * Measured heap per training image per (block x token x channel), bytes: base + perTarget x LoRA
 * targets. ViT-B/16 r2 q,v: XNNPACK 0.66 GB, BLAS 0.735 GB over 12 x 197 x 768; ViT-L/14 r16
 * q,k,v,o, BLAS: 2.95 GB over 24 x 257 x 1024 (-> 31.5 per target). BLAS runs use stock autodiff
 * (no fastGradients buffers), which saves a little more per image than lora/fastGrad.ts.
 */
export const ACTIVATION_BYTES_PER_ELEMENT = { xnnpack: 300, blas: 341, perTarget: 31.5 };
/** Batched attention under autodiff: extra bytes per block x head x T x T (ViT-B BLAS: 0.87 - 0.735 GB per image = 6 floats). */
export const BATCHED_ATTENTION_BYTES_PER_SCORE = 24;
/** One image may use up to this share when nothing fits under HEAP_SAFETY (ViT-L/14 with BLAS: measured 98 %, ran). */
export const HEAP_TIGHT = 0.99;

/**
 * Copies of the frozen weights resident while training: with XNNPACK matMuls w, w^T
 * (fastGradients) and XNNPACK's packed copy of each, or w and packed w without fastGradients;
 * with BLAS matMuls (backend/blasMatMul.ts) just w: BLAS packs per call and needs no w^T.
 */
export function weightCopies(mode: { blas: boolean; fastGradients: boolean }): number {
  return mode.blas ? 1 : mode.fastGradients ? 4 : 2;
}

export type ModelShape = Pick<EncoderConfig, 'imageSize' | 'patchSize' | 'width' | 'depth' | 'mlpDim' | 'heads'>;

export function tokens(c: ModelShape): number {
  return (c.imageSize / c.patchSize) ** 2 + 1;
}

/** Frozen parameters of a pre-norm ViT of this shape (blocks dominate; embeddings included). */
export function frozenParameters(c: ModelShape): number {
  const w = c.width;
  const block = 4 * w * w + 2 * w * c.mlpDim + 9 * w + c.mlpDim;
  return c.depth * block + 3 * c.patchSize ** 2 * w + tokens(c) * w + 4 * w;
}

export interface HeapEstimate {
  /** Frozen weights (all resident copies). */
  fixedBytes: number;
  perImageBytes: number;
  /** Largest micro-batch whose estimate stays under HEAP_SAFETY x 4 GiB; 1 if one image fits under HEAP_TIGHT; else 0. */
  maxMicroBatch: number;
  /** True when even one image leaves less than the HEAP_SAFETY margin. */
  tight: boolean;
}

export interface HeapMode {
  blas: boolean;
  fastGradients: boolean;
  /** Number of LoRA targets (q, k, v, o): each adds branch activations. */
  loraTargets?: number;
  /** Attention formulation (model/layers.ts); default: batched with BLAS, per head without. */
  attention?: 'perHead' | 'batched';
}

export function estimateTrainingHeap(c: ModelShape, mode: HeapMode = { blas: false, fastGradients: true }): HeapEstimate {
  const perElement =
    (mode.blas ? ACTIVATION_BYTES_PER_ELEMENT.blas : ACTIVATION_BYTES_PER_ELEMENT.xnnpack) +
    ACTIVATION_BYTES_PER_ELEMENT.perTarget * (mode.loraTargets ?? 2);
  const batched = (mode.attention ?? (mode.blas ? 'batched' : 'perHead')) === 'batched';
  const perImageBytes =
    perElement * c.depth * tokens(c) * c.width + (batched ? BATCHED_ATTENTION_BYTES_PER_SCORE * c.depth * c.heads * tokens(c) ** 2 : 0);
  const fixedBytes = 4 * frozenParameters(c) * weightCopies(mode);
  const safe = Math.max(0, Math.floor((HEAP_SAFETY * WASM_HEAP_LIMIT - fixedBytes) / perImageBytes));
  if (safe > 0) return { fixedBytes, perImageBytes, maxMicroBatch: safe, tight: false };
  const tight = fixedBytes + perImageBytes <= HEAP_TIGHT * WASM_HEAP_LIMIT;
  return { fixedBytes, perImageBytes, maxMicroBatch: tight ? 1 : 0, tight };
}
