// Slide classification throughput against the engine's raw throughput, IN THE SAME RUN and
// interleaved (raw, job, raw, job, ..., raw), so both figures see the same load: end to end is
// the classification job itself (patches read from the slide, cropped, resized, normalised in
// the preprocessing threads, batched, run, predictions built), raw is the same engine (same
// graph, same batch size) on a preallocated ready batch. Random weights, a random linear head.
//   node --import tsx bench/classify.ts --cells 2000 [--model small|vit-b] [--engine onnx-int8]
//     every detected cell of a synthetic LBC slide with N planted cells, each classified as a
//     cell-centred square of --patch px; the 50,000-cell slide's time extrapolated
//   node --import tsx bench/classify.ts [--model vit-b] [--patch 224]
//     tissue patches of CMU-1-Small-Region.svs as a grid
//   more: --rounds 2 (jobs), --batch N (default the engine's), --prep-threads N, --raw-images N,
//     --raw-input random (random values instead of the slide's first patches)
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../src/ml/backend/selectBackend';
import { runClassifyJob } from '../src/worker/jobs/classifyJob';
import { patchesOf } from '../src/ml/inference/classifyTargets';
import { PatchPreparer } from '../src/ml/inference/patchPrep';
import { defaultPrepThreads } from '../src/ml/inference/batchClassify';
import { sha256File } from '../src/ml/adapters/baseIdentity';
import { randomStateDict, writeSafetensors } from '../src/ml/models/randomEncoder';
import { checkpointConfig, createInferenceEngine, parseEngineChoice, type InferenceEngine } from '../src/ml/inference/engine';
import { saveHead } from '../src/ml/adapters/headFile';
import { LinearHead } from '../src/ml/adapters/linearHead';
import { RUN_FILES, writeJson, type RunConfig } from '../src/ml/training/runDir';
import { loadTrainedModel } from '../src/ml/training/trainedModel';
import { herlevDir, repoRoot, slidePath, tempDir } from '../test/support/paths';
import { generateSyntheticLbcSlide } from '../scripts/synthetic-lbc-slide';
import { detectCells } from '../src/slides/cells';
import { openSlide } from '../src/slides/slideOpener';
import type { ClassifyTarget, WorkerProgress } from '../src/shared/jobs';
import { resolveSettings } from '../src/shared/training';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const MODELS = {
  // ViT-Ti/16 layout at 224 px: quick runs; the pipeline's share of the time is largest here.
  small: { family: 'openai-clip', imageSize: 224, patchSize: 16, width: 192, depth: 12, heads: 3, outputDim: 256 },
  'vit-b': { family: 'openai-clip', imageSize: 224, patchSize: 16, width: 768, depth: 12, heads: 12, outputDim: 512 },
} as const;
const modelName = arg('model', 'small') as keyof typeof MODELS;
if (!MODELS[modelName]) throw new Error(`--model must be ${Object.keys(MODELS).join(' or ')}`);
const engineChoice = parseEngineChoice(arg('engine', 'onnx-int8'));
const cellCount = Number(arg('cells', '0'));
const patchSize = Number(arg('patch', cellCount ? '96' : '224'));
const rounds = Math.max(1, Number(arg('rounds', '2')));
const prepThreads = Number(arg('prep-threads', String(defaultPrepThreads(availableParallelism()))));

await selectBackend();
const dir = tempDir('cytotune-bench-classify-');
// A fresh graph cache: the warm-up below exports the graph, every timed run then finds it.
process.env.CYTOTUNE_ONNX_CACHE = join(dir, 'onnx-cache');
const checkpoint = join(dir, `${modelName}.safetensors`);
writeSafetensors(checkpoint, randomStateDict(MODELS[modelName], 1));
const sha = await sha256File(checkpoint);
const config = checkpointConfig(checkpoint);

// A trained run without training: a random linear head on the frozen encoder (a linear probe's shape).
const classNames = ['a', 'b', 'c'];
const pipeline = {
  kind: 'bicubic' as const,
  size: 224,
  mean: config.mean,
  std: config.std,
  scale: [0.7, 1] as [number, number],
  flip: true,
};
const newHead = LinearHead.create(config.outputDim, classNames.length, 1);
await saveHead(join(dir, RUN_FILES.head), newHead, {
  baseSha256: sha,
  family: config.family,
  width: config.width,
  classNames,
  preprocessing: pipeline,
});
newHead.dispose();
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

