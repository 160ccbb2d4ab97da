// Which int8 projections lose ViT-B's top-1 agreement with fp32, and what keeping them float32
// (or quantizing activations per image: batch 1) costs in speed. Real-size ViT-B/16, random
// weights, the same seeded noise images and random 10-class head as bench/int8.ts; one process,
// one engine at a time, timed in CPU-seconds (all ORT threads), which a loaded machine disturbs
// less than wall time.
//   node --import tsx bench/int8-agreement.ts [--images 96] [--batch 8] [--variants all|a,b] [--threads N] [--out int8-agreement.json]
// Prints a table, writes bench/results/int8-agreement.json.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../src/ml/backend/selectBackend';
import { createInferenceEngine } from '../src/ml/inference/engine';
import type { InferenceEngine } from '../src/ml/inference/engineTypes';
import { loadEncoder } from '../src/ml/models/loadEncoder';
import { randomStateDict, writeSafetensors } from '../src/ml/models/randomEncoder';
import type { Int8Options } from '../src/ml/onnx/quantize';
import { defaultInt8Options } from '../src/ml/onnx/quantize';
import { agreement, images } from './int8Stats';

const SPEC = { family: 'timm-vit' as const, imageSize: 224, patchSize: 16, width: 768, depth: 12, heads: 12, mlpDim: 3072, outputDim: 768 };

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
};

interface Variant {
  name: string;
  int8: Partial<Int8Options>;
  /** Images per engine call (the activations' quantization scale is per call: per tensor). */
  batch?: number;
  /** Not int8 at all: the fp32 engine at this batch (its speed at batch 1). */
  fp32?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'all int8 (default)', int8: {} },
  { name: 'all int8, batch 1 (per-image activation scale)', int8: {}, batch: 1 },
  { name: 'fc2 float32', int8: { float32: ['fc2'] } },
  { name: 'fc1 float32', int8: { float32: ['fc1'] } },
  { name: 'q,k,v float32', int8: { float32: ['qkv'] } },
  { name: 'o float32', int8: { float32: ['o'] } },
  { name: 'last block float32', int8: { float32Blocks: [-1] } },
  { name: 'first block float32', int8: { float32Blocks: [0] } },
  { name: 'first 2 blocks float32', int8: { float32Blocks: [0, 1] } },
  { name: 'fc2 float32, batch 1', int8: { float32: ['fc2'] }, batch: 1 },
  { name: 'per-token activation scale', int8: { activations: 'row' } },
  { name: 'per-token activation scale, batch 1', int8: { activations: 'row' }, batch: 1 },
  { name: 'first block float32, batch 1', int8: { float32Blocks: [0] }, batch: 1 },
  { name: 'first block float32, per-token, batch 1', int8: { float32Blocks: [0], activations: 'row' }, batch: 1 },
  { name: 'first 2 blocks float32, batch 1', int8: { float32Blocks: [0, 1] }, batch: 1 },
  { name: 'fp32 reference at batch 1 (for the ratio)', int8: {}, batch: 1, fp32: true },
];

async function timed(engine: InferenceEngine, x: Float32Array, n: number, batch: number) {
  const per = 3 * SPEC.imageSize ** 2;
  const out = new Float32Array(n * SPEC.outputDim);
  await engine.run(x.subarray(0, per), 1); // warm-up: first-run allocations
  const [t0, c0] = [performance.now(), process.cpuUsage()];
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    out.set(await engine.run(x.subarray(i * per, (i + m) * per), m), i * SPEC.outputDim);
  }
  const c = process.cpuUsage(c0);
  return { out, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
}

