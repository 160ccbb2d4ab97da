// The few building blocks every ViT family shares, written only with ops that have gradients
// on the wasm backend: 2-D matMul, reshape, transpose (rank <= 5), batched matMul, softmax, slice,
// concat (attention's hand-written backward uses only these too).
// No conv, gather or einsum (wasm has no gradients for conv/gather).
import * as tf from '@tensorflow/tfjs-core';
import { blasMatMulInfo } from '../backend/blasMatMul';
import { installWasmKernelFixes } from '../backend/wasmKernels';
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

export type AttentionKernel = 'batched' | 'perHead';

/**
 * Multi-head scaled dot-product attention core, q/k/v: [N*T, width] (already projected)
 * -> context [N*T, width], heads concatenated in the same order as torch's view(N, T, H, d).
 * `kernel` picks the formulation (same values and gradients to float rounding, tested to 1e-5):
 * per head with 2-D matMuls on wasm with XNNPACK, where batched matMul runs ~15x slower than 2-D
 * (measured on a ViT-B block at batch 8: forward 0.86 s -> 0.12 s, forward+backward 1.8 s -> 0.28 s);
 * batched elsewhere: with BLAS matMuls on wasm (backend/blasMatMul.ts; ViT-B attention at batch 4,
 * forward+backward: batched 43 ms, per head 83 ms), native TensorFlow, WebGPU; cpu is even.
 * Per head also keeps less for the backward (only P), so memory-tight training forces it.
 */
export function attention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  n: number,
  tokens: number,
  heads: number,
  kernel: AttentionKernel = defaultAttentionKernel(),
): tf.Tensor2D {
  return kernel === 'perHead' ? attentionPerHead(q, k, v, n, tokens, heads) : attentionBatched(q, k, v, n, tokens, heads);
}

let forced: AttentionKernel | null = null;

/** Forces one formulation everywhere (benchmarks and tests compare them); 'auto' restores the default. */
export function setAttentionKernel(kernel: AttentionKernel | 'auto'): void {
  forced = kernel === 'auto' ? null : kernel;
}

/** Per head on wasm with XNNPACK matMuls; batched where batched matMul is fast (BLAS on wasm, native, WebGPU). */
export function defaultAttentionKernel(): AttentionKernel {
  return forced ?? (tf.getBackend() === 'wasm' && !blasMatMulInfo() ? 'perHead' : 'batched');
}

function attentionBatched(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, n: number, tokens: number, heads: number): tf.Tensor2D {
  return tf.tidy(() => {
    const width = q.shape[1];
    const d = width / heads;
    // [N*T, width] -> [N, T, H, d] -> [N, H, T, d] -> [N*H, T, d]
    const split = (x: tf.Tensor2D) =>
      tf.reshape(tf.transpose(tf.reshape(x, [n, tokens, heads, d]), [0, 2, 1, 3]), [n * heads, tokens, d]) as tf.Tensor3D;
    const qh = tf.mul(split(q), 1 / Math.sqrt(d)) as tf.Tensor3D;
    const scores = tf.matMul(qh, split(k), false, true); // [N*H, T, T]
    const ctx = tf.matMul(tf.softmax(scores), split(v)); // [N*H, T, d]
    return tf.reshape(tf.transpose(tf.reshape(ctx, [n, heads, tokens, d]), [0, 2, 1, 3]), [n * tokens, width]) as tf.Tensor2D;
  });
}

// Not re-exported by tfjs-core's index; the signature tf.customGrad expects.
type CustomGradientFunc<T extends tf.Tensor> = Parameters<typeof tf.customGrad<T>>[0];

/** [N*T, H*d] -> [N, T, H, d] -> transpose(perm) -> 2-D with the permuted last axis as columns. */
function headMajor(x: tf.Tensor2D, n: number, t: number, h: number, perm: number[]): tf.Tensor2D {
  const y = tf.transpose(tf.reshape(x, [n, t, h, x.shape[1] / h]), perm);
  return tf.reshape(y, [-1, y.shape[3] as number]) as tf.Tensor2D;
}

/** [N*H*T, d] (head-major) -> [N*T, H*d]. */
function tokenMajor(x: tf.Tensor2D, n: number, t: number, h: number): tf.Tensor2D {
  const d = x.shape[1];
  return tf.reshape(tf.transpose(tf.reshape(x, [n, h, t, d]), [0, 2, 1, 3]), [n * t, h * d]) as tf.Tensor2D;
}

