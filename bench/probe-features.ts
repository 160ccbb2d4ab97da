// One linear-probe cell's feature extraction (what the experiment grid and `cytotune train
// --method linear` compute before fitting the head): the same images (train through the seeded
// training augmentation, val and test through the evaluation transform) embedded by tfjs
// (embedItems, the old path) and by the InferenceEngine on ONNX Runtime (the path now taken),
// in one process, alternated, with the features compared. Real Herlev cells from test/fixtures,
// ViT-B/16 at real size with random weights (or --model S: ViT-S/16).
//   node --import tsx bench/probe-features.ts [--images 24] [--model B|S] [--rounds 2] [--out probe-features.json]
// Prints a table, writes bench/results/probe-features.json.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../src/ml/backend/selectBackend';
import { ImageBatcher } from '../src/ml/data/imageBatcher';
import { pipelineFromOptions, pipelineOptionsFor } from '../src/ml/data/imagePipeline';
import { scanImageFolder } from '../src/ml/data/imageFolder';
import { embedItems } from '../src/ml/eval/embedItems';
import { createInferenceEngine } from '../src/ml/inference/engine';
import { embedPathsWithEngine } from '../src/ml/inference/enginePaths';
import { loadEncoder } from '../src/ml/models/loadEncoder';
import { randomStateDict, writeSafetensors } from '../src/ml/models/randomEncoder';
import { hashSeed } from '../src/ml/random';

const MODELS = {
  B: {
    name: 'ViT-B/16',
    spec: { family: 'timm-vit' as const, imageSize: 224, patchSize: 16, width: 768, depth: 12, heads: 12, mlpDim: 3072, outputDim: 768 },
  },
  S: {
    name: 'ViT-S/16',
    spec: { family: 'timm-vit' as const, imageSize: 224, patchSize: 16, width: 384, depth: 12, heads: 6, mlpDim: 1536, outputDim: 384 },
  },
};

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
};

async function main(): Promise<void> {
  const n = Number(arg('images', '24'));
  const rounds = Number(arg('rounds', '2'));
  const model = MODELS[arg('model', 'B') as keyof typeof MODELS] ?? MODELS.B;
  const root = join(tmpdir(), 'cytotune-bench-probe-features');
  mkdirSync(root, { recursive: true });
  const ckpt = join(root, 'model.safetensors');
  writeSafetensors(ckpt, randomStateDict(model.spec, 0));
  const backend = await selectBackend(); // tfjs's best here, as a training run would pick
  const encoder = loadEncoder(ckpt, { heads: model.spec.heads });
  const batcher = new ImageBatcher(pipelineFromOptions(pipelineOptionsFor(encoder.config, { augment: true })));
  const ds = await scanImageFolder(join(import.meta.dirname, '../test/fixtures/data/herlev-40px'));
  const paths = ds.items.slice(0, n).map((it) => it.path);
  // A cell's split: the first half as training images (augmented once, seeded), the rest evaluated plainly.
  const half = Math.ceil(n / 2);
  const seeds = paths.slice(0, half).map((p) => hashSeed('probe-augment', p));
  const batchSize = 16;
  const extract = async (embed: (p: string[], o: { batchSize: number; augmentSeeds?: number[] }) => Promise<Float32Array>) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const train = await embed(paths.slice(0, half), { batchSize, augmentSeeds: seeds });
    const rest = await embed(paths.slice(half), { batchSize });
    const c = process.cpuUsage(c0);
    const out = new Float32Array(train.length + rest.length);
    out.set(train);
    out.set(rest, train.length);
    return { out, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
  };
  const t = performance.now();
  const engine = await createInferenceEngine({ engine: 'onnx', encoder, cacheDir: null });
  const exportSeconds = (performance.now() - t) / 1000;
  const paths2 = {
    tfjs: (p: string[], o: { batchSize: number; augmentSeeds?: number[] }) => embedItems(encoder, undefined, batcher, p, o),
    onnx: (p: string[], o: { batchSize: number; augmentSeeds?: number[] }) => embedPathsWithEngine(engine, batcher, p, o),
  };
  // Warm-up: tfjs kernels compile, ORT allocates its arenas.
  await paths2.tfjs(paths.slice(0, 1), { batchSize });
  await paths2.onnx(paths.slice(0, 1), { batchSize });
  const times: Record<'tfjs' | 'onnx', { seconds: number; cpuSeconds: number }[]> = { tfjs: [], onnx: [] };
  let outs: Record<'tfjs' | 'onnx', Float32Array> | null = null;
  for (let r = 0; r < rounds; r++) {
    const order: ('tfjs' | 'onnx')[] = r % 2 ? ['onnx', 'tfjs'] : ['tfjs', 'onnx'];
    const got: Partial<Record<'tfjs' | 'onnx', Float32Array>> = {};
    for (const k of order) {
      const e = await extract(paths2[k]);
      times[k].push({ seconds: e.seconds, cpuSeconds: e.cpuSeconds });
      got[k] = e.out;
      console.error(`round ${r + 1} ${k}: ${e.seconds.toFixed(1)} s (CPU ${e.cpuSeconds.toFixed(1)} s)`);
    }
    outs ??= got as Record<'tfjs' | 'onnx', Float32Array>;
  }
  await engine.dispose();
  let num = 0;
  let den = 0;
  for (let i = 0; i < outs!.tfjs.length; i++) {
    num += (outs!.tfjs[i] - outs!.onnx[i]) ** 2;
    den += outs!.tfjs[i] ** 2;
  }
  const best = (k: 'tfjs' | 'onnx') => Math.min(...times[k].map((x) => x.seconds));
  const bestCpu = (k: 'tfjs' | 'onnx') => Math.min(...times[k].map((x) => x.cpuSeconds));
  const doc = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model,
    model: model.name,
    images: n,
    tfjsBackend: backend.candidate,
    onnx: engine.detail,
    exportSeconds,
    times,
    imagesPerSecond: { tfjs: n / best('tfjs'), onnx: n / best('onnx') },
    speedUp: best('tfjs') / best('onnx'),
    cpuSpeedUp: bestCpu('tfjs') / bestCpu('onnx'),
    featureRelDiff: Math.sqrt(num / den),
    loadAverageAtEnd: loadavg(),
  };
  console.log(`\nOne linear-probe cell's features: ${n} Herlev cells, ${model.name} random weights, ${doc.date}, ${doc.cpu}`);
  console.log('| path | best s | images / s | best CPU-s |');
  console.log('|---|---:|---:|---:|');
  console.log(
    `| tfjs embedItems (${backend.candidate}) | ${best('tfjs').toFixed(2)} | ${doc.imagesPerSecond.tfjs.toFixed(2)} | ${bestCpu('tfjs').toFixed(1)} |`,
  );
  console.log(
    `| InferenceEngine: ${engine.detail} | ${best('onnx').toFixed(2)} | ${doc.imagesPerSecond.onnx.toFixed(2)} | ${bestCpu('onnx').toFixed(1)} |`,
  );
  console.log(
    `speed-up ${doc.speedUp.toFixed(2)} x (CPU time ${doc.cpuSpeedUp.toFixed(2)} x); graph export ${exportSeconds.toFixed(1)} s once per checkpoint (then cached); features differ by ${doc.featureRelDiff.toExponential(1)} relative`,
  );
  console.log(
    `load average at end ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, arg('out', 'probe-features.json'));
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  console.log(`wrote ${file}`);
  encoder.dispose();
  rmSync(root, { recursive: true, force: true });
}

await main();
