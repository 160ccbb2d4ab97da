// Chooses the TensorFlow.js backend, first that really initialises in this order: native
// TensorFlow with CUDA (optional tfjs-node-gpu), WebGPU on Dawn (optional `webgpu` +
// tfjs-backend-webgpu, see webgpu.ts), native TensorFlow on the CPU (optional tfjs-node), then
// WebAssembly (SIMD; threads are disabled by tfjs in Node), then pure JS.
// Returns what was chosen and, for every backend not chosen, why, so `cytotune doctor` can say
// what a user would have to install.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { installBlasMatMul, type BlasInfo } from './blasMatMul';
import { ensureGradients } from './gradients';
import { installWasmKernelFixes } from './wasmKernels';
import { probeAdapterInChild, TFJS_WEBGPU_PACKAGE, tryWebGpu, type AdapterInfo, type AdapterProbe } from './webgpu';
import type { BackendName } from '../../shared/jobs';

export interface BackendAttempt {
  /** 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu'. */
  candidate: string;
  /** npm package that provides it. */
  package: string;
  ok: boolean;
  /** Why it was not chosen (absent for the chosen one and for ones never tried). */
  reason?: string;
}

export interface BackendChoice {
  backend: BackendName;
  /** The candidate that won: 'tensorflow-gpu' means tfjs-node-gpu (CUDA). */
  candidate: string;
  gpu: boolean;
  /** The GPU WebGPU runs on, when the choice is 'webgpu'. */
  adapter?: AdapterInfo;
  /** wasm only: the BLAS that computes matMuls (blasMatMul.ts), or why XNNPACK does. */
  blas?: { info: BlasInfo } | { reason: string };
  attempts: BackendAttempt[];
  versions: Record<string, string>;
}

export interface SelectOptions {
  /** Restrict to one backend (e.g. from CYTOTUNE_BACKEND); others are reported as skipped. */
  only?: BackendName;
  /** Directory holding tfjs-backend-wasm's .wasm files (default: the installed package's dist/). */
  wasmDir?: string;
  /** Module loader; replaced in tests only, because the native packages cannot be installed offline. */
  importer?: (specifier: string) => Promise<unknown>;
  /** Asks Dawn for a GPU adapter (default: in a child process); replaced in tests, as no GPU is here. */
  probeWebGpuAdapter?: () => Promise<AdapterProbe>;
  /** wasm: threads for BLAS matMuls (default: all cores; gradient workers pass cores / workers). */
  blasThreads?: number;
}

const NATIVE = [
  { candidate: 'tensorflow-gpu', package: '@tensorflow/tfjs-node-gpu', gpu: true },
  { candidate: 'tensorflow', package: '@tensorflow/tfjs-node', gpu: false },
] as const;

export function defaultWasmDir(): string {
  const require = createRequire(import.meta.url);
  // The package's `main` lives in dist/, next to the .wasm binaries.
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

function isNotInstalled(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(firstLine(err));
}

async function trySetBackend(name: string): Promise<string | null> {
  // tf.setBackend logs the init error and resolves false; capture it instead of printing.
  const origWarn = console.warn;
  const origError = console.error;
  const logged: string[] = [];
  console.warn = console.error = (...args: unknown[]) => void logged.push(args.map((a) => firstLine(a)).join(' '));
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    // tfjs logs "Initialization of backend X failed", then the error, then repeats them.
    const cause = /^Initialization of backend/.test(logged[0] ?? '') && logged[1] ? `${logged[0]}: ${logged[1]}` : logged[0];
    return ok && tf.getBackend() === name ? null : cause || `tf.setBackend('${name}') failed`;
  } catch (err) {
    return firstLine(err);
  } finally {
    console.warn = origWarn;
    console.error = origError;
  }
}

/** The backend named with `only` could not start (an expected failure, with what to do). */
export class BackendUnavailableError extends Error {
  readonly kind = 'backend-unavailable';
}

