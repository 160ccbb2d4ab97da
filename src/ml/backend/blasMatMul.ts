// Optional: tfjs-wasm's BatchMatMul computed by the machine's optimised BLAS (OpenBLAS, Apple
// Accelerate) through koffi, reading and writing the wasm heap in place (koffi passes a typed
// array's memory, no copy: a call costs ~3 us). Why: tfjs-wasm runs only 2-D non-transposed
// matMul fast (XNNPACK, 128-bit wasm SIMD, one thread: 20-29 GFLOP/s on [1576x768]x[768x2304];
// OpenBLAS's AVX-512 kernels: 113-143 GFLOP/s on one core of the same machine); transposed and
// batched matMuls, which every backward pass and attention produce, run ~15x slower still, and
// XNNPACK keeps a packed copy of every weight matrix in the 4 GiB heap. cblas_sgemm takes the transpose flags natively, so the
// training backward needs no transposed weight copies either. Same float32 products, summed in
// another order: results differ from XNNPACK's by float rounding only (tests: 1e-5 relative).
// Off with CYTOTUNE_BLAS=off; absent BLAS (Windows without an OpenBLAS DLL) keeps XNNPACK.
//
// OpenBLAS picks its kernels from the CPU model at load time; Debian's 0.3.21 does not know
// recent or virtualised Xeons and falls back to "Prescott" (SSE3): measured here 29-57 GFLOP/s
// on one core against 101 with its AVX-512 kernels (OPENBLAS_CORETYPE=SkylakeX). So unless the
// user set OPENBLAS_CORETYPE, we set it from the CPU's flags before the library loads.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { broadcast_util, util } from '@tensorflow/tfjs-core';

