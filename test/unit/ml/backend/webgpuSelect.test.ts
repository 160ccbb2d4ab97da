// WebGPU (Dawn + tfjs-backend-webgpu) as an optional backend: here the real packages are installed
// but Dawn finds no adapter, so selection must fall back to wasm with that reason. The success
// and later-failure paths run through an injected adapter probe and importer (the boundary that
// needs a GPU, absent here): the fake backend is tfjs's cpu backend registered as 'webgpu'.
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, selectBackend, type SelectOptions } from '../../../../src/ml/backend/selectBackend';
import { probeAdapterInChild, type AdapterProbe } from '../../../../src/ml/backend/webgpu';
import { runDoctor } from '../../../../src/cli/commands/doctor';

const RTX = { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA RTX A4000' };
const noCuda = () => ({ gpus: [], driver: null, cudart11: false, cudnn8: false, notes: [] });

/** Importer for a machine with a working GPU: Dawn's module, and a tfjs backend package that registers 'webgpu'. */
function gpuImporter(opts: { initFails?: boolean; wrongMatMul?: boolean } = {}): SelectOptions['importer'] {
  return async (spec) => {
    if (spec === 'webgpu') return { create: () => ({ fake: 'GPU' }), globals: { GPUBufferUsage: { MAP_READ: 1 } } };
    if (spec === '@tensorflow/tfjs-backend-webgpu') {
      tf.registerBackend('webgpu', () => {
        if (opts.initFails) throw new Error('requestDevice failed: device lost');
        return new MathBackendCPU();
      });
      for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'webgpu' });
      if (opts.wrongMatMul) {
        tf.unregisterKernel('BatchMatMul', 'webgpu');
        tf.registerKernel({
          kernelName: 'BatchMatMul',
          backendName: 'webgpu',
          kernelFunc: ({ backend }) => (backend as MathBackendCPU).makeTensorInfo([2, 2], 'float32', new Float32Array(4)),
        });
      }
      return {};
    }
    throw Object.assign(new Error(`Cannot find package '${spec}'`), { code: 'ERR_MODULE_NOT_FOUND' });
  };
}
const adapter =
  (a: AdapterProbe['adapter'], messages: string[] = []) =>
  async (): Promise<AdapterProbe> => ({ installed: true, adapter: a, messages });

afterEach(() => {
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  for (const k of tf.getKernelsForBackend('webgpu')) tf.unregisterKernel(k.kernelName, 'webgpu');
  delete (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
});

describe('WebGPU on this machine (real webgpu@0.6.2, no GPU)', () => {
  it('the child-process probe finds the package but no adapter, and says why (no Vulkan loader / driver)', async () => {
    const p = await probeAdapterInChild();
    expect(p.installed).toBe(true);
    expect(p.adapter).toBeNull();
    expect(p.messages.join(' ')).toMatch(/Vulkan|adapter/i);
  });

  it('selection falls back to wasm with the reason; Dawn is never loaded into this process', async () => {
    const c = await selectBackend();
    expect(c.backend).toBe('wasm');
    const w = c.attempts.find((a) => a.candidate === 'webgpu')!;
    expect(w.ok).toBe(false);
    expect(w.reason).toMatch(
      /^Dawn found no GPU adapter \(.*\); WebGPU needs a GPU driver with Vulkan \(Linux\), Metal \(macOS\) or D3D12 \(Windows\)$/,
    );
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    expect(tf.findBackendFactory('webgpu')).toBeFalsy();
  });

  it('--backend webgpu forced where no adapter exists fails with the reason, never falls back to cpu', async () => {
    const err = await selectBackend({ only: 'webgpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/^--backend webgpu was asked for but cannot start here \(webgpu: Dawn found no GPU adapter/);
    expect(tf.getBackend()).not.toBe('cpu');
  });
});

describe('WebGPU selection logic (adapter probe and packages injected: no GPU here)', () => {
  it('an adapter plus a backend that initialises and computes: chosen before native CPU TensorFlow and wasm', async () => {
    const c = await selectBackend({ importer: gpuImporter(), probeWebGpuAdapter: adapter(RTX) });
    expect(c).toMatchObject({ backend: 'webgpu', candidate: 'webgpu', gpu: true, adapter: RTX });
    expect(tf.getBackend()).toBe('webgpu');
    expect(c.attempts.map((a) => [a.candidate, a.ok])).toEqual([
      ['tensorflow-gpu', false],
      ['webgpu', true],
    ]);
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toEqual({ fake: 'GPU' });
  });

  it('`cytotune doctor` names the adapter and says why WebGPU was chosen', async () => {
    const out: string[] = [];
    const code = await runDoctor(
      [],
      { out: (s) => void out.push(s), err: () => {} },
      { select: { importer: gpuImporter(), probeWebGpuAdapter: adapter(RTX) }, probe: noCuda },
    );
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(
      /^backend: webgpu - WebGPU on NVIDIA RTX A4000, vendor nvidia, ampere \(Dawn, @tensorflow\/tfjs-backend-webgpu\)$/m,
    );
    expect(text).toMatch(/^why: first of tensorflow-gpu, webgpu, tensorflow, wasm, cpu that initialised; tensorflow-gpu did not/m);
  });

  it.each([
    [
      'the package is missing',
      { installed: false, adapter: null, messages: [] },
      {},
      /^webgpu is not installed \(optional: npm install -E webgpu@0\.6\.2/,
    ],
    [
      'Dawn finds no adapter',
      { installed: true, adapter: null, messages: ['Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.'] },
      {},
      /^Dawn found no GPU adapter \(Warning: Vulkan shaderUniform/,
    ],
    [
      'the device cannot be created',
      { installed: true, adapter: RTX, messages: [] },
      { initFails: true },
      /^tfjs could not start WebGPU on NVIDIA RTX A4000.*: .*requestDevice failed: device lost/,
    ],
    [
      'it computes a wrong result',
      { installed: true, adapter: RTX, messages: [] },
      { wrongMatMul: true },
      /failed its test matMul \(0,0,0,0\)/,
    ],
  ] as const)(
    'falls back to wasm when %s, with that reason, and unregisters the half-started backend',
    async (_name, probe, fake, reason) => {
      const c = await selectBackend({ importer: gpuImporter(fake), probeWebGpuAdapter: async () => probe as unknown as AdapterProbe });
      expect(c.backend).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(c.attempts.find((a) => a.candidate === 'webgpu')?.reason).toMatch(reason);
      expect(tf.findBackendFactory('webgpu')).toBeFalsy();
    },
  );

  it('--backend webgpu / CYTOTUNE_WEBGPU=off: skipped or disabled with a reason', async () => {
    const only = await selectBackend({ only: 'wasm', probeWebGpuAdapter: adapter(RTX), importer: gpuImporter() });
    expect(only.attempts.find((a) => a.candidate === 'webgpu')?.reason).toMatch(/skipped: only 'wasm'/);
    process.env.CYTOTUNE_WEBGPU = 'off';
    try {
      const off = await selectBackend({ probeWebGpuAdapter: adapter(RTX), importer: gpuImporter() });
      expect(off.backend).toBe('wasm');
      expect(off.attempts.find((a) => a.candidate === 'webgpu')?.reason).toBe('disabled by CYTOTUNE_WEBGPU=off');
    } finally {
      delete process.env.CYTOTUNE_WEBGPU;
    }
  });
});
