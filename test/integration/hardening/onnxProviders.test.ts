// Hardening item 8: ONNX Runtime is only asked for execution providers this installation has.
// Asking for a missing one (CUDA without its provider libraries) makes ONNX Runtime print
// "Failed to load library libonnxruntime_providers_shared.so" on every run.
import { describe, expect, it } from 'vitest';
import { openSession, type OrtModule, type OrtSessionOptions } from '../../../src/ml/inference/ortRuntime';

function fakeOrt(backends: { name: string; bundled: boolean }[]) {
  const asked: (readonly string[])[] = [];
  const ort = {
    InferenceSession: {
      create: async (_model: string | Uint8Array, options?: OrtSessionOptions) => {
        asked.push(options?.executionProviders ?? []);
        return { inputNames: [], outputNames: [], run: async () => ({}), release: async () => {} };
      },
    },
    Tensor: class {},
    env: {},
    listSupportedBackends: () => backends,
  } as unknown as OrtModule;
  return { ort, asked };
}

describe('ONNX Runtime providers', () => {
  it('a requested provider that is not installed is never passed to ONNX Runtime, and the reason is kept', async () => {
    // The npm package lists cuda and tensorrt but, installed offline, ships neither library.
    const { ort, asked } = fakeOrt([
      { name: 'cpu', bundled: true },
      { name: 'cuda', bundled: false },
      { name: 'tensorrt', bundled: false },
    ]);
    const chosen = await openSession(ort, 'model.onnx', { threads: 1, providers: ['cuda', 'tensorrt'] });
    expect(asked).toEqual([['cpu']]);
    expect(chosen).toMatchObject({ provider: 'cpu', fallback: 'cuda: not installed; tensorrt: not installed' });
    // Asked for nothing: only what is installed, quietly.
    const quiet = fakeOrt([{ name: 'cpu', bundled: true }]);
    expect(await openSession(quiet.ort, 'model.onnx', { threads: 1 })).toMatchObject({ provider: 'cpu', fallback: undefined });
    expect(quiet.asked).toEqual([['cpu']]);
  });
});
