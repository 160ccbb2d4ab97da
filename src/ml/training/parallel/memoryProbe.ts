// Measures whether one LoRA training micro-batch of a model fits the wasm heap (4 GiB: wasm32,
// measured on this machine kind: see bench/train-step.ts). Each trial runs in a fresh child
// process because an out-of-heap `RuntimeError: Aborted()` leaves that wasm instance unusable.
// Used by bench/train-step.ts --memory; its results are the numbers in memoryModel.ts.
//   node --import tsx src/worker/parallel/memoryProbe.ts '{"spec":{...},"lora":{...},"microBatch":2}'
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { blasMatMulInfo } from '../../backend/blasMatMul';
import { selectBackend } from '../../backend/selectBackend';
import { resolveLoraSpec } from '../../adapters/loraConfig';
import type { RandomModelSpec } from '../../models/randomEncoder';
import { peakRssBytes } from './rss';
import type { LoraOptions } from '../../../shared/training';

export interface ProbeRequest {
  spec: RandomModelSpec;
  lora: LoraOptions;
  microBatch: number;
  /** Keep transposed frozen weights (VitEncoder.prepareForTraining), as training does by default. */
  fastGradients?: boolean;
  /** Force an attention formulation (the trainer forces 'perHead' when memory is tight). */
  attention?: 'perHead' | 'batched';
}

export interface ProbeResult {
  microBatch: number;
  ok: boolean;
  /** Wasm heap size after the step: it only grows, so this is the step's peak (bytes). */
  heapBytes: number;
  /** Heap right after the model was built (weights, plus transposed copies when fastGradients). */
  weightsHeapBytes: number;
  peakRssBytes: number;
  /** Seconds of the forward+backward (first call, so including XNNPACK setup). */
  seconds: number;
  /** The BLAS library used for matMuls, or null (XNNPACK). */
  blas: string | null;
  error?: string;
}

function heapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.length ?? 0;
}

async function runProbe(req: ProbeRequest): Promise<ProbeResult> {
  // Imported here so that the parent side (probeTrainingMemory) stays light.
  const { createRandomEncoder } = await import('../../models/randomEncoder');
  const { LoraAdapter } = await import('../../adapters/loraAdapter');
  const { LinearHead } = await import('../../adapters/linearHead');
  const { loraHook } = await import('../../adapters/loraHook');
  const { BranchDropout } = await import('../../adapters/branchDropout');
  const { TransposeCache } = await import('../../adapters/fastGrad');
  const { microBatchGrads } = await import('../gradients');
  await selectBackend({ only: 'wasm', blasThreads: 1 });
  if (req.attention) (await import('../../models/layers')).setAttentionKernel(req.attention);
  // As the trainer: transposed copies only without BLAS matMuls.
  const fast = (req.fastGradients ?? true) && !blasMatMulInfo();
  const enc = createRandomEncoder(req.spec, 0);
  if (fast) enc.prepareForTraining();
  const spec = resolveLoraSpec(req.lora, enc.config);
  const adapter = LoraAdapter.create(enc.config, spec, 1);
  const head = LinearHead.create(enc.config.outputDim, 10, 1);
  const dropout = new BranchDropout(spec.dropout, 1);
  const cache = fast ? new TransposeCache() : undefined;
  const hook = loraHook(adapter, dropout, cache);
  const vars = [...adapter.variables(), ...head.variables()];
  const weightsHeapBytes = heapBytes();
  const n = req.microBatch;
  const s = req.spec.imageSize;
  const x = tf.randomNormal([n, 3, s, s], 0, 1, 'float32', 3) as tf.Tensor4D;
  dropout.setBatch(
    0,
    Array.from({ length: n }, (_, i) => i),
  );
  const t0 = performance.now();
  try {
    const r = microBatchGrads(
      vars,
      () => head.apply(enc.embed(x, hook, true)),
      Array.from({ length: n }, (_, i) => i % 10),
      n,
    );
    tf.dispose(r.grads);
    return {
      microBatch: n,
      ok: true,
      heapBytes: heapBytes(),
      weightsHeapBytes,
      peakRssBytes: peakRssBytes(),
      seconds: (performance.now() - t0) / 1000,
      blas: blasMatMulInfo()?.library ?? null,
    };
  } catch (err) {
    return {
      microBatch: n,
      ok: false,
      heapBytes: heapBytes(),
      weightsHeapBytes,
      peakRssBytes: peakRssBytes(),
      seconds: (performance.now() - t0) / 1000,
      blas: blasMatMulInfo()?.library ?? null,
      error: String((err as Error).message ?? err).split('\n')[0],
    };
  }
}

/** Runs one trial in a child process; a child killed by the heap abort reads as ok: false. */
export function probeTrainingMemory(req: ProbeRequest, timeoutMs = 20 * 60_000): Promise<ProbeResult> {
  const entry = fileURLToPath(import.meta.url);
  return new Promise((resolve) => {
    const child = fork(entry, [JSON.stringify(req)], {
      execArgv: entry.endsWith('.ts') ? ['--import', 'tsx'] : [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    let stderr = '';
    let result: ProbeResult | null = null;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (t: string) => (stderr = (stderr + t).slice(-2000)));
    child.on('message', (m) => (result = m as ProbeResult));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const tail = stderr.trim().split('\n').slice(-2).join(' ');
      resolve(
        result ?? {
          microBatch: req.microBatch,
          ok: false,
          heapBytes: 0,
          weightsHeapBytes: 0,
          peakRssBytes: 0,
          seconds: 0,
          blas: null,
          error: `probe process ${signal ? `killed by ${signal}` : `exited with code ${code}`}: ${tail}`,
        },
      );
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.send) {
  const req = JSON.parse(process.argv[2]) as ProbeRequest;
  const result = await runProbe(req);
  process.send(result, () => process.exit(0));
}
