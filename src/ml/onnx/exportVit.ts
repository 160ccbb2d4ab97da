// Our pre-norm ViT (src/worker/model/vit.ts) as an ONNX graph (opset 17), op for op the same
// maths: Conv patch embedding (= reshape + matMul), CLS + positions, pre-LN blocks with the
// family's LayerNorm eps, attention from MatMul/Softmax, exact-erf GELU or QuickGELU,
// LayerScale, final norm on CLS, projection; optionally merged LoRA and a linear head.
// Input `pixel_values` [batch, 3, S, S] (normalised), outputs `embeddings` [batch, D] and,
// with a head, `logits` and `probabilities` [batch, C].
import type { EncoderConfig } from '../models/encoder';
import { layerKey } from '../adapters/loraConfig';
import { GraphBuilder } from './graphBuilder';
import {
  readSource,
  type HostBlock,
  type HostDense,
  type HostHead,
  type HostLayerNorm,
  type HostVitWeights,
  type ProjectionOverrides,
} from './hostWeights';
import { int8Attention } from './int8Attention';
import type { ProtoMessage } from './protobuf';
import type { ProjectionName } from '../../shared/training';
import { quantizedDense, type Int8LayerKind, type Int8Options } from './quantize';

/** [rows, cols] row-major -> [cols, rows]. */
function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Bump when the graph changes, so cached exports are rebuilt. */
export const EXPORT_VERSION = 1;

export const ONNX_INPUT = 'pixel_values';
export const ONNX_OUTPUTS = { embeddings: 'embeddings', logits: 'logits', probabilities: 'probabilities' } as const;

export interface VitExportOptions {
  /** Merged LoRA (or any) replacements of q, k, v, o per block, keyed by layerKey(block, name). */
  overrides?: ProjectionOverrides;
  head?: HostHead | null;
  /**
   * Int8 graph (quantize.ts, int8Attention.ts): q, k, v, o, fc1, fc2 as int8 MatMulInteger;
   * attention maths, LayerNorm, GELU, the patch Conv, the projection and the head stay float32.
   */
  int8?: Int8Options | null;
}

class VitGraph {
  readonly g = new GraphBuilder('cytotune_vit');

  constructor(
    private readonly cfg: EncoderConfig,
    private readonly int8: Int8Options | null = null,
  ) {}

  layerNorm(x: string, ln: HostLayerNorm, name: string): string {
    const w = this.cfg.width;
    const gamma = this.g.weight(`${name}.gamma`, [w], ln.gamma);
    const beta = this.g.weight(`${name}.beta`, [w], ln.beta);
    return this.g.op('LayerNormalization', [x, gamma, beta], { axis: { i: -1 }, epsilon: { f: ln.eps } }, name);
  }

  /**
   * x [..., in] @ w [in, out] + b as MatMul + Add: ONNX Runtime prepacks constant MatMul weights
   * (2-D Gemm with its bias measured ~10 % slower here) and fuses fc1's Add + GELU into BiasGelu.
   */
  dense(x: string, d: HostDense, name: string, float32 = false, oneSided = false): string {
    // A one-sided input (after GELU: >= -0.17) keeps the asymmetric per-tensor scale: a
    // symmetric per-row scale would spend half its codes on values that never occur.
    if (this.int8 && !float32) return quantizedDense(this.g, x, d, name, oneSided ? { ...this.int8, activations: 'tensor' } : this.int8);
    const y = this.g.op('MatMul', [x, this.g.weight(`${name}.w`, [d.inDim, d.outDim], d.w)], {}, `${name}_mm`);
    return d.b ? this.g.op('Add', [y, this.g.weight(`${name}.b`, [d.outDim], d.b)], {}, name) : y;
  }

