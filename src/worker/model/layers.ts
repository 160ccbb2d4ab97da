// The few building blocks every ViT family shares, written only with ops that have gradients
// on the wasm backend: 2-D matMul, reshape, transpose (rank <= 5), batched matMul, softmax.
// No conv, gather or einsum (wasm has no gradients for conv/gather).
import * as tf from '@tensorflow/tfjs-core';
import type { Dense } from './encoder';

export interface LayerNormWeights {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  eps: number;
}

/** LayerNorm over the last axis (biased variance, as torch.nn.LayerNorm). x: [..., width]. */
export function layerNorm<T extends tf.Tensor>(x: T, ln: LayerNormWeights): T {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const xc = tf.sub(x, mean);
    const variance = tf.mean(tf.square(xc), -1, true);
    return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, ln.eps))), ln.gamma), ln.beta) as T;
  });
}

/** Exact GELU: 0.5 x (1 + erf(x / sqrt 2)) (torch.nn.GELU(), HF 'gelu'). */
export function geluErf<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T);
}

/** QuickGELU: x * sigmoid(1.702 x) (OpenAI CLIP). */
export function quickGelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))) as T);
}

/**
 * Non-overlapping patch embedding as reshape + matMul, equal to Conv2d(3, width, p, stride p).
 * images: [N, 3, H, W] -> [N * (H/p) * (W/p), width]; patches in row-major grid order, each
 * flattened as (channel, ky, kx) like the conv weight [width, 3, p, p] -> dense.w [3*p*p, width].
 */
export function patchEmbed(images: tf.Tensor4D, patch: number, proj: Dense): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, c, h, w] = images.shape;
    const gh = h / patch;
    const gw = w / patch;
    // [N*C, gh, p, gw, p] -> [N*C, gh, gw, p, p]   (rank 5: what every backend transposes)
    const a = tf.transpose(tf.reshape(images, [n * c, gh, patch, gw, patch]), [0, 1, 3, 2, 4]);
    // [N, C, L, p*p] -> [N, L, C, p*p] -> [N*L, C*p*p]
    const b = tf.transpose(tf.reshape(a, [n, c, gh * gw, patch * patch]), [0, 2, 1, 3]);
    const flat = tf.reshape(b, [n * gh * gw, c * patch * patch]) as tf.Tensor2D;
    const y = tf.matMul<tf.Tensor2D>(flat, proj.w);
    return proj.b ? tf.add<tf.Tensor2D>(y, proj.b) : y;
  });
}

/**
 * Multi-head scaled dot-product attention core, q/k/v: [N*T, width] (already projected)
 * -> context [N*T, width], heads concatenated in the same order as torch's view(N, T, H, d).
 */
export function attention(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, n: number, tokens: number, heads: number): tf.Tensor2D {
  return tf.tidy(() => {
    const width = q.shape[1];
    const d = width / heads;
    // [N*T, width] -> [N, T, H, d] -> [N, H, T, d] -> [N*H, T, d]
    const split = (x: tf.Tensor2D) => tf.reshape(tf.transpose(tf.reshape(x, [n, tokens, heads, d]), [0, 2, 1, 3]), [n * heads, tokens, d]) as tf.Tensor3D;
    const qh = tf.mul(split(q), 1 / Math.sqrt(d)) as tf.Tensor3D;
    const scores = tf.matMul(qh, split(k), false, true); // [N*H, T, T]
    const ctx = tf.matMul(tf.softmax(scores), split(v)); // [N*H, T, d]
    return tf.reshape(tf.transpose(tf.reshape(ctx, [n, heads, tokens, d]), [0, 2, 1, 3]), [n * tokens, width]) as tf.Tensor2D;
  });
}
