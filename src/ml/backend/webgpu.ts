// The WebGPU backend (@tensorflow/tfjs-backend-webgpu on Dawn from the `webgpu` npm package:
// installs offline, drives the GPU through its Vulkan, Metal or D3D12 driver, no CUDA needed).
// Chosen only when it really works, in three steps, each with a reason a user can act on:
//  1. a child process asks Dawn for an adapter: Dawn prints its driver warnings from native code
//     and a broken driver can crash the process, so neither happens in ours (~0.3 s, once);
//  2. in-process: navigator.gpu from Dawn, then the tfjs backend, then tf.setBackend('webgpu');
//  3. a small matMul must equal the expected values.
// On this project's CI machines step 1 fails (no Vulkan loader, or lavapipe rejected by Dawn).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface AdapterProbe {
  /** Whether the `webgpu` package resolves at all. */
  installed: boolean;
  /** null: Dawn found no adapter (or the package is broken: see `messages`). */
  adapter: AdapterInfo | null;
  /** What Dawn or the probe printed, first lines (the reason when there is no adapter). */
  messages: string[];
}

export interface WebGpuDeps {
  importer: (specifier: string) => Promise<unknown>;
  probeAdapter: () => Promise<AdapterProbe>;
  /** tf.setBackend with init errors captured; selectBackend's. */
  setBackend: (name: string) => Promise<string | null>;
}

export type WebGpuOutcome = { ok: true; adapter: AdapterInfo; versions: Record<string, string> } | { ok: false; reason: string };

export const WEBGPU_PACKAGE = 'webgpu';
export const TFJS_WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

const PROBE_SCRIPT = `
const url = process.argv[1];
import(url).then(async ({ create }) => {
  const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
  const i = adapter ? (adapter.info ?? {}) : null;
  process.stdout.write(JSON.stringify(i ? { vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '' } : null));
  process.exit(0);
}).catch((e) => { process.stderr.write(String(e && e.message || e)); process.exit(3); });
`;

let probeCache: Promise<AdapterProbe> | null = null;

/** Asks Dawn for an adapter in a child process (cached per process). */
export function probeAdapterInChild(timeoutMs = 20_000): Promise<AdapterProbe> {
  probeCache ??= new Promise((resolve) => {
    let entry: string;
    try {
      entry = pathToFileURL(createRequire(import.meta.url).resolve(WEBGPU_PACKAGE)).href;
    } catch {
      return resolve({ installed: false, adapter: null, messages: [] });
    }
    const child = spawn(process.execPath, ['--input-type=module', '-e', PROBE_SCRIPT, entry], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Dawn's warnings: "Warning: Couldn't load Vulkan: libvulkan.so.1: cannot open ..." then "    at operator() (...)".
      const messages = err
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('at '))
        .slice(0, 4);
      if (code !== 0)
        return resolve({
          installed: true,
          adapter: null,
          messages: [`adapter probe ${signal ? `killed by ${signal}` : `exited with code ${code}`}`, ...messages],
        });
      try {
        resolve({ installed: true, adapter: JSON.parse(out) as AdapterInfo | null, messages });
      } catch {
        resolve({ installed: true, adapter: null, messages: ['adapter probe printed no result', ...messages] });
      }
    });
  });
  return probeCache;
}

/** Tries to make 'webgpu' the active backend; leaves no half-registered backend on failure. */
export async function tryWebGpu(deps: WebGpuDeps): Promise<WebGpuOutcome> {
  // Probe first: nothing of Dawn is loaded into this process unless there is an adapter to use.
  const probe = await deps.probeAdapter();
  if (!probe.installed)
    return {
      ok: false,
      reason: `${WEBGPU_PACKAGE} is not installed (optional: npm install -E webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0, works offline)`,
    };
  if (!probe.adapter) {
    const why = probe.messages.length ? probe.messages.join('; ') : 'no adapter';
    return {
      ok: false,
      reason: `Dawn found no GPU adapter (${why}); WebGPU needs a GPU driver with Vulkan (Linux), Metal (macOS) or D3D12 (Windows)`,
    };
  }
  let dawn: { create?: (o: string[]) => unknown; globals?: object };
  try {
    dawn = (await deps.importer(WEBGPU_PACKAGE)) as typeof dawn;
  } catch (err) {
    return { ok: false, reason: `${WEBGPU_PACKAGE} failed to load: ${firstLine(err)}` };
  }
  if (typeof dawn.create !== 'function')
    return { ok: false, reason: `${WEBGPU_PACKAGE} has no create(): not the Dawn package this code expects (webgpu 0.6.x)` };
  // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is imported.
  const g = globalThis as { navigator?: { gpu?: unknown } };
  Object.assign(globalThis, dawn.globals ?? {});
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  g.navigator!.gpu = dawn.create([]);
  try {
    await deps.importer(TFJS_WEBGPU_PACKAGE);
  } catch (err) {
    return {
      ok: false,
      reason: notInstalled(err)
        ? `${TFJS_WEBGPU_PACKAGE} is not installed (optional)`
        : `${TFJS_WEBGPU_PACKAGE} failed to load: ${firstLine(err)}`,
    };
  }
  if (!tf.findBackendFactory('webgpu'))
    return {
      ok: false,
      reason: `${TFJS_WEBGPU_PACKAGE} registered no 'webgpu' backend with @tensorflow/tfjs-core ${tf.version_core} (install the matching 4.22.x)`,
    };
  const why = await deps.setBackend('webgpu');
  if (why) {
    tf.removeBackend('webgpu');
    return { ok: false, reason: `tfjs could not start WebGPU on ${describeAdapter(probe.adapter)}: ${why}` };
  }
  // "Initialised" must also mean "computes": [[1,2],[3,4]] @ [[5,6],[7,8]] = [[19,22],[43,50]].
  let got: string;
  try {
    got = Array.from(tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])).dataSync())).join(',');
  } catch (err) {
    got = `error: ${firstLine(err)}`;
  }
  if (got !== '19,22,43,50') {
    tf.removeBackend('webgpu');
    return { ok: false, reason: `WebGPU on ${describeAdapter(probe.adapter)} failed its test matMul (${got})` };
  }
  return { ok: true, adapter: probe.adapter, versions: packageVersions() };
}

function packageVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  const require = createRequire(import.meta.url);
  for (const p of [WEBGPU_PACKAGE, TFJS_WEBGPU_PACKAGE]) {
    try {
      out[p.replace('@tensorflow/', '')] = (require(`${p}/package.json`) as { version: string }).version;
    } catch {
      // a faked package (tests) or an exports map that hides package.json
    }
  }
  return out;
}

export function describeAdapter(a: AdapterInfo): string {
  return [a.description || a.device, a.vendor && `vendor ${a.vendor}`, a.architecture].filter(Boolean).join(', ') || 'an unnamed adapter';
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

function notInstalled(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(firstLine(err));
}