type Sgemm = (
  order: number,
  ta: number,
  tb: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

export interface BlasInfo {
  /** The library file that was loaded. */
  library: string;
  /** Threads BLAS may use inside one process (set with setBlasThreads). */
  threads: number;
  /** OpenBLAS's kernel family (openblas_get_corename), e.g. 'skylakex'. */
  core?: string;
}

export interface Blas {
  sgemm: Sgemm;
  setThreads: ((n: number) => void) | null;
  info: BlasInfo;
}

const CANDIDATES: Record<string, string[]> = {
  linux: ['libopenblas.so.0', 'libopenblas.so', 'libopenblasp-r0.so', 'libmkl_rt.so.2', 'libmkl_rt.so'],
  darwin: [
    '/System/Library/Frameworks/Accelerate.framework/Accelerate',
    'libopenblas.dylib',
    '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
  ],
  win32: ['libopenblas.dll', 'openblas.dll'],
};

let loaded: Promise<Blas | { reason: string }> | null = null;
let active: Blas | null = null;

/** The OpenBLAS kernel family this CPU can run ('SkylakeX' for AVX-512, 'Haswell' for AVX2), from Linux /proc/cpuinfo flags. */
export function openBlasCoreFor(cpuFlags: string): string | null {
  const f = new Set(cpuFlags.split(/\s+/));
  if (['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'].every((x) => f.has(x))) return 'SkylakeX';
  if (f.has('avx2') && f.has('fma')) return 'Haswell';
  return null;
}

function cpuFlags(): string {
  try {
    return /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

/** Finds and binds a BLAS (not cached; installBlasMatMul caches). CYTOTUNE_BLAS_LIBRARY names one explicitly. */
export async function loadBlas(env: NodeJS.ProcessEnv = process.env): Promise<Blas | { reason: string }> {
  if (env.CYTOTUNE_BLAS === 'off') return { reason: 'disabled by CYTOTUNE_BLAS=off' };
  let koffi: typeof import('koffi').default;
  try {
    koffi = (await import('koffi')).default;
  } catch (err) {
    return { reason: `koffi could not load: ${(err as Error).message.split('\n')[0]}` };
  }
  const names = env.CYTOTUNE_BLAS_LIBRARY ? [env.CYTOTUNE_BLAS_LIBRARY] : (CANDIDATES[process.platform] ?? []);
  // Read by OpenBLAS when it loads (process.env writes through to the C environment).
  let core = env.OPENBLAS_CORETYPE ?? null;
  if (!core && process.platform === 'linux') {
    core = openBlasCoreFor(cpuFlags());
    if (core) process.env.OPENBLAS_CORETYPE = core;
  }
  const tried: string[] = [];
  for (const name of names) {
    try {
      const lib = koffi.load(name);
      const sgemm = lib.func(
        'void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)',
      ) as unknown as Sgemm;
      let setThreads: ((n: number) => void) | null = null;
      for (const fn of ['openblas_set_num_threads', 'MKL_Set_Num_Threads']) {
        try {
          setThreads = lib.func(`void ${fn}(int n)`) as unknown as (n: number) => void;
          break;
        } catch {
          // not this library's name for it
        }
      }
      let corename: string | undefined;
      try {
        corename = String((lib.func('const char *openblas_get_corename(void)') as unknown as () => string)());
      } catch {
        // not OpenBLAS
      }
      return { sgemm, setThreads, info: { library: name, threads: 0, ...(corename ? { core: corename } : {}) } };
    } catch (err) {
      tried.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return {
    reason: `no optimised BLAS library found (${tried.join('; ') || `none known for ${process.platform}`}); on Debian/Ubuntu: apt-get install libopenblas0`,
  };
}

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

interface WasmTensorInfo {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): WasmTensorInfo;
  typedArrayFromHeap(t: WasmTensorInfo): Float32Array;
}

function blasBatchMatMul(blas: Blas, fallback: tf.KernelConfig['kernelFunc']): tf.KernelConfig['kernelFunc'] {
  return (args) => {
    const { inputs, attrs, backend } = args as unknown as {
      inputs: { a: WasmTensorInfo; b: WasmTensorInfo };
      attrs: { transposeA: boolean; transposeB: boolean };
      backend: WasmBackendLike;
    };
    const { a, b } = inputs;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const { transposeA, transposeB } = attrs;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    util.assert(
      k === kb,
      () =>
        `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
    const batchA = util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = util.sizeFromShape(b.shape.slice(0, -2));
    // Batch broadcasting other than "equal" or "one side is 1" is left to the stock kernel.
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return fallback(args);
    const outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const out = backend.makeOutput([...outer, m, n], 'float32');
    const batch = Math.max(batchA, batchB);
    if (m * n === 0) return out;
    // Views taken after makeOutput (it may grow the heap, which detaches older views).
    const A = backend.typedArrayFromHeap(a);
    const B = backend.typedArrayFromHeap(b);
    const C = backend.typedArrayFromHeap(out);
    if (k === 0) {
      C.fill(0);
      return out;
    }
    const lda = transposeA ? m : k;
    const ldb = transposeB ? k : n;
    const ta = transposeA ? TRANS : NO_TRANS;
    const tb = transposeB ? TRANS : NO_TRANS;
    if (batchB === 1 && !transposeA && batch > 1) {
      // [batch, m, k] @ [k, n]: one call with batch * m rows.
      blas.sgemm(ROW_MAJOR, ta, tb, batch * m, n, k, 1, A, lda, B, ldb, 0, C, n);
      return out;
    }
    for (let i = 0; i < batch; i++) {
      const ai = batchA === 1 ? A : A.subarray(i * m * k, (i + 1) * m * k);
      const bi = batchB === 1 ? B : B.subarray(i * k * n, (i + 1) * k * n);
      blas.sgemm(ROW_MAJOR, ta, tb, m, n, k, 1, ai, lda, bi, ldb, 0, C.subarray(i * m * n, (i + 1) * m * n), n);
    }
    return out;
  };
}

/**
 * Routes the wasm backend's BatchMatMul through BLAS when one is found; idempotent. Returns what
 * was loaded, or why not (the stock XNNPACK kernel then stays).
 */
export async function installBlasMatMul(threads = 1): Promise<{ ok: true; info: BlasInfo } | { ok: false; reason: string }> {
  loaded ??= loadBlas();
  const blas = await loaded;
  if ('reason' in blas) return { ok: false, reason: blas.reason };
  setBlasThreads(threads, blas);
  if (!active) {
    const stock = tf.getKernel('BatchMatMul', 'wasm');
    if (!stock) return { ok: false, reason: 'the wasm backend is not registered' };
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({
      kernelName: 'BatchMatMul',
      backendName: 'wasm',
      setupFunc: stock.setupFunc,
      kernelFunc: blasBatchMatMul(blas, stock.kernelFunc),
    });
    active = blas;
  }
  return { ok: true, info: { ...blas.info } };
}

export function setBlasThreads(n: number, blas: Blas | null = active): void {
  if (!blas) return;
  const t = Math.max(1, Math.floor(n));
  blas.setThreads?.(t);
  blas.info.threads = t;
}

/** The BLAS in use for wasm matMuls, or null (XNNPACK). */
export function blasMatMulInfo(): BlasInfo | null {
  return active ? { ...active.info } : null;
}