  /**
   * Same formulas as layers.ts: 0.5 x (1 + erf(x / sqrt 2)) and x sigmoid(1.702 x), written in
   * the shapes ONNX Runtime fuses into its one-pass Gelu / QuickGelu kernels.
   */
  activation(x: string): string {
    const g = this.g;
    if (this.cfg.activation === 'quick_gelu') return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.scalar(1.702)])])]);
    const erf = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
    return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
  }

  /** q, k, v as one [width, 3 width] MatMul (one large GEMM is faster), then split. */
  qkv(h: string, q: HostDense, k: HostDense, v: HostDense, name: string, float32 = false): string[] {
    const w = this.cfg.width;
    // Packed when written: row r of [width, 3 width] is [q row r | k row r | v row r].
    const packed = () => {
      const out = new Float32Array(w * 3 * w);
      [q, k, v].forEach((d, j) => {
        const dw = readSource(d.w);
        for (let r = 0; r < w; r++) out.set(dw.subarray(r * w, (r + 1) * w), r * 3 * w + j * w);
      });
      return out;
    };
    const bias = () => {
      const out = new Float32Array(3 * w);
      [q, k, v].forEach((d, j) => d.b && out.set(readSource(d.b), j * w)); // a missing bias adds exact zeros
      return out;
    };
    const y = this.dense(h, { w: packed, inDim: w, outDim: 3 * w, b: bias }, name, float32);
    return this.g.opN('Split', [y, this.g.int64([w, w, w])], 3, { axis: { i: -1 } }, `${name}_split`);
  }

  attention(q: string, k: string, v: string, name: string): string {
    const { width, heads } = this.cfg;
    const d = width / heads;
    const g = this.g;
    // [N, T, width] -> [N, T, H, d]; 0 in a Reshape shape copies that input dim (batch, tokens).
    const split = (x: string) => g.op('Reshape', [x, g.int64([0, 0, heads, d])]);
    const qh = g.op('Mul', [g.op('Transpose', [split(q)], { perm: { ints: [0, 2, 1, 3] } }), g.scalar(1 / Math.sqrt(d))]); // [N, H, T, d]
    const kt = g.op('Transpose', [split(k)], { perm: { ints: [0, 2, 3, 1] } }); // [N, H, d, T]
    const vh = g.op('Transpose', [split(v)], { perm: { ints: [0, 2, 1, 3] } }); // [N, H, T, d]
    const p = g.op('Softmax', [g.op('MatMul', [qh, kt])], { axis: { i: -1 } }, `${name}_probs`); // [N, H, T, T]
    const ctx = g.op('Transpose', [g.op('MatMul', [p, vh])], { perm: { ints: [0, 2, 1, 3] } }); // [N, T, H, d]
    return g.op('Reshape', [ctx, g.int64([0, 0, width])], {}, `${name}_ctx`); // [N, T, width]
  }

  /** Whether projection `kind` of block `i` stays float32 in an int8 graph (Int8Options.float32*). */
  private keepFloat(kind: Int8LayerKind, i: number): boolean {
    const o = this.int8;
    if (!o) return true;
    return Boolean(o.float32?.includes(kind) || o.float32Blocks?.some((b) => (b < 0 ? this.cfg.depth + b : b) === i));
  }

  block(x: string, B: HostBlock, i: number, overrides: ProjectionOverrides | undefined): string {
    const g = this.g;
    const p = `blocks.${i}`;
    const proj = (name: ProjectionName): HostDense => overrides?.get(layerKey(i, name)) ?? B[name];
    const h = this.layerNorm(x, B.ln1, `${p}.ln1`);
    let ctx: string;
    if (!this.keepFloat('qkv', i))
      ctx = int8Attention(g, h, { q: proj('q'), k: proj('k'), v: proj('v') }, this.cfg.heads, `${p}.attn`, this.int8!);
    else {
      const [q, k, v] = this.qkv(h, proj('q'), proj('k'), proj('v'), `${p}.qkv`, true);
      ctx = this.attention(q, k, v, `${p}.attn`);
    }
    let o = this.dense(ctx, proj('o'), `${p}.o`, this.keepFloat('o', i));
    if (B.ls1) o = g.op('Mul', [o, g.weight(`${p}.ls1`, [this.cfg.width], B.ls1)]);
    const x1 = g.op('Add', [x, o], {}, `${p}.res1`);
    const f1 = this.dense(this.layerNorm(x1, B.ln2, `${p}.ln2`), B.fc1, `${p}.fc1`, this.keepFloat('fc1', i));
    let m = this.dense(this.activation(f1), B.fc2, `${p}.fc2`, this.keepFloat('fc2', i), true);
    if (B.ls2) m = g.op('Mul', [m, g.weight(`${p}.ls2`, [this.cfg.width], B.ls2)]);
    return g.op('Add', [x1, m], {}, `${p}.out`);
  }

  /** pixel_values [N, 3, S, S] -> tokens [N, T, width] (before ln_pre). */
  embedTokens(pixels: string, W: HostVitWeights): string {
    const g = this.g;
    const { width, patchSize: p } = this.cfg;
    // dense.w [3*p*p, width] is the conv weight [width, 3, p, p] transposed and flattened.
    const convW = g.weight('patch.w', [width, 3, p, p], () => transpose2d(readSource(W.patch.w), 3 * p * p, width));
    const convIn = W.patch.b ? [pixels, convW, g.weight('patch.b', [width], W.patch.b)] : [pixels, convW];
    const conv = g.op('Conv', convIn, { kernel_shape: { ints: [p, p] }, strides: { ints: [p, p] } }, 'patch_conv'); // [N, width, g, g]
    const patches = g.op('Transpose', [g.op('Reshape', [conv, g.int64([0, 0, -1])])], { perm: { ints: [0, 2, 1] } }, 'patches'); // [N, L, width]
    const n = g.op('Shape', [pixels], { start: { i: 0 }, end: { i: 1 } }, 'batch'); // [1] = N
    const clsShape = g.op('Concat', [n, g.int64([1, width])], { axis: { i: 0 } });
    const cls = g.op('Expand', [g.weight('cls', [1, 1, width], W.cls), clsShape], {}, 'cls'); // [N, 1, width]
    const pos = g.weight('pos', [W.posTokens, width], W.pos);
    if (W.posHasCls) return g.op('Add', [g.op('Concat', [cls, patches], { axis: { i: 1 } }), pos], {}, 'tokens');
    return g.op('Concat', [cls, g.op('Add', [patches, pos])], { axis: { i: 1 } }, 'tokens');
  }
}

