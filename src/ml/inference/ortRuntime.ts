// onnxruntime-node is an optional dependency (it installs offline only with
// `onnxruntime-node-install=skip` in .npmrc, which leaves out the CUDA provider): it is loaded
// by a guarded dynamic import, and everything falls back to tfjs when it is missing.
// Only the few structural types used here are declared, so this compiles without the package.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';

export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  dispose?(): void;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtSessionOptions {
  executionProviders?: readonly string[];
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  executionMode?: 'sequential' | 'parallel';
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  extra?: { session?: Record<string, string> };
}

export interface OrtModule {
  InferenceSession: { create(model: string | Uint8Array, options?: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  env: { versions?: { common?: string; node?: string } };
  listSupportedBackends?: () => { name: string; bundled: boolean }[];
}

export type OrtLoad = { ok: true; ort: OrtModule; version: string } | { ok: false; reason: string };

export type OrtImporter = () => Promise<unknown>;

// A variable specifier keeps TypeScript and bundlers from resolving the optional package.
const ORT_PACKAGE = 'onnxruntime-node';
const defaultImporter: OrtImporter = () => import(ORT_PACKAGE);

let cached: Promise<OrtLoad> | null = null;

/** Loads onnxruntime-node once per process (pass `importer` to load another way, uncached). */
export function loadOnnxRuntime(importer?: OrtImporter): Promise<OrtLoad> {
  if (importer) return tryLoad(importer);
  cached ??= tryLoad(defaultImporter);
  return cached;
}

async function tryLoad(importer: OrtImporter): Promise<OrtLoad> {
  try {
    const mod = (await importer()) as Partial<OrtModule> & { default?: Partial<OrtModule> };
    const ort = (mod.InferenceSession ? mod : mod.default) as OrtModule | undefined;
    if (!ort?.InferenceSession || !ort.Tensor) return { ok: false, reason: `${ORT_PACKAGE} loaded but exports no InferenceSession` };
    return { ok: true, ort, version: ort.env?.versions?.node ?? ort.env?.versions?.common ?? 'unknown' };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing =
      e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(String(e?.message));
    const first = String(e?.message ?? err).split('\n')[0];
    return {
      ok: false,
      reason: missing
        ? `${ORT_PACKAGE} is not installed (install it with: npm install -E ${ORT_PACKAGE}@1.30.0; offline, keep onnxruntime-node-install=skip in .npmrc)`
        : `${ORT_PACKAGE} failed to load: ${first}`,
    };
  }
}

/** Where the native binding lives (the CUDA provider libraries are installed next to it). */
function bindingDir(): string | null {
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve(`${ORT_PACKAGE}/package.json`));
    return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/**
 * Accelerated execution providers this installation really has, best first, then 'cpu':
 * CUDA only when its provider library was installed (online: `npm install onnxruntime-node
 * --onnxruntime-node-install=cuda12`, needs CUDA 12 + cuDNN 9 on the host), DirectML on
 * Windows and CoreML on macOS when the package bundles them. WebGPU is left out: it finds no
 * adapter on machines without a GPU driver and is slower than CPU where it does not.
 */
export function installedProviders(ort: OrtModule): string[] {
  const listed = ort.listSupportedBackends?.() ?? [];
  const has = (name: string) => listed.some((b) => b.name === name && b.bundled);
  const out: string[] = [];
  const dir = bindingDir();
  if (
    listed.some((b) => b.name === 'cuda') &&
    dir &&
    existsSync(join(dir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'))
  )
    out.push('cuda');
  if (process.platform === 'win32' && has('dml')) out.push('dml');
  if (process.platform === 'darwin' && has('coreml')) out.push('coreml');
  out.push('cpu');
  return out;
}

export interface SessionChoice {
  session: OrtSession;
  provider: string;
  threads: number;
  /** Why accelerated providers were not used, when one was tried and failed. */
  fallback?: string;
}

export interface SessionOptions {
  /** Intra-op threads of the CPU provider; default all cores. */
  threads?: number;
  /** Providers to try in order (default installedProviders()); 'cpu' is always the last resort. */
  providers?: readonly string[];
  /**
   * Let idle intra-op threads spin between ops (ONNX Runtime's default). Off by default: with
   * other busy processes (the app's tile decoding, other jobs) spinning threads steal the cores
   * the next op needs; measured on 2 busy cores, ViT-B batch 1 with 2 threads took a median
   * 543-655 ms spinning against 385-402 ms not spinning.
   */
  spinning?: boolean;
}

/** Opens `model` (file path or bytes) on the best provider that initialises. */
export async function openSession(ort: OrtModule, model: string | Uint8Array, o: SessionOptions = {}): Promise<SessionChoice> {
  const threads = o.threads ?? availableParallelism();
  const base: OrtSessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    extra: { session: { 'intra_op.allow_spinning': o.spinning ? '1' : '0', 'inter_op.allow_spinning': o.spinning ? '1' : '0' } },
  };
  // Only providers this installation has: asking ONNX Runtime for a missing one makes it print
  // "Failed to load library libonnxruntime_providers_shared.so" on every run, whatever the log level.
  const installed = new Set(installedProviders(ort));
  const requested = (o.providers ?? [...installed]).filter((p) => p !== 'cpu');
  const missing = requested.filter((p) => !installed.has(p));
  const providers = requested.filter((p) => installed.has(p));
  let fallback: string | undefined = missing.length ? missing.map((p) => `${p}: not installed`).join('; ') : undefined;
  for (const p of providers) {
    try {
      return { session: await ort.InferenceSession.create(model, { ...base, executionProviders: [p, 'cpu'] }), provider: p, threads };
    } catch (err) {
      fallback = `${fallback ? fallback + '; ' : ''}${p}: ${String((err as Error).message ?? err).split('\n')[0]}`;
    }
  }
  const session = await ort.InferenceSession.create(model, { ...base, executionProviders: ['cpu'] });
  return { session, provider: 'cpu', threads, fallback };
}
