// `cytotune doctor`: which TensorFlow.js backend this machine gets and why, why the others were
// not chosen, versions, and what the CUDA and WebGPU backends would need. Exit 0 when some backend runs.
import * as tf from '@tensorflow/tfjs-core';
import { CUDA_REQUIREMENT, probeGpu, type GpuProbe } from '../../ml/backend/gpuProbe';
import { selectBackend, wasmFeatures, type BackendChoice, type SelectOptions } from '../../ml/backend/selectBackend';
import { describeAdapter } from '../../ml/backend/webgpu';
import { defineCommand } from '../command';
import type { Io } from '../io';
import { BACKEND_NAMES, type BackendName } from '../../shared/jobs';
import { systemNotes } from '../systemNotes';

export interface DoctorDeps {
  select?: SelectOptions;
  probe?: () => GpuProbe;
}

export const command = defineCommand({
  name: 'doctor',
  summary: 'the ML backend chosen, why not the others, versions, GPU',
  usage:
    'usage: cytotune doctor [--backend tensorflow|webgpu|wasm|cpu] [--json]\nExit 0 when a backend starts and passes a small self-test.',
  options: { backend: { type: 'string', choices: BACKEND_NAMES }, json: { type: 'switch' } },
  main: ({ values }, io, deps: DoctorDeps) => doctor(values.backend, values.json, io, deps),
});

/** `runDoctor(argv, io, deps)`: tests inject the backend importer and the GPU probe. */
export const runDoctor = command.run;

async function doctor(only: BackendName | undefined, json: boolean, io: Io, deps: DoctorDeps): Promise<number> {
  let choice;
  try {
    choice = await selectBackend({ ...deps.select, only: only ?? deps.select?.only });
  } catch (err) {
    io.err(`doctor: ${(err as Error).message}`);
    return 1;
  }
  const wasm = choice.backend === 'wasm' ? await wasmFeatures() : null;
  const gpu = (deps.probe ?? probeGpu)();
  // A tiny self-test so "chosen" also means "computes correctly".
  const t0 = performance.now();
  const ok = tf.tidy(() => {
    const a = tf.ones([64, 64]);
    return Math.abs(tf.sum(tf.matMul(a, a)).dataSync()[0] - 64 * 64 * 64) < 1e-3;
  });
  const selfTestMs = performance.now() - t0;

  if (json) {
    io.out(
      JSON.stringify(
        { ...choice, wasm, gpuProbe: gpu, cudaRequirement: CUDA_REQUIREMENT, selfTest: { ok, ms: selfTestMs }, systemNotes: systemNotes() },
        null,
        2,
      ),
    );
    return ok ? 0 : 1;
  }
  const lines: string[] = [];
  const describe =
    choice.candidate === 'tensorflow-gpu'
      ? 'native TensorFlow with CUDA (@tensorflow/tfjs-node-gpu)'
      : choice.candidate === 'tensorflow'
        ? 'native TensorFlow on the CPU (@tensorflow/tfjs-node)'
        : choice.backend === 'webgpu'
          ? `WebGPU on ${choice.adapter ? describeAdapter(choice.adapter) : 'a GPU'} (Dawn, @tensorflow/tfjs-backend-webgpu)`
          : choice.backend === 'wasm'
            ? `WebAssembly (SIMD ${wasm?.simd ? 'on' : 'off'}; threads ${wasm?.threads ? 'on' : 'off: tfjs disables wasm threads under Node, run two worker processes to use two cores'})`
            : 'pure JavaScript (slow: about 30x slower than wasm)';
  lines.push(`backend: ${choice.backend} - ${describe}`);
  lines.push(`why: ${whyChosen(choice, only)}`);
  if (choice.blas) {
    lines.push(
      'info' in choice.blas
        ? `matMul: BLAS ${choice.blas.info.library}${choice.blas.info.core ? ` ${choice.blas.info.core} kernels` : ''} (${choice.blas.info.threads} thread${choice.blas.info.threads === 1 ? '' : 's'}; transposed and batched products at full speed, one weight copy)`
        : `matMul: XNNPACK (${choice.blas.reason}; transposed/batched matMuls run ~15x slower)`,
    );
  }
  const others = choice.attempts.filter((a) => !a.ok);
  if (others.length) {
    lines.push('not chosen:');
    for (const a of others) lines.push(`  ${a.candidate} (${a.package}): ${a.reason}`);
  }
  lines.push(
    `versions: ${Object.entries(choice.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  lines.push(
    `GPU: ${gpu.gpus.length ? gpu.gpus.join('; ') + (gpu.driver ? ` (driver ${gpu.driver})` : '') : 'none detected' + (gpu.notes.length ? ` (${gpu.notes.join('; ')})` : '')}`,
  );
  lines.push(
    `CUDA backend requires ${CUDA_REQUIREMENT}: libcudart.so.11.0 ${gpu.cudart11 ? 'found' : 'not found'}, libcudnn.so.8 ${gpu.cudnn8 ? 'found' : 'not found'}`,
  );
  if (!choice.gpu) {
    lines.push(
      '  to use an NVIDIA GPU: install CUDA 11.2 + cuDNN 8.1, then (online once) `npm install @tensorflow/tfjs-node-gpu@4.22.0`; CytoTune picks it up automatically',
    );
  }
  if (choice.backend !== 'webgpu') {
    lines.push('  WebGPU (any GPU with a Vulkan, Metal or D3D12 driver; no CUDA): see "webgpu" under "not chosen" for what is missing');
  }
  lines.push(`self-test: ${ok ? 'ok' : 'FAILED'} (64x64 matMul, ${selfTestMs.toFixed(1)} ms)`);
  const notes = systemNotes();
  lines.push(notes.length ? 'system packages:' : 'system packages: all of scripts/system-packages.txt that the product uses are installed');
  for (const note of notes) lines.push(`  ${note}`);
  for (const l of lines) io.out(l);
  return ok ? 0 : 1;
}

/** One sentence: the order tried, and that the earlier candidates did not start (details below it). */
function whyChosen(choice: BackendChoice, only: BackendName | undefined): string {
  if (only) return `--backend ${only} was requested`;
  const before = choice.attempts.filter((a) => !a.ok).map((a) => a.candidate);
  const order = 'tensorflow-gpu, webgpu, tensorflow, wasm, cpu';
  return before.length
    ? `first of ${order} that initialised; ${before.join(', ')} did not (reasons below)`
    : `first of ${order} and it initialised`;
}
