// Inference throughput of the ONNX Runtime path (our TypeScript ONNX export run by
// onnxruntime-node, CPU provider) against tfjs-wasm and Debian's PyTorch + OpenBLAS on the same
// work in the same run, at real ViT-B/16 and ViT-L/14 sizes with random weights.
//   node --import tsx bench/onnx.ts [--models B,L] [--runs1 5] [--runs32 2] [--no-torch] [--no-wasm] [--keep]
// Each engine runs in its own long-lived process (its own peak RSS); engines with the same
// thread count are timed in alternation, run by run (A B B A ...), so load from other jobs on a
// shared machine hits them alike. Prints a table with ratios to PyTorch, writes bench/results/onnx.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchServer, serveLines } from './onnxServers';
import { chooseOpenBlasCore, findTorchPython, startTorchServer, type OpenBlasCore, type TorchModelSpec } from './onnxTorch';

interface ModelDef {
  name: string;
  family: 'timm-vit' | 'openai-clip';
  spec: TorchModelSpec;
}

const MODELS: Record<string, ModelDef> = {
  B: {
    name: 'ViT-B/16',
    family: 'timm-vit',
    spec: { imageSize: 224, patchSize: 16, width: 768, depth: 12, heads: 12, mlpDim: 3072, clip: false, outputDim: 768 },
  },
  L: {
    name: 'ViT-L/14',
    family: 'openai-clip',
    spec: { imageSize: 224, patchSize: 14, width: 1024, depth: 24, heads: 16, mlpDim: 4096, clip: true, outputDim: 768 },
  },
};

/** One-shot jobs (spawnSync) and servers (BenchServer) run by this same file. */
type Job =
  | { kind: 'checkpoint'; model: string; path: string }
  | { kind: 'export'; model: string; path: string; cacheDir: string }
  | { kind: 'serve-onnx'; model: string; path: string; cacheDir: string; threads: number }
  | { kind: 'serve-wasm'; model: string; path: string };

