// Backend selection on this machine (native packages absent -> wasm), forced choices, and the
// native success/failure paths through an injected importer: that boundary is faked because
// @tensorflow/tfjs-node(-gpu) cannot be installed offline.
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { selectBackend, wasmFeatures } from '../../../../src/ml/backend/selectBackend';
import { runDoctor } from '../../../../src/cli/commands/doctor';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

describe('selectBackend', () => {
  it('here: both native packages missing -> wasm with SIMD, and says why the others were not chosen', async () => {
    const c = await selectBackend();
    expect(c.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(c.attempts.map((a) => [a.candidate, a.ok])).toEqual([
      ['tensorflow-gpu', false],
      ['webgpu', false],
      ['tensorflow', false],
      ['wasm', true],
    ]);
    expect(c.attempts[0].reason).toMatch(/tfjs-node-gpu is not installed.*CUDA 11\.2 and cuDNN 8\.1/);
    expect(c.attempts[1].reason).toMatch(/Dawn found no GPU adapter/); // details in webgpu-select.test.ts
    expect(c.attempts[2].reason).toMatch(/tfjs-node is not installed/);
    expect(c.versions['tfjs-core']).toBe('4.22.0');
    expect(await wasmFeatures()).toEqual({ simd: true, threads: false });
    expect(tf.tidy(() => tf.sum(tf.matMul(tf.ones([8, 8]), tf.ones([8, 8]))).dataSync()[0])).toBe(512);
  });

  it('only: cpu skips the others with a reason', async () => {
    const c = await selectBackend({ only: 'cpu' });
    expect(c.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(c.attempts.filter((a) => !a.ok).every((a) => /skipped/.test(a.reason!))).toBe(true);
  });

  it('a native package that fails to load (faked importer: missing CUDA libraries) falls through with its error', async () => {
    const c = await selectBackend({
      importer: async (s) => {
        if (s.endsWith('-gpu')) throw new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory\nstack...');
        throw Object.assign(new Error(`Cannot find package '${s}'`), { code: 'ERR_MODULE_NOT_FOUND' });
      },
    });
    expect(c.backend).toBe('wasm');
    expect(c.attempts[0].reason).toBe(
      '@tensorflow/tfjs-node-gpu failed to load: libcudart.so.11.0: cannot open shared object file: No such file or directory',
    );
  });

  it('an installed tfjs-node-gpu is preferred (faked importer registering a "tensorflow" backend)', async () => {
    const c = await selectBackend({
      importer: async () => {
        if (!tf.findBackendFactory('tensorflow')) tf.registerBackend('tensorflow', () => new MathBackendCPU());
        return { version: { 'tfjs-node': '4.22.0' } };
      },
    });
    expect(c).toMatchObject({ backend: 'tensorflow', candidate: 'tensorflow-gpu', gpu: true });
    expect(c.versions['tfjs-node']).toBe('4.22.0');
    expect(tf.getBackend()).toBe('tensorflow');
    tf.removeBackend('tensorflow');
  });
});

describe('cytotune doctor', () => {
  it('prints the chosen backend, why others were not chosen, versions and the CUDA requirement', async () => {
    const { io, out } = capture();
    const code = await runDoctor([], io, {
      probe: () => ({ gpus: [], driver: null, cudart11: false, cudnn8: false, notes: ['nvidia-smi not found'] }),
    });
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^backend: wasm - WebAssembly \(SIMD on; threads off/m);
    expect(text).toMatch(/tensorflow-gpu \(@tensorflow\/tfjs-node-gpu\): .*not installed/);
    expect(text).toMatch(/versions: node .*tfjs-core 4\.22\.0/);
    expect(text).toMatch(/GPU: none detected/);
    expect(text).toMatch(/CUDA 11\.2 and cuDNN 8\.1.*libcudart\.so\.11\.0 not found/);
    expect(text).toMatch(/self-test: ok/);
  });

  it('names the GPU when one is visible (probe faked: no GPU on this machine)', async () => {
    const { io, out } = capture();
    await runDoctor(['--backend', 'cpu'], io, {
      probe: () => ({ gpus: ['NVIDIA RTX A4000, 16376 MiB'], driver: '535.104', cudart11: true, cudnn8: false, notes: [] }),
    });
    const text = out.join('\n');
    expect(text).toMatch(/^backend: cpu/m);
    expect(text).toMatch(/GPU: NVIDIA RTX A4000, 16376 MiB \(driver 535\.104\)/);
    expect(text).toMatch(/libcudart\.so\.11\.0 found, libcudnn\.so\.8 not found/);
  });

  it('--json is machine-readable; bad options exit 2 with a one-line reason', async () => {
    const a = capture();
    expect(await runDoctor(['--json'], a.io)).toBe(0);
    const j = JSON.parse(a.out.join('\n'));
    expect(j.backend).toBe('wasm');
    expect(j.selfTest.ok).toBe(true);
    const b = capture();
    expect(await runDoctor(['--backend', 'metal'], b.io)).toBe(2);
    expect(b.err).toHaveLength(1);
    expect(b.err[0]).toMatch(/--backend must be/);
  });
});
