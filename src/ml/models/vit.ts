// One pre-norm vision transformer that all five families load into. The families differ only
// in tensor names, LayerNorm eps, activation, LayerScale, the pre-norm (CLIP's ln_pre) and the
// final projection; those are data here, so there is a single forward pass to keep correct.
import * as tf from '@tensorflow/tfjs-core';
import { frozenDense, prepareTransposed, releaseTransposed } from './frozenDense';
import type { Dense, Encoder, EncoderConfig, ProjectionHook } from './encoder';
import { attention, geluErf, layerNorm, patchEmbed, quickGelu, type LayerNormWeights } from './layers';
import type { ProjectionName } from '../../shared/training';

export interface BlockWeights {
  ln1: LayerNormWeights;
  /** q, k, v, o as separate Dense (packed qkv split by rows at load time), w: [width, width]. */
  q: Dense;
  k: Dense;
  v: Dense;
  o: Dense;
  ln2: LayerNormWeights;
  fc1: Dense; // [width, mlpDim]
  fc2: Dense; // [mlpDim, width]
  /** timm LayerScale (UNI): residual branches multiplied by gamma [width]. */
  ls1: tf.Tensor1D | null;
  ls2: tf.Tensor1D | null;
}

export interface VitWeights {
  patch: Dense; // w: [3*p*p, width]
  cls: tf.Tensor1D; // [width]
  /** [tokens, width]; when `posHasCls` is false (timm no_embed_class) it has no CLS row. */
  pos: tf.Tensor2D;
  posHasCls: boolean;
  lnPre: LayerNormWeights | null; // CLIP's ln_pre / pre_layrnorm
  blocks: BlockWeights[];
  lnPost: LayerNormWeights; // final norm, applied to the CLS token
  proj: tf.Tensor2D | null; // [width, outputDim], no bias (CLIP families)
}

// Same values and gradients as applyDense (the contract's default); faster backward once
// prepareForTraining() has run.
const defaultHook: ProjectionHook = (_block, _name, x, base) => frozenDense(x, base);

export class VitEncoder implements Encoder {
  constructor(
    readonly config: EncoderConfig,
    private readonly weights: VitWeights,
  ) {}

  /** The frozen projection `name` of block `block` (what the hook receives as `base`), e.g. to merge LoRA. */
  baseProjection(block: number, name: ProjectionName): Dense {
    return this.weights.blocks[block][name];
  }

  /**
   * images [N, 3, S, S] normalised -> [N, outputDim]. `_training` is accepted for the contract:
   * these encoders have no dropout of their own (pretrained ViTs run with drop rate 0); a LoRA hook
   * applies its branch dropout from its own closure.
   */
  embed(images: tf.Tensor4D, hook: ProjectionHook = defaultHook, _training = false): tf.Tensor2D {
    const { imageSize, patchSize, width } = this.config;
    const [n, c, h, w] = images.shape;
    if (c !== 3 || h !== imageSize || w !== imageSize) {
      throw new Error(`${this.config.family} encoder expects images [N, 3, ${imageSize}, ${imageSize}], got [${images.shape}]`);
    }
    const W = this.weights;
    const grid = imageSize / patchSize;
    const tokens = grid * grid + 1;
    return tf.tidy(() => {
      const patches = tf.reshape(patchEmbed(images, patchSize, W.patch), [n, grid * grid, width]);
      const cls = tf.broadcastTo(tf.reshape(W.cls, [1, 1, width]), [n, 1, width]);
      let x: tf.Tensor3D;
      if (W.posHasCls) {
        x = tf.add<tf.Tensor3D>(tf.concat([cls, patches], 1), W.pos);
      } else {
        x = tf.concat([cls, tf.add<tf.Tensor3D>(patches, W.pos)], 1) as tf.Tensor3D;
      }
      if (W.lnPre) x = layerNorm(x, W.lnPre);
      for (let b = 0; b < W.blocks.length; b++) {
        const prev = x;
        x = tf.tidy(() => this.block(b, prev, n, tokens, hook));
        // Free each block's input as we go (ViT-L inference must stay under wasm's 4 GiB heap);
        // under a gradient tape tfjs keeps its own references to what the backward needs.
        prev.dispose();
      }
      const first = tf.reshape(tf.slice(x, [0, 0, 0], [n, 1, width]), [n, width]) as tf.Tensor2D;
      const pooled = layerNorm(first, W.lnPost);
      return W.proj ? tf.matMul(pooled, W.proj) : pooled;
    });
  }

  /** x: [N, T, width] -> [N, T, width]. */
  private block(b: number, x: tf.Tensor3D, n: number, tokens: number, hook: ProjectionHook): tf.Tensor3D {
    const B = this.weights.blocks[b];
    const width = this.config.width;
    const act = this.config.activation === 'quick_gelu' ? quickGelu : geluErf;
    const h = tf.reshape(layerNorm(x, B.ln1), [n * tokens, width]) as tf.Tensor2D;
    const ctx = attention(hook(b, 'q', h, B.q), hook(b, 'k', h, B.k), hook(b, 'v', h, B.v), n, tokens, this.config.heads);
    let o = hook(b, 'o', ctx, B.o);
    if (B.ls1) o = tf.mul(o, B.ls1);
    const x1 = tf.add(x, tf.reshape(o, [n, tokens, width])) as tf.Tensor3D;
    const h2 = tf.reshape(layerNorm(x1, B.ln2), [n * tokens, width]) as tf.Tensor2D;
    let m = frozenDense(act(frozenDense(h2, B.fc1)), B.fc2);
    if (B.ls2) m = tf.mul(m, B.ls2);
    return tf.add(x1, tf.reshape(m, [n, tokens, width]));
  }

  /** Every frozen dense layer whose input gradient a LoRA backward needs (not the patch embedding). */
  private backwardDenses(): Dense[] {
    return this.weights.blocks.flatMap((B) => [B.q, B.k, B.v, B.o, B.fc1, B.fc2]);
  }

  /**
   * Before training: keeps a transposed copy of each frozen block weight (+1x the block weights'
   * memory) so backward passes through frozenDense use fast 2-D matMuls on wasm. Optional;
   * without it gradients are the same, only slower. Undone by releaseTrainingBuffers / dispose.
   */
  prepareForTraining(): void {
    for (const d of this.backwardDenses()) prepareTransposed(d);
  }

  releaseTrainingBuffers(): void {
    for (const d of this.backwardDenses()) releaseTransposed(d);
  }

  parameterCount(): number {
    return allTensors(this.weights).reduce((s, t) => s + t.size, 0);
  }

  dispose(): void {
    this.releaseTrainingBuffers();
    for (const t of allTensors(this.weights)) t.dispose();
  }
}

function allTensors(W: VitWeights): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  const dense = (d: Dense) => (out.push(d.w), d.b && out.push(d.b));
  const ln = (l: LayerNormWeights | null) => l && out.push(l.gamma, l.beta);
  dense(W.patch);
  out.push(W.cls, W.pos);
  ln(W.lnPre);
  for (const B of W.blocks) {
    ln(B.ln1);
    ln(B.ln2);
    [B.q, B.k, B.v, B.o, B.fc1, B.fc2].forEach(dense);
    if (B.ls1) out.push(B.ls1);
    if (B.ls2) out.push(B.ls2);
  }
  ln(W.lnPost);
  if (W.proj) out.push(W.proj);
  return out;
}