interface Row {
  model: string;
  engine: string;
  threads: number;
  batch: number;
  /** Every timed run (seconds per batch), in alternation with the other engines of its group. */
  seconds: number[];
  medianSeconds: number;
  minSeconds: number;
  /** From the median run; `best` from the fastest run (the least disturbed on a shared machine). */
  imagesPerSecond: number;
  bestImagesPerSecond: number;
  maxRssMb: number;
  ratioToTorchSameThreads?: number;
  ratioToBestTorch?: number;
  bestRatioToBestTorch?: number;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

/** Deterministic pseudo-random input, the same in every process (so outputs can be compared). */
function benchInput(n: number, s: number): Float32Array {
  const out = new Float32Array(n * 3 * s * s);
  let x = 12345;
  for (let i = 0; i < out.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = ((x >>> 8) / 2 ** 24) * 4 - 2;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function child(job: Job): Promise<void> {
  const def = MODELS[job.model];
  const S = def.spec.imageSize;
  const { selectBackend } = await import('../src/ml/backend/selectBackend');
  if (job.kind === 'checkpoint') {
    const { randomStateDict, writeSafetensors } = await import('../src/ml/models/randomEncoder');
    const t = performance.now();
    writeSafetensors(job.path, randomStateDict({ family: def.family, ...def.spec }, 0));
    console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
    return;
  }
  const { createInferenceEngine } = await import('../src/ml/inference/engine');
  // tfjs-wasm runs the model (serve-wasm) or only reads the checkpoint for an ONNX export.
  await selectBackend({ only: 'wasm' });
  const t = performance.now();
  const engine =
    job.kind === 'serve-wasm'
      ? await createInferenceEngine({ engine: 'tfjs', checkpoint: job.path, loadOptions: { heads: def.spec.heads }, maxBatch: 8 })
      : await createInferenceEngine({
          engine: 'onnx',
          checkpoint: job.path,
          loadOptions: { heads: def.spec.heads },
          cacheDir: job.cacheDir,
          threads: job.kind === 'serve-onnx' ? job.threads : 1,
        });
  const ready = { openSeconds: (performance.now() - t) / 1000, detail: engine.detail, info: (engine as { info?: unknown }).info };
  if (job.kind === 'export') {
    await engine.dispose();
    console.log(JSON.stringify({ ...ready, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
    return;
  }
  const inputs = new Map<number, Float32Array>();
  await serveLines(ready, async (b) => {
    if (!inputs.has(b)) inputs.set(b, benchInput(b, S));
    const t0 = performance.now();
    const y = await engine.run(inputs.get(b)!, b);
    const seconds = (performance.now() - t0) / 1000;
    return b === 1 ? { seconds, first: Array.from(y) } : { seconds };
  });
  await engine.dispose();
}

function oneShot(job: Job): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', JSON.stringify(job)], {
    encoding: 'utf8',
    timeout: 20 * 60_000,
    maxBuffer: 64 << 20,
  });
  const last = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) {
    throw new Error(
      `${job.kind} ${job.model} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').split('\n').filter(Boolean).slice(-3).join(' | ')}`,
    );
  }
  return JSON.parse(last);
}

function startNode(label: string, job: Job): Promise<BenchServer> {
  return BenchServer.start(label, process.execPath, ['--import', 'tsx', import.meta.filename, '--child', JSON.stringify(job)]);
}

const maxAbs = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

interface Group {
  threads: number;
  servers: { engine: string; server: BenchServer; batches: number[] }[];
}

/** Warm-up, then every batch size in rounds, alternating the engines' order each round. */
async function timeGroup(
  model: string,
  g: Group,
  runs: Record<number, number>,
  rows: Row[],
  firsts: Record<string, number[]>,
  log: (s: string) => void,
): Promise<string[]> {
  const notes: string[] = [];
  for (const s of g.servers) firsts[`${s.engine}-${g.threads}`] = (await s.server.run(1)).first ?? [];
  const times = new Map<string, number[]>();
  for (const b of [1, 32]) {
    const active = g.servers.filter((s) => s.batches.includes(b));
    for (let r = 0; r < (runs[b] ?? 1); r++) {
      for (const s of r % 2 ? [...active].reverse() : active) {
        const key = `${s.engine}|${b}`;
        if (!times.has(key)) times.set(key, []);
        times.get(key)!.push((await s.server.run(b)).seconds);
      }
    }
  }
  for (const s of g.servers) {
    const { maxRssMb, blas } = (await s.server.quit()) as { maxRssMb: number; blas?: string };
    if (blas) notes.push(blas);
    for (const b of s.batches) {
      const secs = times.get(`${s.engine}|${b}`) ?? [];
      const [med, min] = [median(secs), Math.min(...secs)];
      rows.push({
        model,
        engine: s.engine,
        threads: g.threads,
        batch: b,
        seconds: secs,
        medianSeconds: med,
        minSeconds: min,
        imagesPerSecond: b / med,
        bestImagesPerSecond: b / min,
        maxRssMb,
      });
      log(
        `${model} ${s.engine} ${g.threads}t b${b}: ${(b / med).toFixed(2)} img/s (runs ${secs.map((x) => x.toFixed(2)).join('/')} s), RSS ${maxRssMb.toFixed(0)} MB`,
      );
    }
  }
  return notes;
}

async function main(): Promise<void> {
  const models = arg('models', 'B,L')
    .split(',')
    .filter((m) => MODELS[m]);
  const runs1 = Number(arg('runs1', '5'));
  const runs32 = Number(arg('runs32', '2'));
  const withTorch = !process.argv.includes('--no-torch');
  const withWasm = !process.argv.includes('--no-wasm');
  const root = join(tmpdir(), 'cytotune-bench-onnx');
  const cacheDir = join(root, 'cache');
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const py = withTorch ? findTorchPython() : null;
  const core: OpenBlasCore | null = py ? chooseOpenBlasCore(py) : null;
  const torchSetup = !withTorch
    ? 'skipped (--no-torch)'
    : py
      ? `${py}, OpenBLAS core ${core!.used ?? core!.detected} (detected ${core!.detected})`
      : 'python3-torch not installed';
  const started = performance.now();
  const rows: Row[] = [];
  const exports: Record<string, unknown>[] = [];
  const parity: Record<string, unknown>[] = [];
  const blas = new Set<string>();
  const log = (s: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${s}`);

  for (const m of models) {
    const def = MODELS[m];
    // ViT-L: fewer runs (one timed batch of 32 per engine) keep the whole bench near 10 minutes.
    const runs = m === 'L' ? { 1: Math.min(runs1, 3), 32: Math.min(runs32, 1) } : { 1: runs1, 32: runs32 };
    const path = join(root, `${m}.safetensors`);
    if (!existsSync(path)) log(`${def.name}: random checkpoint ${JSON.stringify(oneShot({ kind: 'checkpoint', model: m, path }))}`);
    const ex = oneShot({ kind: 'export', model: m, path, cacheDir });
    exports.push({ model: def.name, ...ex });
    log(`${def.name}: export + open ${JSON.stringify(ex)}`);
    const firsts: Record<string, number[]> = {};
    for (const threads of [1, 2]) {
      const g: Group = { threads, servers: [] };
      g.servers.push({
        engine: 'onnxruntime',
        server: await startNode(`onnx ${threads}t`, { kind: 'serve-onnx', model: m, path, cacheDir, threads }),
        batches: [1, 32],
      });
      if (py) g.servers.push({ engine: 'pytorch', server: await startTorchServer(py, def.spec, threads, core!), batches: [1, 32] });
      if (withWasm && threads === 1)
        g.servers.push({ engine: 'tfjs-wasm', server: await startNode('tfjs-wasm', { kind: 'serve-wasm', model: m, path }), batches: [1] });
      for (const b of await timeGroup(def.name, g, runs, rows, firsts, log)) blas.add(b);
    }
    if (firsts['tfjs-wasm-1']?.length) {
      const ref = firsts['tfjs-wasm-1'];
      parity.push({
        model: def.name,
        onnxVsTfjsWasmMaxAbs: maxAbs(firsts['onnxruntime-1'], ref),
        onnx2VsOnnx1MaxAbs: maxAbs(firsts['onnxruntime-2'], firsts['onnxruntime-1']),
        embeddingMaxAbs: Math.max(...ref.map(Math.abs)),
      });
    }
  }

  for (const r of rows) {
    const torch = rows.filter((t) => t.engine === 'pytorch' && t.model === r.model && t.batch === r.batch);
    const same = torch.find((t) => t.threads === r.threads);
    if (same) r.ratioToTorchSameThreads = r.imagesPerSecond / same.imagesPerSecond;
    if (torch.length) {
      r.ratioToBestTorch = r.imagesPerSecond / Math.max(...torch.map((t) => t.imagesPerSecond));
      r.bestRatioToBestTorch = r.bestImagesPerSecond / Math.max(...torch.map((t) => t.bestImagesPerSecond));
    }
  }
  const totalSeconds = (performance.now() - started) / 1000;
  const torchInfo = `${torchSetup}${blas.size ? `, BLAS libraries loaded: ${[...blas].join('; ')}` : ''}`;
  const f = (x: number | undefined, d = 2) => (x === undefined ? '-' : x.toFixed(d));
  console.log(
    `\nInference, random weights, ${new Date().toISOString()}, ${availableParallelism()} cores (${cpus()[0]?.model}), torch: ${torchInfo}`,
  );
  console.log(
    '| model | engine | threads | batch | runs | median s / batch | images / s | x PyTorch, same threads | x best PyTorch | images / s, fastest run | x best PyTorch, fastest runs | peak RSS MB |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${r.engine} | ${r.threads} | ${r.batch} | ${r.seconds.length} | ${f(r.medianSeconds, 3)} | ${f(r.imagesPerSecond)} | ${f(r.ratioToTorchSameThreads)} | ${f(r.ratioToBestTorch)} | ${f(r.bestImagesPerSecond)} | ${f(r.bestRatioToBestTorch)} | ${r.maxRssMb.toFixed(0)} |`,
    );
  }
  for (const e of exports) console.log(`export ${e.model}: ${JSON.stringify(e)}`);
  for (const p of parity) console.log(`embedding agreement ${JSON.stringify(p)}`);
  console.log(
    `total ${totalSeconds.toFixed(0)} s, load average at end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'onnx.json');
  const doc = {
    date: new Date().toISOString(),
    node: process.versions.node,
    cores: availableParallelism(),
    cpu: cpus()[0]?.model,
    loadAverageAtEnd: loadavg(),
    torch: torchInfo,
    openblasCore: core,
    models: Object.fromEntries(models.map((m) => [MODELS[m].name, MODELS[m]])),
    rows,
    exports,
    parity,
    totalSeconds,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  console.log(`wrote ${file}`);
  if (!process.argv.includes('--keep')) rmSync(root, { recursive: true, force: true });
}

if (process.argv.includes('--child')) {
  await child(JSON.parse(process.argv[process.argv.indexOf('--child') + 1]) as Job);
} else {
  await main();
}
