// Int8 inference (--engine onnx-int8) against fp32 ONNX Runtime, PyTorch fp32 and PyTorch's own
// dynamic int8 (quantize_dynamic on nn.Linear) in the same run, at real ViT-B/16 and ViT-L/14
// sizes with random weights, batch 32; plus how often int8 keeps fp32's top-1 class under a
// random 10-class head, and its largest probability change.
//   node --import tsx bench/int8.ts [--models B,L] [--runsB 3] [--runsL 2] [--threads N] [--no-torch] [--keep] [--out int8.json]
// Each engine is its own long-lived process (bench/onnxServers.ts), timed in alternation run by
// run (A B C D, D C B A, ...) so other jobs on a shared machine slow them alike. Every call
// gets new seeded images (the same sequence for both engines of a framework), so the timed runs
// double as the agreement sample. Prints a table, writes bench/results/int8.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchServer, serveLines } from './onnxServers';
import { chooseOpenBlasCore, findTorchPython, startTorchServer, type TorchModelSpec } from './onnxTorch';
import { agreement, images } from './int8Stats';

const MODELS: Record<string, { name: string; family: 'timm-vit' | 'openai-clip'; spec: TorchModelSpec }> = {
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
const BATCH = 32;
const WARMUP_BATCH = 4; // ORT prepacks weights when the session opens; a small warm-up suffices

type Job =
  | { kind: 'checkpoint'; model: string; path: string }
  | { kind: 'export' | 'serve'; model: string; path: string; cacheDir: string; engine: 'onnx' | 'onnx-int8'; threads: number };

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Forward FLOP per image, and the share in the projections int8 replaces (q, k, v, o, fc1, fc2). */
function flopsPerImage(c: TorchModelSpec): { total: number; linear: number } {
  const g = c.imageSize / c.patchSize;
  const T = g * g + 1;
  const linear = c.depth * (2 * T * c.width * 4 * c.width + 2 * 2 * T * c.width * c.mlpDim);
  const attention = c.depth * 2 * 2 * T * T * c.width;
  const patch = 2 * g * g * 3 * c.patchSize ** 2 * c.width;
  return { total: linear + attention + patch + (c.clip ? 2 * c.width * c.outputDim : 0), linear };
}

/**
 * Nominal peak of this CPU from /proc/cpuinfo: cores x clock x operations per cycle per core.
 * AMD Zen 4 runs AVX-512 on two 256-bit pipes (32 fp32 FLOP, 128 int8 VNNI ops per cycle);
 * Intel AVX-512 server cores have two 512-bit FMA ports (64, and 256 with VNNI); AVX2: 32 / 64.
 */
function peak(): { cores: number; ghz: number; fp32: number; int8: number; basis: string } {
  const info = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = /^flags\s*:(.*)$/m.exec(info)?.[1] ?? '';
  const ghz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1] ?? 0) / 1000;
  const amd = /AuthenticAMD/.test(info);
  const avx512 = / avx512f /.test(`${flags} `);
  const vnni = / avx512_vnni /.test(`${flags} `);
  const [f, i] = avx512 ? (amd ? [32, vnni ? 128 : 64] : [64, vnni ? 256 : 128]) : [32, 64];
  const cores = availableParallelism();
  return {
    cores,
    ghz,
    fp32: cores * ghz * f,
    int8: cores * ghz * i,
    basis: `${cores} cores x ${ghz.toFixed(2)} GHz (cpu MHz of /proc/cpuinfo) x ${f} fp32 FLOP / ${i} int8 ops per cycle (${amd ? 'AMD' : 'Intel'}${avx512 ? ' AVX-512' : ' AVX2'}${vnni ? ' VNNI' : ''})`,
  };
}

