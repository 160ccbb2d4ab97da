// Whole-slide classification throughput at ViT-B/16 size (random weights): patches per
// second from slide pixels to predictions (tissue mask or detected cells, reads,
// preprocessing, inference), against the same engine's raw inference throughput on ready
// tensors, in the same run.
//   node --import tsx bench/classify.ts [--engine auto|onnx|onnx-int8|tfjs] [--patch 224]
//   node --import tsx bench/classify.ts --cells 2000 [--engine onnx-int8] [--patch 96]
//     every detected cell of a synthetic LBC slide with N planted cells, each classified as a
//     cell-centred square; extrapolated to a 50,000-cell slide.
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
import { herlevDir, repoRoot, slidePath, tempDir } from '../test/support/paths';
import { generateSyntheticLbcSlide } from '../scripts/synthetic-lbc-slide';
import { detectCells } from '../src/slides/cells';
import { openSlide } from '../src/slides/slideOpener';
import type { ClassifyTarget } from '../src/shared/jobs';
import { resolveSettings } from '../src/shared/training';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const engineChoice = parseEngineChoice(arg('engine', 'auto'));
const cellCount = Number(arg('cells', '0'));
const patchSize = Number(arg('patch', cellCount ? '96' : '224'));
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

// The target: the real slide as a tissue grid, or every detected cell of a synthetic LBC slide.
const target: ClassifyTarget = { imageId: 1, path: slidePath, kind: 'slide', width: 2220, height: 2967 };
let detection: { cells: number; seconds: number; megapixels: number } | null = null;
if (cellCount) {
  const slide = await generateSyntheticLbcSlide({ out: join(dir, 'lbc.tiff'), cells: cellCount, seed: 1, sourceDir: herlevDir, mpp: 0.5 });
  const reader = await openSlide(slide.path);
  const t = performance.now();
  const found = await detectCells(reader, {}, {});
  reader.close();
  detection = { cells: found.detections.length, seconds: (performance.now() - t) / 1000, megapixels: (slide.width * slide.height) / 1e6 };
  Object.assign(target, {
    path: slide.path,
    width: slide.width,
    height: slide.height,
    cells: found.detections.map((c, i) => ({ id: i + 1, x: c.x, y: c.y })),
    cellSide: patchSize,
  });
}

// End to end: the classification job, first with the run's graph not yet exported (a first
// classification with a new run), then again with it cached.
async function classify(label: string) {
  const t1 = performance.now();
  const result = await runClassifyJob(
    {
      runDir: dir,
      images: [target],
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
const what = cellCount
  ? `every detected cell (${patchSize}-px cell-centred squares) of a synthetic LBC slide`
  : `${patchSize}-px patches of CMU-1-Small-Region.svs`;
console.log(`\nSlide classification, ViT-B/16 random weights, ${what}, against raw inference on ${engineName}`);
console.table(rows);
let extrapolation: Record<string, number> | null = null;
if (detection) {
  const perCell = 1 / rows[1].endToEndPatchesPerSecond;
  const detectPerMp = detection.seconds / detection.megapixels;
  // A 50,000-cell LBC slide: classification at the measured rate, detection at the measured MP/s
  // over the area that holds as many cells at this slide's density.
  const mp50k = (detection.megapixels * 50_000) / Math.max(1, detection.cells);
  extrapolation = {
    cells: 50_000,
    classifyMinutes: +((50_000 * perCell) / 60).toFixed(1),
    detectMinutes: +((mp50k * detectPerMp) / 60).toFixed(1),
  };
  console.log(`detection: ${detection.cells} cells on ${detection.megapixels.toFixed(1)} MP in ${detection.seconds.toFixed(1)} s`);
  console.log(
    `a 50,000-cell slide on this machine: ${extrapolation.detectMinutes} min detection + ${extrapolation.classifyMinutes} min classification`,
  );
}
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(
  join(repoRoot, `bench/results/${cellCount ? 'classify-cells' : 'classify'}.json`),
  JSON.stringify({ date: new Date().toISOString(), engine: engineName, rows, detection, extrapolation }, null, 2),
);
