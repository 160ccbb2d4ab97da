// Seconds per LoRA training step at real size with random weights (no pretrained weights can be
// downloaded here): CLIP ViT-B/16, batch 8, LoRA r=2 on q,v (the paper's few-shot setting), and
// CLIP ViT-L/14 r=16 on q,k,v,o where the wasm heap allows, through the real trainer (trainLora:
// augmentation, micro-batches, AdamW) on tfjs-wasm in one process and data-parallel over worker
// processes, beside Debian's python3-torch (+ OpenBLAS) doing the same work in the same run
// (1 and 2 threads). Each configuration runs in its own process so peak RSS is its own.
//   node --import tsx bench/train-step.ts [--runs 2] [--no-torch] [--no-vitl] [--xnnpack] [--torch-as-installed] [--memory]
// (--child JSON is the per-configuration process this file starts itself.)
// --memory: instead, the largest micro-batch that fits the 4 GiB wasm heap (probe per size in a
// fresh process; an abort means "does not fit"), written to bench/results/train-step-memory.json.
// Prints a table with the ratio to PyTorch and writes bench/results/train-step.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBlasCoreFor } from '../src/ml/backend/blasMatMul';
import type { RandomModelSpec } from '../src/ml/models/randomEncoder';

interface ModelCase {
  name: string;
  spec: RandomModelSpec;
  lora: { rank: number; targets: ('q' | 'k' | 'v' | 'o')[] };
}

const VIT_B16: ModelCase = {
  name: 'ViT-B/16',
  spec: { family: 'openai-clip', imageSize: 224, patchSize: 16, width: 768, depth: 12, heads: 12, outputDim: 512 },
  lora: { rank: 2, targets: ['q', 'v'] },
};
const VIT_L14: ModelCase = {
  name: 'ViT-L/14',
  spec: { family: 'openai-clip', imageSize: 224, patchSize: 14, width: 1024, depth: 24, heads: 16, outputDim: 768 },
  lora: { rank: 16, targets: ['q', 'k', 'v', 'o'] },
};
const BATCH = 8;

export interface ChildRequest {
  model: ModelCase;
  processes: number;
  runs: number;
  batch: number;
  blas: boolean;
}

export interface StepResult {
  engine: string;
  model: string;
  lora: string;
  processes: number;
  threads: number;
  microBatch: number | null;
  /** Median seconds per optimiser step (batch 8), after one warm-up step. */
  secondsPerStep: number | null;
  steps: number[];
  /** Peak RSS of each process (bytes): the trainer first, then its gradient workers. */
  peakRssBytes: number[];
  notes: string[];
  error?: string;
}