async function child(job: Job): Promise<void> {
  const def = MODELS[job.model];
  if (job.kind === 'checkpoint') {
    const { randomStateDict, writeSafetensors } = await import('../src/ml/models/randomEncoder');
    writeSafetensors(job.path, randomStateDict({ family: def.family, ...def.spec }, 0));
    console.log(JSON.stringify({ ok: true }));
    return;
  }
  const { selectBackend } = await import('../src/ml/backend/selectBackend');
  const { createInferenceEngine } = await import('../src/ml/inference/engine');
  await selectBackend({ only: 'wasm' }); // tfjs only reads the checkpoint for the export
  const t = performance.now();
  const engine = await createInferenceEngine({
    engine: job.engine,
    checkpoint: job.path,
    loadOptions: { heads: def.spec.heads },
    cacheDir: job.cacheDir,
    threads: job.threads,
  });
  const ready = { openSeconds: (performance.now() - t) / 1000, detail: engine.detail, info: (engine as { info?: unknown }).info };
  if (job.kind === 'export') {
    await engine.dispose();
    console.log(JSON.stringify({ ...ready, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
    return;
  }
  let calls = 0;
  await serveLines(ready, async (b) => {
    const x = images(++calls, b, def.spec.imageSize);
    const [t0, c0] = [performance.now(), process.cpuUsage()];
    const y = await engine.run(x, b);
    const c = process.cpuUsage(c0); // all of ORT's threads: user + system microseconds
    return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, out: Array.from(y) } as { seconds: number };
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
  if (r.status !== 0 || !last.startsWith('{'))
    throw new Error(
      `${job.kind} ${job.model} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').split('\n').filter(Boolean).slice(-3).join(' | ')}`,
    );
  return JSON.parse(last);
}

interface Row {
  model: string;
  engine: string;
  threads: number;
  seconds: number[];
  /** CPU time of each run (all threads): on a busy shared machine the steadier measure. */
  cpuSeconds: number[];
  imagesPerSecond: number;
  /** Images per CPU-second (median run): the work each engine needs, whatever else runs. */
  imagesPerCpuSecond: number;
  gops: number;
  peakFraction: number;
  maxRssMb: number;
  xOrtFp32?: number;
  xTorchInt8?: number;
  cpuXOrtFp32?: number;
  cpuXTorchInt8?: number;
}

async function main(): Promise<void> {
  const models = arg('models', 'B,L')
    .split(',')
    .filter((m) => MODELS[m]);
  const threads = Number(arg('threads', String(availableParallelism())));
  const root = join(tmpdir(), 'cytotune-bench-int8');
  const cacheDir = join(root, 'cache');
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const py = process.argv.includes('--no-torch') ? null : findTorchPython();
  const core = py ? chooseOpenBlasCore(py) : null;
  const pk = peak();
  const started = performance.now();
  const log = (s: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${s}`);
  const rows: Row[] = [];
  const agreements: Record<string, unknown>[] = [];
  const exports: Record<string, unknown>[] = [];
  const notes = new Set<string>();

  for (const m of models) {
    const def = MODELS[m];
    const runs = Number(arg(`runs${m}`, m === 'L' ? '2' : '3'));
    const path = join(root, `${m}.safetensors`);
    if (!existsSync(path)) oneShot({ kind: 'checkpoint', model: m, path });
    const servers: { engine: string; server: BenchServer; int8: boolean }[] = [];
    for (const engine of ['onnx', 'onnx-int8'] as const) {
      const ex = oneShot({ kind: 'export', model: m, path, cacheDir, engine, threads });
      exports.push({ model: def.name, engine, ...ex });
      log(`${def.name} ${engine}: export + open ${JSON.stringify(ex)}`);
      const job: Job = { kind: 'serve', model: m, path, cacheDir, engine, threads };
      const args = ['--import', 'tsx', import.meta.filename, '--child', JSON.stringify(job)];
      servers.push({
        engine: `ORT ${engine === 'onnx' ? 'fp32' : 'int8'}`,
        server: await BenchServer.start(engine, process.execPath, args),
        int8: engine !== 'onnx',
      });
    }
    if (py && core) {
      for (const int8 of [false, true]) {
        const server = await startTorchServer(py, def.spec, threads, core, { int8, outputs: true });
        if (int8) notes.add(`torch quantized engine ${String(server.ready.qengine)}`);
        servers.push({ engine: `PyTorch ${int8 ? 'int8' : 'fp32'}`, server, int8 });
      }
    }
    for (const s of servers) await s.server.run(WARMUP_BATCH);
    const times = new Map<string, number[]>();
    const cpuTimes = new Map<string, number[]>();
    const outs = new Map<string, number[]>();
    for (let r = 0; r < runs; r++) {
      for (const s of r % 2 ? [...servers].reverse() : servers) {
        const reply = (await s.server.run(BATCH)) as { seconds: number; cpuSeconds: number; out?: number[] };
        times.set(s.engine, [...(times.get(s.engine) ?? []), reply.seconds]);
        cpuTimes.set(s.engine, [...(cpuTimes.get(s.engine) ?? []), reply.cpuSeconds]);
        outs.set(s.engine, [...(outs.get(s.engine) ?? []), ...(reply.out ?? [])]);
        log(`${def.name} ${s.engine} run ${r + 1}: ${reply.seconds.toFixed(2)} s (CPU ${reply.cpuSeconds.toFixed(2)} s)`);
      }
    }
    const flop = flopsPerImage(def.spec);
    for (const s of servers) {
      const { maxRssMb, blas } = (await s.server.quit()) as { maxRssMb: number; blas?: string };
      if (blas) notes.add(`torch BLAS: ${blas}`);
      const secs = times.get(s.engine)!;
      const cpu = cpuTimes.get(s.engine)!;
      const ips = BATCH / median(secs);
      const gops = (flop.total * ips) / 1e9;
      rows.push({
        model: def.name,
        engine: s.engine,
        threads,
        seconds: secs,
        cpuSeconds: cpu,
        imagesPerSecond: ips,
        imagesPerCpuSecond: BATCH / median(cpu),
        gops,
        peakFraction: gops / (s.int8 ? pk.int8 : pk.fp32),
        maxRssMb,
      });
    }
    for (const [a, b] of [
      ['ORT fp32', 'ORT int8'],
      ['PyTorch fp32', 'PyTorch int8'],
    ]) {
      if (outs.get(a)?.length && outs.get(b)?.length)
        agreements.push({ model: def.name, pair: `${b} vs ${a}`, ...agreement(outs.get(a)!, outs.get(b)!, def.spec.outputDim) });
    }
    exports.push({ model: def.name, flopPerImage: flop.total, int8FlopShare: flop.linear / flop.total });
  }

  for (const r of rows) {
    const same = (e: string) => rows.find((x) => x.model === r.model && x.engine === e);
    if (same('ORT fp32')) r.xOrtFp32 = r.imagesPerSecond / same('ORT fp32')!.imagesPerSecond;
    if (same('PyTorch int8')) r.xTorchInt8 = r.imagesPerSecond / same('PyTorch int8')!.imagesPerSecond;
    if (same('ORT fp32')) r.cpuXOrtFp32 = r.imagesPerCpuSecond / same('ORT fp32')!.imagesPerCpuSecond;
    if (same('PyTorch int8')) r.cpuXTorchInt8 = r.imagesPerCpuSecond / same('PyTorch int8')!.imagesPerCpuSecond;
  }
  const f = (x: number | undefined, d = 2) => (x === undefined ? '-' : x.toFixed(d));
  const cpuGops = (r: Row) => (r.gops / r.imagesPerSecond) * r.imagesPerCpuSecond;
  const totalSeconds = (performance.now() - started) / 1000;
  console.log(`\nInt8 inference, random weights, batch ${BATCH}, ${new Date().toISOString()}, ${cpus()[0]?.model}, ${threads} threads`);
  console.log(`peak: fp32 ${pk.fp32.toFixed(0)} GFLOP/s, int8 ${pk.int8.toFixed(0)} GOP/s = ${pk.basis}`);
  console.log(
    '| model | engine | runs | median s / batch | images / s | x ORT fp32 | x PyTorch int8 | GOP/s (model FLOP) | % of peak | images / CPU-s | x ORT fp32 (CPU) | x PyTorch int8 (CPU) | GOP / CPU-s | % of 1-core peak | peak RSS MB |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.model} | ${r.engine} | ${r.seconds.length} | ${f(median(r.seconds), 2)} | ${f(r.imagesPerSecond)} | ${f(r.xOrtFp32)} | ${f(r.xTorchInt8)} | ${f(r.gops, 0)} | ${f(100 * r.peakFraction, 0)} | ${f(r.imagesPerCpuSecond)} | ${f(r.cpuXOrtFp32)} | ${f(r.cpuXTorchInt8)} | ${f(cpuGops(r), 0)} | ${f((100 * cpuGops(r) * pk.cores) / (r.engine.endsWith('int8') ? pk.int8 : pk.fp32), 0)} | ${r.maxRssMb.toFixed(0)} |`,
    );
  console.log(
    '\n| model | pair | images | top-1 agreement (random 10-class head) | max prob diff | embedding rel. error | error / spread across images |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const a of agreements as ({ model: string; pair: string } & ReturnType<typeof agreement>)[])
    console.log(
      `| ${a.model} | ${a.pair} | ${a.n} | ${f(100 * a.top1Agreement, 1)} % | ${f(a.maxProbDiff, 4)} | ${a.embeddingRelError.toExponential(2)} | ${a.errorToSpread.toExponential(2)} |`,
    );
  for (const n of notes) console.log(n);
  console.log(
    `total ${totalSeconds.toFixed(0)} s, load average at end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, arg('out', 'int8.json'));
  const doc = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model,
    threads,
    batch: BATCH,
    peak: pk,
    torch: py,
    openblasCore: core,
    notes: [...notes],
    rows,
    agreements,
    exports,
    totalSeconds,
    loadAverageAtEnd: loadavg(),
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  console.log(`wrote ${file}`);
  if (!process.argv.includes('--keep')) rmSync(root, { recursive: true, force: true });
}

if (process.argv.includes('--child')) await child(JSON.parse(process.argv[process.argv.indexOf('--child') + 1]) as Job);
else await main();
