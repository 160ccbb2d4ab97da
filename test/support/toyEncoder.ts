// A tiny ViT that implements the Encoder contract with real q,k,v,o projections going
// through the hook (patch embedding as reshape + matMul, attention from matMul/transpose).
// Test-only stand-in for the real families (src/worker/model), used to test LoRA and training.
import * as tf from '@tensorflow/tfjs-core';
import { applyDense } from '../../src/ml/models/dense';
import type { Dense, Encoder, EncoderConfig, ProjectionHook } from '../../src/ml/models/encoder';
import { hashSeed, Rng } from '../../src/ml/random';
import type { ProjectionName } from '../../src/shared/training';

interface Block {
  ln1: { g: tf.Tensor1D; b: tf.Tensor1D };
  ln2: { g: tf.Tensor1D; b: tf.Tensor1D };
  proj: Record<ProjectionName, Dense>;
  fc1: Dense;
  fc2: Dense;
}

export interface ToyOptions {
  imageSize?: number;
  patchSize?: number;
  width?: number;
  depth?: number;
  heads?: number;
  outputDim?: number;
  seed?: number;
}

/** The Encoder plus access to its frozen tensors (so tests can check they never change). */
export type ToyEncoder = Encoder & { frozenTensors(): tf.Tensor[] };

export function createToyEncoder(opts: ToyOptions = {}): ToyEncoder {
  const imageSize = opts.imageSize ?? 8;
  const patchSize = opts.patchSize ?? 4;
  const width = opts.width ?? 16;
  const depth = opts.depth ?? 2;
  const heads = opts.heads ?? 2;
  const outputDim = opts.outputDim ?? 12;
  const seed = opts.seed ?? 1;
  const mlpDim = width * 2;
  const config: EncoderConfig = {
    family: 'openai-clip',
    imageSize,
    patchSize,
    width,
    depth,
    heads,
    headsSource: 'option',
    mlpDim,
    outputDim,
    layerNormEps: 1e-5,
    activation: 'quick_gelu',
    mean: [0.48145466, 0.4578275, 0.40821073],
    std: [0.26862954, 0.26130258, 0.27577711],
  };
  let k = 0;
  const uni = (shape: number[], bound: number) => {
    const rng = new Rng(hashSeed(seed, 'toy', k++));
    return tf.tensor(
      rng.uniformArray(
        shape.reduce((a, b) => a * b, 1),
        -bound,
        bound,
      ),
      shape,
    );
  };
  const dense = (i: number, o: number, bias = true): Dense => ({
    w: uni([i, o], 1 / Math.sqrt(i)) as tf.Tensor2D,
    b: bias ? (uni([o], 0.1) as tf.Tensor1D) : null,
  });
  const ln = () => ({ g: tf.add(1, uni([width], 0.1)) as tf.Tensor1D, b: uni([width], 0.1) as tf.Tensor1D });
  const grid = imageSize / patchSize;
  const tokens = grid * grid + 1;
  const patch = dense(3 * patchSize * patchSize, width, false);
  const cls = uni([1, 1, width], 0.5);
  const pos = uni([tokens, width], 0.5);
  const lnPre = ln();
  const lnPost = ln();
  const proj = dense(width, outputDim, false);
  const blocks: Block[] = Array.from({ length: depth }, () => ({
    ln1: ln(),
    ln2: ln(),
    proj: { q: dense(width, width), k: dense(width, width), v: dense(width, width), o: dense(width, width) },
    fc1: dense(width, mlpDim),
    fc2: dense(mlpDim, width),
  }));
  const all: tf.Tensor[] = [patch.w, cls, pos, lnPre.g, lnPre.b, lnPost.g, lnPost.b, proj.w];
  for (const b of blocks) {
    all.push(b.ln1.g, b.ln1.b, b.ln2.g, b.ln2.b, b.fc1.w, b.fc1.b!, b.fc2.w, b.fc2.b!);
    for (const d of Object.values(b.proj)) all.push(d.w, d.b!);
  }

  const layerNorm = (x: tf.Tensor2D, p: { g: tf.Tensor1D; b: tf.Tensor1D }) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), p.g), p.b) as tf.Tensor2D;
  };
  const defaultHook: ProjectionHook = (_b, _n, x, base) => applyDense(x, base);

  function embed(images: tf.Tensor4D, hook: ProjectionHook = defaultHook): tf.Tensor2D {
    return tf.tidy(() => {
      const n = images.shape[0];
      const p = patchSize;
      // [N,3,H,W] -> [N,3,g,p,g,p] -> [N,g,g,3,p,p] -> [N*g*g, 3*p*p] @ [3pp, width]
      const patches = tf.reshape(tf.transpose(tf.reshape(images, [n, 3, grid, p, grid, p]), [0, 2, 4, 1, 3, 5]), [
        n * grid * grid,
        3 * p * p,
      ]);
      const emb = tf.reshape(tf.matMul(patches, patch.w), [n, grid * grid, width]);
      let x = tf.reshape(tf.add(tf.concat([tf.tile(cls, [n, 1, 1]), emb], 1), pos), [n * tokens, width]) as tf.Tensor2D;
      x = layerNorm(x, lnPre);
      const hd = width / heads;
      blocks.forEach((blk, bi) => {
        const h = layerNorm(x, blk.ln1);
        const split = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [n, tokens, heads, hd]), [0, 2, 1, 3]);
        const q = split(hook(bi, 'q', h, blk.proj.q));
        const kk = split(hook(bi, 'k', h, blk.proj.k));
        const v = split(hook(bi, 'v', h, blk.proj.v));
        const att = tf.softmax(tf.mul(tf.matMul(q, kk, false, true), 1 / Math.sqrt(hd)));
        const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [n * tokens, width]) as tf.Tensor2D;
        x = tf.add(x, hook(bi, 'o', ctx, blk.proj.o));
        const m = applyDense(layerNorm(x, blk.ln2), blk.fc1);
        x = tf.add(x, applyDense(tf.mul(m, tf.sigmoid(tf.mul(m, 1.702))) as tf.Tensor2D, blk.fc2));
      });
      const clsOut = tf.reshape(tf.slice(tf.reshape(x, [n, tokens, width]), [0, 0, 0], [n, 1, width]), [n, width]) as tf.Tensor2D;
      return tf.matMul(layerNorm(clsOut, lnPost), proj.w);
    });
  }

  return {
    config,
    embed,
    parameterCount: () => all.reduce((a, t) => a + t.size, 0),
    dispose: () => all.forEach((t) => t.dispose()),
    frozenTensors: () => all,
  };
}