/** Row-block i of a [count*aRows, ·] times row-block i of b [count*bRows, ·], stacked: count 2-D nn matMuls. */
function blockMatMul(a: tf.Tensor2D, aRows: number, b: tf.Tensor2D, bRows: number, count: number): tf.Tensor2D {
  const out: tf.Tensor2D[] = [];
  for (let i = 0; i < count; i++) {
    // Contiguous row blocks: with backend/wasmKernels.ts a slice copies only its own bytes.
    out.push(tf.matMul(tf.slice(a, [i * aRows, 0], [aRows, a.shape[1]]), tf.slice(b, [i * bRows, 0], [bRows, b.shape[1]])));
  }
  return tf.concat(out, 0);
}

/** [count*T, T] -> each [T, T] block transposed. */
function transposeBlocks(x: tf.Tensor2D, count: number, t: number): tf.Tensor2D {
  return tf.reshape(tf.transpose(tf.reshape(x, [count, t, t]), [0, 2, 1]), [count * t, t]) as tf.Tensor2D;
}

/**
 * Attention with N*H two-dimensional, non-transposed matMuls per product (the wasm fast path)
 * and a hand-written backward of the same kind. Only the probabilities P [N*H*T, T] are kept for
 * the backward (q, k, v are the tape's inputs anyway), and the backward's temporaries are freed
 * as soon as it returns, so it also holds less memory than autodiff of attentionBatched.
 *   S = (q / sqrt d) k^T, P = softmax(S), O = P v
 *   dv = P^T dO, dP = dO v^T, dS = P * (dP - rowsum(dP * P)), dq = dS k / sqrt d, dk = dS^T (q / sqrt d)
 */
function attentionPerHead(q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, n: number, t: number, h: number): tf.Tensor2D {
  if (tf.getBackend() === 'wasm') installWasmKernelFixes();
  const d = q.shape[1] / h;
  const scale = 1 / Math.sqrt(d);
  const nh = n * h;
  const f = tf.customGrad(((qi: tf.Tensor2D, ki: tf.Tensor2D, vi: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const qs = tf.mul(headMajor(qi, n, t, h, [0, 2, 1, 3]), scale) as tf.Tensor2D; // [NH*T, d]
    const kT = headMajor(ki, n, t, h, [0, 2, 3, 1]); // [NH*d, T]
    const vh = headMajor(vi, n, t, h, [0, 2, 1, 3]); // [NH*T, d]
    const p = tf.softmax(blockMatMul(qs, t, kT, d, nh)); // [NH*T, T]
    save([qi, ki, vi, p]);
    return {
      value: tokenMajor(blockMatMul(p, t, vh, t, nh), n, t, h),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [qq, kk, vv, pp] = saved as tf.Tensor2D[];
          const dO = headMajor(dy, n, t, h, [0, 2, 1, 3]); // [NH*T, d]
          const dV = blockMatMul(transposeBlocks(pp, nh, t), t, dO, t, nh); // P^T dO
          const dP = blockMatMul(dO, t, headMajor(vv, n, t, h, [0, 2, 3, 1]), d, nh); // dO v^T, [NH*T, T]
          const dS = tf.mul(pp, tf.sub(dP, tf.sum(tf.mul(dP, pp), -1, true))) as tf.Tensor2D;
          const dQ = tf.mul(blockMatMul(dS, t, headMajor(kk, n, t, h, [0, 2, 1, 3]), t, nh), scale) as tf.Tensor2D;
          const qsh = tf.mul(headMajor(qq, n, t, h, [0, 2, 1, 3]), scale) as tf.Tensor2D;
          const dK = blockMatMul(transposeBlocks(dS, nh, t), t, qsh, t, nh);
          return [tokenMajor(dQ, n, t, h), tokenMajor(dK, n, t, h), tokenMajor(dV, n, t, h)];
        }),
    };
  }) as unknown as CustomGradientFunc<tf.Tensor2D>);
  return (f as unknown as (a: tf.Tensor2D, b: tf.Tensor2D, c: tf.Tensor2D) => tf.Tensor2D)(q, k, v);
}
