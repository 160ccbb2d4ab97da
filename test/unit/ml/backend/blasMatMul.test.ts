// tfjs-wasm's BatchMatMul through the system BLAS (Debian libopenblas0 here, via koffi on the
// wasm heap): every layout the model and autodiff produce equals the cpu backend's result to
// float rounding, and gradients through a whole encoder equal the cpu backend's.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { blasMatMulInfo, installBlasMatMul, loadBlas, openBlasCoreFor } from '../../../../src/ml/backend/blasMatMul';
import { ensureGradients } from '../../../../src/ml/backend/gradients';
import { defaultAttentionKernel } from '../../../../src/ml/models/layers';
import { createRandomEncoder } from '../../../../src/ml/models/randomEncoder';
import { useBackend } from '../../../support/tfBackend';

const CASES: [string, number[], number[], boolean, boolean][] = [
  ['2-D nn', [5, 7], [7, 3], false, false],
  ['2-D nt (autodiff dx)', [5, 7], [3, 7], false, true],
  ['2-D tn (autodiff dW)', [7, 5], [7, 3], true, false],
  ['2-D tt', [7, 5], [3, 7], true, true],
  ['batched nt (attention scores)', [4, 6, 8], [4, 6, 8], false, true],
  ['batched, b broadcast', [3, 6, 8], [8, 5], false, false],
  ['batched tn, b broadcast', [3, 8, 6], [1, 8, 5], true, false],
  ['a broadcast', [6, 8], [3, 8, 5], false, false],
  ['rank 4', [2, 3, 4, 5], [2, 3, 5, 6], false, false],
  ['empty rows', [0, 4], [4, 3], false, false],
  ['inner size 0', [2, 0], [0, 3], false, false],
];

async function products(): Promise<number[][]> {
  return CASES.map(([, sa, sb, ta, tb], i) =>
    tf.tidy(() => {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 10 + i);
      const b = tf.randomNormal(sb, 0, 1, 'float32', 50 + i);
      return Array.from(tf.matMul(a, b, ta, tb).dataSync());
    }),
  );
}

beforeAll(async () => {
  await ensureGradients();
});

describe('BLAS matMul for tfjs-wasm', () => {
  it('picks OpenBLAS kernels from the CPU flags (Debian 0.3.21 falls back to SSE3 "Prescott" on CPUs it does not know)', () => {
    expect(openBlasCoreFor('fpu sse2 avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl')).toBe('SkylakeX');
    expect(openBlasCoreFor('fpu sse2 avx avx2 fma avx512f')).toBe('Haswell'); // AVX-512 without BW/DQ/VL
    expect(openBlasCoreFor('fpu sse2 sse4_2 avx')).toBeNull();
  });

  it('is found here (libopenblas0) and can be turned off with CYTOTUNE_BLAS=off', async () => {
    const blas = await loadBlas({});
    expect('sgemm' in blas && blas.info.library).toMatch(/openblas/);
    expect(await loadBlas({ CYTOTUNE_BLAS: 'off' })).toEqual({ reason: 'disabled by CYTOTUNE_BLAS=off' });
    expect(await loadBlas({ CYTOTUNE_BLAS_LIBRARY: 'libnothing-here.so' })).toMatchObject({
      reason: expect.stringMatching(/no optimised BLAS library found \(libnothing-here\.so: .*apt-get install libopenblas0/),
    });
  });

  it("gives the cpu backend's products for every transpose/batch/broadcast layout (1e-5 relative)", async () => {
    await useBackend('cpu');
    const expected = await products();
    await useBackend('wasm');
    const r = await installBlasMatMul(1);
    expect(r).toMatchObject({ ok: true, info: { threads: 1 } });
    expect(blasMatMulInfo()?.library).toMatch(/openblas/);
    expect(defaultAttentionKernel()).toBe('batched'); // batched matMul is fast with BLAS
    const got = await products();
    got.forEach((g, i) => {
      expect(g.length, CASES[i][0]).toBe(expected[i].length);
      const scale = Math.max(1, ...expected[i].map(Math.abs));
      g.forEach((v, j) => expect(Math.abs(v - expected[i][j]) / scale, CASES[i][0]).toBeLessThan(1e-5));
    });
  });

  it("a whole encoder: embeddings and input gradients through BLAS equal the cpu backend's", async () => {
    const run = () => {
      const enc = createRandomEncoder({ family: 'hf-vit', imageSize: 24, patchSize: 8, width: 24, depth: 2, heads: 3 }, 2);
      const x = tf.randomNormal([2, 3, 24, 24], 0, 1, 'float32', 4) as tf.Tensor4D;
      const out = tf.tidy(() => {
        const { grads } = tf.valueAndGrads((img: tf.Tensor) => tf.sum(tf.square(enc.embed(img as tf.Tensor4D))) as tf.Scalar)([x]);
        return [Array.from(enc.embed(x).dataSync()), Array.from(grads[0].dataSync())];
      });
      x.dispose();
      enc.dispose();
      return out;
    };
    const blas = run();
    // The cpu backend is the reference here too (the stock wasm kernel is replaced in this process).
    await useBackend('cpu');
    const ref = run();
    await useBackend('wasm');
    ref.forEach((r, i) => {
      const scale = Math.max(...r.map(Math.abs));
      r.forEach((v, j) => expect(Math.abs(v - blas[i][j]) / scale).toBeLessThan(1e-5));
    });
  });
});