// The same work in PyTorch: CLIP ViT (ln_pre, QuickGELU, class token, ln_post, proj) with frozen
// weights, LoRA (A kaiming, B zeros, dropout 0.25 on the branch input, s = 1/sqrt r) on the chosen
// projections, a linear head, cross-entropy, AdamW; whole batch in one pass.
const TORCH_TRAIN_SCRIPT = String.raw`
import json, resource, sys, time, math, torch, torch.nn as nn, torch.nn.functional as F
c = json.loads(sys.argv[1]); torch.set_num_threads(c['threads']); torch.manual_seed(0)
W, D, H, P, S, OUT, R, TG = c['width'], c['depth'], c['heads'], c['patchSize'], c['imageSize'], c['outputDim'], c['rank'], set(c['targets'])
class Proj(nn.Module):
    def __init__(s, lora):
        super().__init__(); s.base = nn.Linear(W, W); s.base.requires_grad_(False); s.lora = lora
        if lora:
            s.A = nn.Parameter(torch.empty(R, W)); nn.init.kaiming_uniform_(s.A, a=math.sqrt(5)); s.B = nn.Parameter(torch.zeros(W, R)); s.drop = nn.Dropout(0.25)
    def forward(s, x):
        y = s.base(x)
        return y + (s.drop(x) @ s.A.t() @ s.B.t()) / math.sqrt(R) if s.lora else y
class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.ln_1 = nn.LayerNorm(W); s.ln_2 = nn.LayerNorm(W)
        s.q, s.k, s.v, s.o = [Proj(n in TG) for n in 'qkvo']; s.fc = nn.Linear(W, 4 * W); s.proj = nn.Linear(4 * W, W)
    def forward(s, x):
        B, T, C = x.shape; h = s.ln_1(x); d = C // H
        q, k, v = [t(h).view(B, T, H, d).transpose(1, 2) for t in (s.q, s.k, s.v)]
        a = ((q * d ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        x = x + s.o((a @ v).transpose(1, 2).reshape(B, T, C))
        m = s.fc(s.ln_2(x))
        return x + s.proj(m * torch.sigmoid(1.702 * m))
class Vit(nn.Module):
    def __init__(s):
        super().__init__(); s.conv1 = nn.Conv2d(3, W, P, P, bias=False); s.cls = nn.Parameter(torch.randn(W) * W ** -0.5)
        s.pos = nn.Parameter(torch.randn((S // P) ** 2 + 1, W) * W ** -0.5); s.ln_pre = nn.LayerNorm(W); s.blocks = nn.Sequential(*[Block() for _ in range(D)])
        s.ln_post = nn.LayerNorm(W); s.proj = nn.Parameter(torch.randn(W, OUT) * W ** -0.5)
    def forward(s, x):
        x = s.conv1(x).flatten(2).transpose(1, 2); x = torch.cat([s.cls.expand(x.shape[0], 1, -1), x], 1) + s.pos
        return s.ln_post(s.blocks(s.ln_pre(x))[:, 0]) @ s.proj
m = Vit()
for n, p in m.named_parameters(): p.requires_grad_(n.endswith('.A') or n.endswith('.B'))
head = nn.Linear(OUT, 10); params = [p for p in m.parameters() if p.requires_grad] + list(head.parameters())
opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), weight_decay=1e-2)
m.train(); x = torch.randn(c['batch'], 3, S, S); y = torch.arange(c['batch']) % 10; ts = []
for i in range(c['runs'] + 1):
    t = time.perf_counter(); loss = F.cross_entropy(head(m(x)), y); opt.zero_grad(); loss.backward(); opt.step(); ts.append(time.perf_counter() - t)
cfg = torch.__config__.show()
print(json.dumps(dict(steps=ts[1:], peakRssBytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, version=torch.__version__,
    blas='OpenBLAS' if 'openblas' in open('/proc/self/maps').read().lower() else 'reference BLAS')))
`;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}
function cpuFlagsText(): string {
  try {
    return /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gb = (b: number) => (b / 1e9).toFixed(2);
const self = fileURLToPath(import.meta.url);

function runChild(req: ChildRequest, label: string): StepResult {
  console.error(`- ${label} ...`);
  const env = { ...process.env, ...(req.blas ? {} : { CYTOTUNE_BLAS: 'off' }) };
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify(req)], {
    encoding: 'utf8',
    env,
    timeout: 30 * 60_000,
    maxBuffer: 1 << 26,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const res = JSON.parse(last) as StepResult;
    console.error(`  ${res.secondsPerStep !== null ? `${res.secondsPerStep.toFixed(2)} s/step` : res.error}`);
    return res;
  } catch {
    const tail = (r.stderr || '').trim().split('\n').slice(-3).join(' | ');
    return {
      engine: label,
      model: req.model.name,
      lora: '',
      processes: req.processes,
      threads: 1,
      microBatch: null,
      secondsPerStep: null,
      steps: [],
      peakRssBytes: [],
      notes: [],
      error: `exited ${r.status ?? r.signal}: ${tail}`,
    };
  }
}

function findTorchPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return py;
  }
  return null;
}

/** Torch on the same work; `core` forces OpenBLAS's kernel family (null: as installed, autodetected). */
function runTorch(py: string, m: ModelCase, threads: number, runs: number, core: string | null): StepResult {
  console.error(`- torch ${m.name} ${threads} thread(s), OpenBLAS ${core ?? 'autodetected'} ...`);
  const cfg = { ...m.spec, rank: m.lora.rank, targets: m.lora.targets, threads, runs, batch: BATCH };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_WAIT_POLICY: 'PASSIVE',
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    OPENBLAS_VERBOSE: '2',
  };
  if (core) env.OPENBLAS_CORETYPE = core;
  else delete env.OPENBLAS_CORETYPE;
  const r = spawnSync(py, ['-c', TORCH_TRAIN_SCRIPT, JSON.stringify(cfg)], { encoding: 'utf8', timeout: 30 * 60_000, env });
  const detected = /Core: (\w+)/.exec(r.stderr ?? '')?.[1] ?? core ?? '?';
  if (r.status !== 0)
    return {
      engine: 'torch',
      model: m.name,
      lora: '',
      processes: 1,
      threads,
      microBatch: BATCH,
      secondsPerStep: null,
      steps: [],
      peakRssBytes: [],
      notes: [],
      error: r.stderr.trim().split('\n').slice(-2).join(' '),
    };
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { steps: number[]; peakRssBytes: number; version: string; blas: string };
  console.error(`  ${median(o.steps).toFixed(2)} s/step`);
  return {
    engine: `torch ${o.version} (${o.blas} ${detected}${core ? '' : ', as installed'})`,
    model: m.name,
    lora: `r${m.lora.rank} ${m.lora.targets.join(',')}`,
    processes: 1,
    threads,
    microBatch: BATCH,
    secondsPerStep: median(o.steps),
    steps: o.steps,
    peakRssBytes: [o.peakRssBytes],
    notes: [],
  };
}