/** The ONNX ModelProto of `W` (from hostWeightsOf) under `config`, ready to serialise. */
export function buildVitModel(config: EncoderConfig, W: HostVitWeights, opts: VitExportOptions = {}): ProtoMessage {
  if (W.blocks.length !== config.depth) throw new Error(`export: ${W.blocks.length} blocks but config.depth ${config.depth}`);
  const vg = new VitGraph(config, opts.int8);
  const g = vg.g;
  const S = config.imageSize;
  let x = vg.embedTokens(g.input(ONNX_INPUT, ['batch', 3, S, S]), W); // [N, T, width]
  if (W.lnPre) x = vg.layerNorm(x, W.lnPre, 'ln_pre');
  W.blocks.forEach((B, i) => {
    x = vg.block(x, B, i, opts.overrides);
  });
  const first = g.op('Gather', [x, g.int64([0], [])], { axis: { i: 1 } }, 'cls_token'); // [N, width]
  let emb = vg.layerNorm(first, W.lnPost, 'ln_post');
  // One row per image, not per token: int8 would save no time and add error to the embedding.
  if (W.proj) emb = vg.dense(emb, W.proj, 'proj', true);
  g.output(ONNX_OUTPUTS.embeddings, emb, ['batch', config.outputDim]);
  const head = opts.head;
  if (head) {
    if (head.inputDim !== config.outputDim)
      throw new Error(`export: head expects ${head.inputDim} inputs, encoder outputs ${config.outputDim}`);
    const logits = vg.dense(emb, { w: head.w, inDim: head.inputDim, outDim: head.numClasses, b: head.b }, 'head', true);
    g.output(ONNX_OUTPUTS.logits, logits, ['batch', head.numClasses]);
    g.output(ONNX_OUTPUTS.probabilities, g.op('Softmax', [logits], { axis: { i: -1 } }), ['batch', head.numClasses]);
  }
  return g.toModel({
    'cytotune.export_version': String(EXPORT_VERSION),
    'cytotune.family': config.family,
    'cytotune.config': JSON.stringify(config),
    'cytotune.lora_merged': String(opts.overrides?.size ?? 0),
    'cytotune.head_classes': String(head?.numClasses ?? 0),
    ...(opts.int8 ? { 'cytotune.precision': `int8 (weights +-${opts.int8.weightMax})` } : {}),
  });
}