// The raw engine: the job's graph (same checkpoint, head, cache key), created the way the job creates it.
const model = await loadTrainedModel(dir, run, sha);
const t0 = performance.now();
const engine: InferenceEngine = await createInferenceEngine({
  engine: engineChoice,
  checkpoint,
  loadOptions: { family: config.family, heads: config.heads },
  weightsId: `sha256:${sha}`,
  adapter: model.adapter,
  head: model.head,
});
const exportSeconds = (performance.now() - t0) / 1000;
model.dispose();
const batch = Number(arg('batch', String(engine.maxBatch)));

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

// The raw batch: the slide's first `batch` patches, preprocessed once, so that the engine sees
// the same data as in the job (random values ran it up to 1.4 x slower than real patches here).
const rawInput = new Float32Array(batch * 3 * 224 * 224);
{
  const { boxes } = await patchesOf(target, { runDir: dir, images: [target], patchSize });
  const preparer = new PatchPreparer(pipeline);
  const first = Array.from({ length: batch }, (_, i) => ({ key: `raw${i}`, path: target.path, box: boxes[i % boxes.length] }));
  if (arg('raw-input', 'patches') === 'random') rawInput.forEach((_, i) => (rawInput[i] = Math.random() - 0.5));
  else await preparer.prepare(first, rawInput, 0);
  await preparer.close();
}
await engine.run(rawInput, batch); // first run: ORT's own warm-up

interface Phase {
  round: number;
  phase: 'raw engine' | 'end to end';
  images: number;
  seconds: number;
  imagesPerSecond: number;
  /** CPU time of the whole process per image: what external load does not change. */
  cpuMsPerImage: number;
  /** End to end: the job's wall time including engine creation (a cached graph) and patch listing. */
  jobSeconds?: number;
  /** End to end: seconds the engine ran, and waited for preprocessed batches. */
  engineSeconds?: number;
  waitSeconds?: number;
}
const phases: Phase[] = [];
const cpuOf = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
const rawImages = Number(arg('raw-images', String(Math.max(2 * batch, Math.round((detection?.cells ?? 400) / 4)))));

async function rawPhase(round: number) {
  const n = Math.ceil(rawImages / batch);
  const t = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) await engine.run(rawInput, batch);
  const seconds = (performance.now() - t) / 1000;
  const cpuSeconds = cpuOf(process.cpuUsage(cpu));
  phases.push({
    round,
    phase: 'raw engine',
    images: n * batch,
    cpuMsPerImage: +((1000 * cpuSeconds) / (n * batch)).toFixed(1),
    seconds: +seconds.toFixed(2),
    imagesPerSecond: +((n * batch) / seconds).toFixed(2),
  });
}

let threadsUsed = '';
async function jobPhase(round: number) {
  const t = performance.now();
  // The process's CPU time (every thread: ONNX Runtime's, the preprocessing threads) from the
  // job's first progress report to its last, i.e. over the hot loop.
  let cpu0: NodeJS.CpuUsage | null = null;
  let cpuSeconds = 0;
  const progress = (p: WorkerProgress) => {
    if (p.step === 0) cpu0 = process.cpuUsage();
    else if (p.step === p.total && cpu0) cpuSeconds = cpuOf(process.cpuUsage(cpu0));
  };
  const result = await runClassifyJob(
    { runDir: dir, images: [target], patchSize, batchSize: batch, engine: engineChoice, prepThreads },
    { signal: new AbortController().signal, progress, log: (m) => (threadsUsed = m), cells: () => {} },
  );
  const jobSeconds = (performance.now() - t) / 1000;
  phases.push({
    round,
    phase: 'end to end',
    images: result.count,
    seconds: +result.seconds.toFixed(2),
    imagesPerSecond: +(result.count / result.seconds).toFixed(2),
    cpuMsPerImage: +((1000 * cpuSeconds) / result.count).toFixed(1),
    jobSeconds: +jobSeconds.toFixed(2),
    engineSeconds: +(result.pipeline?.inferSeconds ?? 0).toFixed(2),
    waitSeconds: +(result.pipeline?.waitSeconds ?? 0).toFixed(2),
  });
}

for (let r = 1; r <= rounds; r++) {
  await rawPhase(r);
  await jobPhase(r);
}
await rawPhase(rounds + 1);
const engineName = engine.detail;
await engine.dispose();