async function memoryProbes(): Promise<void> {
  const { probeTrainingMemory } = await import('../src/ml/training/parallel/memoryProbe');
  const out: unknown[] = [];
  for (const blas of [true, false]) {
    if (!blas) process.env.CYTOTUNE_BLAS = 'off';
    for (const m of [VIT_B16, VIT_L14]) {
      for (let micro = 1; micro <= 8; micro++) {
        // As the trainer: ViT-L leaves so little heap that it forces the leaner per-head attention.
        const r = await probeTrainingMemory({
          spec: m.spec,
          lora: m.lora,
          microBatch: micro,
          ...(m === VIT_L14 ? { attention: 'perHead' as const } : {}),
        });
        console.error(
          `${m.name} ${blas ? 'BLAS' : 'XNNPACK'} micro-batch ${micro}: ${r.ok ? 'fits' : 'does not fit'}, heap ${gb(r.heapBytes)} GB (weights ${gb(r.weightsHeapBytes)} GB), peak RSS ${gb(r.peakRssBytes)} GB${r.error ? ` - ${r.error}` : ''}`,
        );
        out.push({ model: m.name, lora: m.lora, matMul: blas ? 'blas' : 'xnnpack', ...r });
        if (!r.ok) break;
      }
    }
    delete process.env.CYTOTUNE_BLAS;
  }
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'train-step-memory.json'),
    JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, loadAverage: loadavg(), probes: out }, null, 2),
  );
  console.log(`wrote ${join(dir, 'train-step-memory.json')}`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--memory')) return memoryProbes();
  const runs = Number(arg('runs', '2'));
  const rows: StepResult[] = [];
  const models = process.argv.includes('--no-vitl') ? [VIT_B16] : [VIT_B16, VIT_L14];
  for (const m of models) {
    // ViT-L steps are ~4x ViT-B's: one timed step for it.
    const r = m === VIT_L14 ? 1 : runs;
    rows.push(runChild({ model: m, processes: 1, runs: r, batch: BATCH, blas: true }, `tfjs-wasm ${m.name}, 1 process`));
    rows.push(runChild({ model: m, processes: 2, runs: r, batch: BATCH, blas: true }, `tfjs-wasm ${m.name}, 2 processes`));
    if (process.argv.includes('--xnnpack'))
      rows.push(
        runChild({ model: m, processes: 1, runs: 1, batch: BATCH, blas: false }, `tfjs-wasm ${m.name}, 1 process, XNNPACK matMuls`),
      );
  }
  let torchNote = 'not run (--no-torch)';
  if (!process.argv.includes('--no-torch')) {
    const py = findTorchPython();
    torchNote = py ?? 'python3-torch not installed';
    // OpenBLAS as installed may misdetect this CPU and run generic SSE3 kernels ("Prescott"):
    // the reference gets the same kernel family our BLAS matMuls use (fair); --torch-as-installed
    // adds a ViT-B row with OpenBLAS's own choice (~1.5 min more here).
    const core = process.env.OPENBLAS_CORETYPE ?? openBlasCoreFor(cpuFlagsText());
    if (py) {
      for (const m of models) for (const t of [1, 2]) rows.push(runTorch(py, m, t, m === VIT_L14 ? 1 : runs, core));
      if (process.argv.includes('--torch-as-installed')) rows.push(runTorch(py, VIT_B16, 1, 1, null));
    }
  }
  console.log(
    `\nLoRA training step, batch ${BATCH}, random weights, CLIP layout, ${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model}, load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    '| engine | model | LoRA | processes x threads | micro-batch | s / step | / torch 1 thr | / torch 2 thr | peak RSS per process (GB) |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const ref = (t: number) =>
      rows.find((x) => x.engine.startsWith('torch') && !x.engine.includes('as installed') && x.model === r.model && x.threads === t)
        ?.secondsPerStep;
    const ratio = (t: number) => (r.secondsPerStep && ref(t) ? `${(r.secondsPerStep / ref(t)!).toFixed(2)}x` : '-');
    const s = r.secondsPerStep !== null ? r.secondsPerStep.toFixed(2) : `n/a: ${r.error}`;
    console.log(
      `| ${r.engine} | ${r.model} | ${r.lora} | ${r.processes} x ${r.threads} | ${r.microBatch ?? '-'} | ${s} | ${ratio(1)} | ${ratio(2)} | ${r.peakRssBytes.map(gb).join(', ')} |`,
    );
  }
  for (const r of rows) for (const n of r.notes) console.log(`  ${r.engine} ${r.model}: ${n}`);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'train-step.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.versions.node,
        cpu: cpus()[0]?.model,
        cores: cpus().length,
        loadAverage: loadavg(),
        batch: BATCH,
        torch: torchNote,
        rows,
      },
      null,
      2,
    ),
  );
  console.log(`wrote ${file}`);
}

/** One tfjs configuration, in its own process: trainLora on random pixels, time per step from progress events. */
async function child(req: ChildRequest): Promise<StepResult> {
  const { selectBackend } = await import('../src/ml/backend/selectBackend');
  const { createRandomEncoder } = await import('../src/ml/models/randomEncoder');
  const { ImageBatcher } = await import('../src/ml/data/imageBatcher');
  const { pipelineFromOptions } = await import('../src/ml/data/imagePipeline');
  const { trainLora } = await import('../src/ml/training/loraTrainer');
  const { resolveSettings } = await import('../src/shared/training');
  const { peakRssBytes } = await import('../src/ml/training/parallel/rss');
  const { Rng } = await import('../src/ml/random');
  const choice = await selectBackend({ only: 'wasm' });
  const blas = choice.blas && 'info' in choice.blas ? `BLAS ${choice.blas.info.library}` : 'XNNPACK';
  const base: StepResult = {
    engine: `tfjs-wasm + ${blas}`,
    model: req.model.name,
    lora: `r${req.model.lora.rank} ${req.model.lora.targets.join(',')}`,
    processes: req.processes,
    threads: 1,
    microBatch: null,
    secondsPerStep: null,
    steps: [],
    peakRssBytes: [],
    notes: [],
  };
  const enc = createRandomEncoder(req.model.spec, 0);
  const steps = req.runs + 1;
  const items = Array.from({ length: steps * req.batch }, (_, i) => ({ path: `random-${i}`, label: i % 10 }));
  // Random 256 x 256 pixels per item: the real preprocessing (bicubic random resized crop) still runs.
  const decode = async (key: string) => {
    const rng = new Rng(Number(key.split('-')[1]) + 1);
    const data = new Uint8Array(256 * 256 * 3).map(() => rng.int(256));
    return { width: 256, height: 256, data };
  };
  const batcher = new ImageBatcher(
    pipelineFromOptions({ size: 224, mean: enc.config.mean, std: enc.config.std }),
    undefined,
    decode as never,
  );
  const settings = resolveSettings({
    steps,
    batchSize: req.batch,
    microBatchSize: req.batch,
    warmupSteps: 1,
    lr: 1e-3,
    checkpointEvery: 0,
    seed: 1,
    processes: req.processes,
    lora: { ...req.model.lora, dropout: 0.25 },
  });
  const marks: number[] = [];
  let workerRss: number[] = [];
  try {
    const out = await trainLora({
      encoder: enc,
      items,
      numClasses: 10,
      batcher,
      settings,
      source: { kind: 'random', spec: req.model.spec, seed: 0 },
      onProgress: () => marks.push(performance.now()),
      onWorkers: (w) => (workerRss = w.map((x, i) => Math.max(x.peakRssBytes, workerRss[i] ?? 0))),
    });
    out.model.dispose();
    const times = marks.slice(1).map((t, i) => (t - marks[i]) / 1000);
    const blasThreads = choice.blas && 'info' in choice.blas ? choice.blas.info.threads : 1;
    return {
      ...base,
      threads: req.processes > 1 ? Math.max(1, Math.floor(cpus().length / req.processes)) : blasThreads,
      microBatch: out.execution?.microBatchSize ?? null,
      secondsPerStep: median(times),
      steps: times,
      peakRssBytes: [peakRssBytes(), ...workerRss],
      notes: out.execution?.notes ?? [],
    };
  } catch (err) {
    const e = err as Error & { kind?: string };
    return { ...base, peakRssBytes: [peakRssBytes()], error: `${e.kind ?? 'error'}: ${e.message}` };
  } finally {
    enc.dispose();
  }
}

if (process.argv[1] === self) {
  const i = process.argv.indexOf('--child');
  if (i >= 0) console.log(JSON.stringify(await child(JSON.parse(process.argv[i + 1]) as ChildRequest)));
  else await main();
}