export async function selectBackend(opts: SelectOptions = {}): Promise<BackendChoice> {
  // Training (LoRA) needs gradients on whichever backend wins.
  await ensureGradients();
  const importer = opts.importer ?? ((s: string) => import(/* @vite-ignore */ s));
  const attempts: BackendAttempt[] = [];
  const versions: Record<string, string> = { node: process.versions.node, 'tfjs-core': tf.version_core, 'tfjs-backend-wasm': version_wasm };
  const skip = (candidate: string, pkg: string, name: BackendName) =>
    opts.only && opts.only !== name
      ? (attempts.push({ candidate, package: pkg, ok: false, reason: `skipped: only '${opts.only}' was requested` }), true)
      : false;

  const tryNative = async (n: (typeof NATIVE)[number]): Promise<BackendChoice | null> => {
    if (skip(n.candidate, n.package, 'tensorflow')) return null;
    let mod: { version?: Record<string, string> } | undefined;
    try {
      mod = (await importer(n.package)) as typeof mod;
    } catch (err) {
      attempts.push({
        candidate: n.candidate,
        package: n.package,
        ok: false,
        reason: isNotInstalled(err)
          ? `${n.package} is not installed (optional; its install downloads libtensorflow, so it needs internet once${n.gpu ? '; needs CUDA 11.2 and cuDNN 8.1' : ''})`
          : `${n.package} failed to load: ${firstLine(err)}`,
      });
      return null;
    }
    if (!tf.findBackend('tensorflow') && !tf.engine().registryFactory['tensorflow']) {
      attempts.push({
        candidate: n.candidate,
        package: n.package,
        ok: false,
        reason: `${n.package} loaded but registered no 'tensorflow' backend with this @tensorflow/tfjs-core ${tf.version_core} (install the matching 4.22.x version)`,
      });
      return null;
    }
    const why = await trySetBackend('tensorflow');
    if (why) {
      attempts.push({ candidate: n.candidate, package: n.package, ok: false, reason: why });
      return null;
    }
    const v = mod?.version;
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) versions[k] = String(x);
    attempts.push({ candidate: n.candidate, package: n.package, ok: true });
    return { backend: 'tensorflow', candidate: n.candidate, gpu: n.gpu, attempts, versions };
  };

  const gpuNative = await tryNative(NATIVE[0]);
  if (gpuNative) return gpuNative;

  if (!skip('webgpu', TFJS_WEBGPU_PACKAGE, 'webgpu')) {
    if (process.env.CYTOTUNE_WEBGPU === 'off') {
      attempts.push({ candidate: 'webgpu', package: TFJS_WEBGPU_PACKAGE, ok: false, reason: 'disabled by CYTOTUNE_WEBGPU=off' });
    } else {
      const r = await tryWebGpu({
        importer,
        probeAdapter: opts.probeWebGpuAdapter ?? (() => probeAdapterInChild()),
        setBackend: trySetBackend,
      });
      if (r.ok) {
        Object.assign(versions, r.versions);
        attempts.push({ candidate: 'webgpu', package: TFJS_WEBGPU_PACKAGE, ok: true });
        return { backend: 'webgpu', candidate: 'webgpu', gpu: true, adapter: r.adapter, attempts, versions };
      }
      attempts.push({ candidate: 'webgpu', package: TFJS_WEBGPU_PACKAGE, ok: false, reason: r.reason });
    }
  }

  const cpuNative = await tryNative(NATIVE[1]);
  if (cpuNative) return cpuNative;

  if (!skip('wasm', '@tensorflow/tfjs-backend-wasm', 'wasm')) {
    let why: string | null;
    try {
      const dir = opts.wasmDir ?? defaultWasmDir();
      if (!existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm')) && !existsSync(join(dir, 'tfjs-backend-wasm.wasm'))) {
        throw new Error(
          `the tfjs-backend-wasm binaries (tfjs-backend-wasm*.wasm) are not in ${dir}; reinstall @tensorflow/tfjs-backend-wasm`,
        );
      }
      setWasmPaths(dir);
      why = await trySetBackend('wasm');
    } catch (err) {
      why = firstLine(err);
    }
    if (!why) {
      // Copy-free Slice and Identity (wasmKernels.ts): same values, less copying and memory.
      installWasmKernelFixes();
      // The system BLAS for matMuls where there is one (several times XNNPACK's transposed/batched speed).
      const blas = await installBlasMatMul(opts.blasThreads ?? availableParallelism());
      attempts.push({ candidate: 'wasm', package: '@tensorflow/tfjs-backend-wasm', ok: true });
      return {
        backend: 'wasm',
        candidate: 'wasm',
        gpu: false,
        attempts,
        versions,
        blas: blas.ok ? { info: blas.info } : { reason: blas.reason },
      };
    }
    attempts.push({ candidate: 'wasm', package: '@tensorflow/tfjs-backend-wasm', ok: false, reason: why });
  }

  // A backend that was asked for by name is never replaced by another one in silence.
  if (opts.only && opts.only !== 'cpu') {
    const tried = attempts.filter((a) => !a.reason?.startsWith('skipped')).map((a) => `${a.candidate}: ${a.reason}`);
    throw new BackendUnavailableError(
      `--backend ${opts.only} was asked for but cannot start here (${tried.join('; ')}); run \`cytotune doctor\` for what it needs, or leave --backend out to use the best one available`,
    );
  }
  const why = await trySetBackend('cpu');
  if (why) throw new Error(`no TensorFlow.js backend could start; even 'cpu' failed: ${why}`);
  attempts.push({ candidate: 'cpu', package: '@tensorflow/tfjs-backend-cpu', ok: true });
  return { backend: 'cpu', candidate: 'cpu', gpu: false, attempts, versions };
}

/** Facts about the wasm backend once it is active (SIMD, threads), for `doctor`. */
export async function wasmFeatures(): Promise<{ simd: boolean; threads: boolean }> {
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return { simd, threads };
}