const total = (p: Phase['phase']) => {
  const ps = phases.filter((x) => x.phase === p);
  return { images: ps.reduce((a, x) => a + x.images, 0), seconds: ps.reduce((a, x) => a + x.seconds, 0) };
};
const raw = total('raw engine');
const e2e = total('end to end');
const rawRate = raw.images / raw.seconds;
const e2eRate = e2e.images / e2e.seconds;
const jobs = phases.filter((p) => p.phase === 'end to end');
const setupSeconds = jobs.reduce((a, p) => a + (p.jobSeconds! - p.seconds), 0) / jobs.length;
// Each job against the raw phases just before and after it: the ratio under the load it saw.
const perRound = jobs.map((j) => {
  const around = phases.filter((p) => p.phase === 'raw engine' && (p.round === j.round || p.round === j.round + 1));
  const rawAround = around.reduce((a, p) => a + p.images, 0) / around.reduce((a, p) => a + p.seconds, 0);
  return +(j.imagesPerSecond / rawAround).toFixed(3);
});
// Load-proof: CPU time per image, raw over end to end (the pipeline's extra CPU per cell; on a
// machine of its own, where both keep every core busy, the wall-clock ratio comes to this).
const cpuPerImage = (p: Phase['phase']) => {
  const ps = phases.filter((x) => x.phase === p);
  return ps.reduce((a, x) => a + x.cpuMsPerImage * x.images, 0) / ps.reduce((a, x) => a + x.images, 0);
};
const summary = {
  rawImagesPerSecond: +rawRate.toFixed(2),
  endToEndPerSecond: +e2eRate.toFixed(2),
  ratio: +(e2eRate / rawRate).toFixed(3),
  ratioPerRound: perRound,
  cpuRatio: +(cpuPerImage('raw engine') / cpuPerImage('end to end')).toFixed(3),
  jobSetupSeconds: +setupSeconds.toFixed(1),
};

const what = cellCount
  ? `every detected cell (${patchSize}-px cell-centred squares) of a synthetic LBC slide`
  : `${patchSize}-px tissue patches of CMU-1-Small-Region.svs`;
console.log(`\nSlide classification, ${modelName} random weights, ${what}, batch ${batch}, on ${engineName}`);
console.log(`${cpus().length} cores (${cpus()[0]?.model ?? '?'}); ${threadsUsed}`);
console.table(phases);
console.log(
  `end to end ${summary.endToEndPerSecond} patches/s, raw engine ${summary.rawImagesPerSecond} images/s: ratio ${(summary.ratio * 100).toFixed(1)} %` +
    ` (per job against the raw phases around it: ${perRound.map((r) => `${(r * 100).toFixed(1)} %`).join(', ')})`,
);
console.log(
  `CPU time per image: raw ${cpuPerImage('raw engine').toFixed(1)} ms, end to end ${cpuPerImage('end to end').toFixed(1)} ms: ratio ${(summary.cpuRatio * 100).toFixed(1)} %`,
);
let extrapolation: Record<string, number> | null = null;
if (detection) {
  const detectPerMp = detection.seconds / detection.megapixels;
  // A 50,000-cell LBC slide: classification at the measured rate plus the job's set-up, detection
  // at the measured MP/s over the area that holds as many cells at this slide's density.
  const mp50k = (detection.megapixels * 50_000) / Math.max(1, detection.cells);
  extrapolation = {
    cells: 50_000,
    classifyMinutes: +((50_000 / e2eRate + setupSeconds) / 60).toFixed(1),
    detectMinutes: +((mp50k * detectPerMp) / 60).toFixed(1),
  };
  console.log(`detection: ${detection.cells} cells on ${detection.megapixels.toFixed(1)} MP in ${detection.seconds.toFixed(1)} s`);
  console.log(
    `a 50,000-cell slide on this machine: ${extrapolation.detectMinutes} min detection + ${extrapolation.classifyMinutes} min classification`,
  );
}
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
const file = `bench/results/${cellCount ? `classify-cells-${modelName}-${cellCount}` : `classify-${modelName}`}.json`;
writeFileSync(
  join(repoRoot, file),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      model: modelName,
      engine: engineName,
      cores: cpus().length,
      batch,
      prepThreads,
      patchSize,
      graphExportSeconds: +exportSeconds.toFixed(1),
      phases,
      summary,
      detection,
      extrapolation,
    },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${file}`);