async function main(): Promise<void> {
  const n = Number(arg('images', '96'));
  const batch = Number(arg('batch', '8'));
  const threads = Number(arg('threads', String(availableParallelism())));
  const wanted = arg('variants', 'all');
  const variants = wanted === 'all' ? VARIANTS : VARIANTS.filter((v, i) => wanted.split(',').includes(String(i)));
  const root = join(tmpdir(), 'cytotune-bench-int8-agreement');
  mkdirSync(root, { recursive: true });
  const started = performance.now();
  const log = (s: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${s}`);
  const ckpt = join(root, 'B.safetensors');
  writeSafetensors(ckpt, randomStateDict(SPEC, 0)); // the same weights as bench/int8.ts (seed 0)
  await selectBackend({ only: 'wasm' }); // tfjs only holds the weights for the exports
  const encoder = loadEncoder(ckpt, { heads: SPEC.heads });
  // Calls of 4 images, numbered like bench/int8.ts's: the same image sequence.
  const x = new Float32Array(n * 3 * SPEC.imageSize ** 2);
  for (let i = 0; i < n; i += 4) x.set(images(i / 4 + 1, Math.min(4, n - i), SPEC.imageSize), i * 3 * SPEC.imageSize ** 2);
  const base = { encoder, cacheDir: null, threads } as const;
  const fp32 = await createInferenceEngine({ ...base, engine: 'onnx' });
  const ref = await timed(fp32, x, n, batch);
  await fp32.dispose();
  log(`fp32: ${ref.cpuSeconds.toFixed(1)} CPU-s for ${n} images`);
  const rows: Record<string, unknown>[] = [
    { variant: 'fp32 (reference)', batch, images: n, cpuSecondsPerImage: ref.cpuSeconds / n, secondsPerImage: ref.seconds / n },
  ];
  for (const v of variants) {
    const t = performance.now();
    // Each variant spelled out whole (not on top of today's default recipe), one image per call only where it says so.
    const int8: Int8Options = { weightMax: defaultInt8Options().weightMax, ...v.int8 };
    const engine = await createInferenceEngine({ ...base, engine: v.fp32 ? 'onnx' : 'onnx-int8', int8, maxBatch: 32 });
    const exportSeconds = (performance.now() - t) / 1000;
    const r = await timed(engine, x, n, v.batch ?? batch);
    await engine.dispose();
    const a = agreement(ref.out, r.out, SPEC.outputDim);
    const row = {
      variant: v.name,
      batch: v.batch ?? batch,
      images: n,
      cpuSecondsPerImage: r.cpuSeconds / n,
      secondsPerImage: r.seconds / n,
      cpuXFp32: ref.cpuSeconds / r.cpuSeconds,
      exportSeconds,
      ...a,
    };
    rows.push(row);
    log(`${v.name}: ${JSON.stringify(row)}`);
  }
  const f = (x: unknown, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '-');
  console.log(
    `\nInt8 agreement by variant, ViT-B/16 random weights, ${n} noise images, ${new Date().toISOString()}, ${cpus()[0]?.model}, ${threads} threads`,
  );
  console.log(
    '| variant | batch | CPU-s / image | x fp32 (CPU) | top-1 agreement | max prob diff | embedding rel. error | error / spread |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.variant} | ${r.batch} | ${f(r.cpuSecondsPerImage, 3)} | ${f(r.cpuXFp32)} | ${typeof r.top1Agreement === 'number' ? `${(100 * r.top1Agreement).toFixed(1)} %` : '-'} | ${f(r.maxProbDiff, 4)} | ${typeof r.embeddingRelError === 'number' ? r.embeddingRelError.toExponential(2) : '-'} | ${typeof r.errorToSpread === 'number' ? r.errorToSpread.toExponential(2) : '-'} |`,
    );
  const totalSeconds = (performance.now() - started) / 1000;
  console.log(
    `total ${totalSeconds.toFixed(0)} s, load average at end ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, arg('out', 'int8-agreement.json'));
  writeFileSync(
    file,
    JSON.stringify(
      { date: new Date().toISOString(), cpu: cpus()[0]?.model, threads, rows, totalSeconds, loadAverageAtEnd: loadavg() },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${file}`);
  encoder.dispose();
  rmSync(root, { recursive: true, force: true });
}

await main();
