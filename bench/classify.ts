// Whole-slide classification throughput at ViT-B/16 size (random weights): patches per
// second from slide pixels to predictions (tissue mask, reads, preprocessing, inference),
// against the same engine's raw inference throughput on ready tensors, in the same run.
//   node --import tsx bench/classify.ts [--engine auto|onnx|tfjs] [--patch 224]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../src/ml/backend/selectBackend';
import { runClassifyJob } from '../src/worker/jobs/classifyJob';
import { sha256File } from '../src/ml/adapters/baseIdentity';
import { randomStateDict, writeSafetensors } from '../src/ml/models/randomEncoder';
import { createInferenceEngine, parseEngineChoice } from '../src/ml/inference/engine';
import { saveHead } from '../src/ml/adapters/headFile';
import { LinearHead } from '../src/ml/adapters/linearHead';
import { RUN_FILES, writeJson, type RunConfig } from '../src/ml/training/runDir';
import { repoRoot, slidePath, tempDir } from '../test/support/paths';
import { resolveSettings } from '../src/shared/training';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const engineChoice = parseEngineChoice(arg('engine', 'auto'));
const patchSize = Number(arg('patch', '224'));
const batch = 16;

await selectBackend();
const dir = tempDir('cytotune-bench-classify-');
// A fresh graph cache: the first classification really exports its graph.
process.env.CYTOTUNE_ONNX_CACHE = join(dir, 'onnx-cache');
const checkpoint = join(dir, 'vit-b16.safetensors');
writeSafetensors(
  checkpoint,
  randomStateDict({ family: 'openai-clip', imageSize: 224, patchSize: 16, width: 768, depth: 12, heads: 12, outputDim: 512 }, 1),
);
const sha = await sha256File(checkpoint);

// A trained run without training: a random linear head on the frozen encoder (a linear probe's shape).
const { loadEncoder } = await import('../src/ml/models/loadEncoder');
const encoder = loadEncoder(checkpoint);
const config = encoder.config;
encoder.dispose();
const classNames = ['a', 'b', 'c'];
const pipeline = {
  kind: 'bicubic' as const,
  size: 224,
  mean: config.mean,
  std: config.std,
  scale: [0.7, 1] as [number, number],
  flip: true,
};
const head = LinearHead.create(config.outputDim, classNames.length, 1);
await saveHead(join(dir, RUN_FILES.head), head, {
  baseSha256: sha,
  family: config.family,
  width: config.width,
  classNames,
  preprocessing: pipeline,
});
head.dispose();
const run: RunConfig = {
  format: 'cytotune-run/1',
  method: 'linear',
  checkpoint,
  checkpointSha256: sha,
  encoder: config,
  classNames,
  data: { train: '', val: null, test: null, trainImages: 0, valImages: 0, testImages: 0 },
  settings: resolveSettings({ method: 'linear' }),
  lora: null,
  totalSteps: 0,
  pipeline,
  backend: 'wasm',
};
await writeJson(join(dir, RUN_FILES.config), run);

// Raw: the engine on ready batches (graph export and session opening excluded).
const engine = await createInferenceEngine({ engine: engineChoice, checkpoint, weightsId: `sha256:${sha}` });
const input = new Float32Array(batch * 3 * 224 * 224).map(() => Math.random() - 0.5);
await engine.runAll(input, batch);
const rawRuns = 3;
const t0 = performance.now();
for (let i = 0; i < rawRuns; i++) await engine.runAll(input, batch);
const rawPerSecond = (rawRuns * batch) / ((performance.now() - t0) / 1000);
const engineName = engine.detail;
await engine.dispose();

// End to end: the classification job on the real slide, first with the run's graph not yet
// exported (a first classification with a new run), then again with it cached.
async function classify(label: string) {
  const t1 = performance.now();
  const result = await runClassifyJob(
    {
      runDir: dir,
      images: [{ imageId: 1, path: slidePath, kind: 'slide', width: 2220, height: 2967 }],
      patchSize,
      batchSize: batch,
      engine: engineChoice,
    },
    { signal: new AbortController().signal, progress: () => {}, log: () => {}, cells: () => {} },
  );
  const seconds = (performance.now() - t1) / 1000;
  const patches = result.predictions.length;
  return {
    run: label,
    patches,
    gridPatches: result.grids[0].gridPatches,
    endToEndSeconds: +seconds.toFixed(1),
    endToEndPatchesPerSecond: +(patches / seconds).toFixed(2),
    rawPatchesPerSecond: +rawPerSecond.toFixed(2),
    ratio: +(patches / seconds / rawPerSecond).toFixed(2),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
const rows = [await classify('first (exports the graph)'), await classify('again (graph cached)')];
console.log(
  `\nSlide classification, ViT-B/16 random weights, ${patchSize}-px patches of CMU-1-Small-Region.svs, against raw inference on ${engineName}`,
);
console.table(rows);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/classify.json'), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
