// The PyTorch side of bench/onnx.ts: the same pre-norm ViT (timm ViT-B/16 or CLIP ViT-L/14
// shapes, random weights) in plain torch under inference_mode, served over stdin/stdout so it can
// be timed in alternation with the other engines. Run with Debian's python3-torch
// (/usr/bin/python3); reports which BLAS is really loaded.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BenchServer } from './onnxServers';

export interface TorchModelSpec {
  imageSize: number;
  patchSize: number;
  width: number;
  depth: number;
  heads: number;
  mlpDim: number;
  /** CLIP: QuickGELU, ln_pre, conv without bias, projection; else timm: GELU, eps 1e-6. */
  clip: boolean;
  outputDim: number;
}

export interface OpenBlasCore {
  /** What OpenBLAS picks by itself on this CPU. */
  detected: string;
  /** What the bench runs with (OPENBLAS_CORETYPE), or null for the detected one. */
  used: string | null;
}

/**
 * OpenBLAS 0.3.21 (Debian 12) does not know recent Xeons (e.g. Sapphire/Emerald Rapids) and
 * falls back to its generic 'Prescott' kernels, ~4x slower (44 vs 166 GFLOP/s measured on a
 * 197x768x2304 matmul). For a fair reference we pick the newest kernel the CPU's flags allow,
 * unless OPENBLAS_CORETYPE is already set.
 */
export function chooseOpenBlasCore(py: string): OpenBlasCore {
  const r = spawnSync(py, ['-c', 'import torch; torch.randn(64, 64) @ torch.randn(64, 64)'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, OPENBLAS_VERBOSE: '2' },
  });
  const detected = /Core: (\w+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
  if (process.env.OPENBLAS_CORETYPE) return { detected, used: process.env.OPENBLAS_CORETYPE };
  if (!['Prescott', 'Katmai', 'Core2', 'Nehalem', 'unknown'].includes(detected)) return { detected, used: null };
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return { detected, used: null };
  }
  const used = /\bavx512_bf16\b/.test(flags)
    ? 'Cooperlake'
    : /\bavx512f\b/.test(flags)
      ? 'SkylakeX'
      : /\bavx2\b/.test(flags)
        ? 'Haswell'
        : null;
  return { detected, used };
}

const SCRIPT = String.raw`
import json, resource, sys, time, torch, torch.nn as nn, torch.nn.functional as F
c = json.loads(sys.argv[1])
torch.set_num_threads(c['threads']); torch.manual_seed(0)
W, D, H, P, S, M = c['width'], c['depth'], c['heads'], c['patchSize'], c['imageSize'], c['mlpDim']
clip = c['clip']; eps = 1e-5 if clip else 1e-6
act = (lambda x: x * torch.sigmoid(1.702 * x)) if clip else F.gelu
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.n1 = nn.LayerNorm(W, eps=eps); s.qkv = nn.Linear(W, 3 * W); s.proj = nn.Linear(W, W)
        s.n2 = nn.LayerNorm(W, eps=eps); s.fc1 = nn.Linear(W, M); s.fc2 = nn.Linear(M, W)
    def forward(s, x):
        B, N, C = x.shape
        q, k, v = s.qkv(s.n1(x)).reshape(B, N, 3, H, C // H).permute(2, 0, 3, 1, 4).unbind(0)
        a = ((q * (C // H) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        x = x + s.proj((a @ v).transpose(1, 2).reshape(B, N, C))
        return x + s.fc2(act(s.fc1(s.n2(x))))
class Vit(nn.Module):
    def __init__(s):
        super().__init__(); s.pe = nn.Conv2d(3, W, P, P, bias=not clip); s.cls = nn.Parameter(torch.zeros(1, 1, W))
        s.pos = nn.Parameter(torch.randn(1, (S // P) ** 2 + 1, W) * .02); s.pre = nn.LayerNorm(W, eps=eps) if clip else nn.Identity()
        s.blocks = nn.Sequential(*[Block() for _ in range(D)]); s.norm = nn.LayerNorm(W, eps=eps)
        s.projection = nn.Parameter(torch.randn(W, c['outputDim']) * W ** -0.5) if clip else None
    def forward(s, x):
        x = s.pe(x).flatten(2).transpose(1, 2); x = s.pre(torch.cat([s.cls.expand(x.shape[0], -1, -1), x], 1) + s.pos)
        y = s.norm(s.blocks(x)[:, 0])
        return y @ s.projection if s.projection is not None else y
m = Vit().eval()
if c.get('int8'):  # bench/int8.ts: PyTorch's own dynamic int8 (per-tensor weights, nn.Linear only)
    m = torch.ao.quantization.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8)
print(json.dumps(dict(ready=True, torch=torch.__version__, qengine=torch.backends.quantized.engine)), flush=True)
inputs = {}
calls = 0
with torch.inference_mode():
    while True:
        line = sys.stdin.readline()
        if not line: break
        cmd = line.split()
        if not cmd: continue
        if cmd[0] == 'quit': break
        b = int(cmd[1]); calls += 1
        # outputs: new images every call (seeded by the call's number) and the outputs returned.
        x = torch.randn(b, 3, S, S, generator=torch.Generator().manual_seed(calls)) if c.get('outputs') else inputs.setdefault(b, torch.randn(b, 3, S, S))
        t = time.perf_counter(); cpu = time.process_time(); y = m(x); sec = time.perf_counter() - t; cpu = time.process_time() - cpu
        print(json.dumps(dict(seconds=sec, cpuSeconds=cpu, out=y.flatten().tolist()) if c.get('outputs') else dict(seconds=sec, cpuSeconds=cpu)), flush=True)
blas = sorted({l.split('/')[-1].strip() for l in open('/proc/self/maps') if 'blas' in l.lower()})
print(json.dumps(dict(maxRssMb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, blas=', '.join(blas) or 'none loaded')), flush=True)
`;

export function findTorchPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

/**
 * A torch process serving "run <batch>" (see onnxServers.ts), warm-up left to the caller.
 * int8: quantize_dynamic on every nn.Linear; outputs: fresh seeded images per call, and each
 * reply carries the flattened outputs as `out`.
 */
export function startTorchServer(
  py: string,
  spec: TorchModelSpec,
  threads: number,
  core: OpenBlasCore,
  extra: { int8?: boolean; outputs?: boolean } = {},
): Promise<BenchServer> {
  const label = `pytorch${extra.int8 ? ' int8' : ''} ${threads}t`;
  return BenchServer.start(label, py, ['-c', SCRIPT, JSON.stringify({ ...spec, threads, ...extra })], {
    ...process.env,
    // OpenMP threads spinning against OpenBLAS's pthreads made 2 threads slower than 1 (compute-measurements §4).
    OMP_WAIT_POLICY: 'PASSIVE',
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    ...(core.used ? { OPENBLAS_CORETYPE: core.used } : {}),
  });
}
