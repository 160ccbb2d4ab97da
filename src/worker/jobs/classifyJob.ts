// Batch classification with a trained run: a slide's detected cells, a whole slide as a grid of
// patches on tissue (Otsu mask of an overview), or an image as one patch. One job per request:
// patches are prepared in threads while the engine runs (batchClassify.ts), progress reports
// patches/s and time left, and predictions stream to main in chunks it stores one transaction
// each (without a `predictions` sink, e.g. in the benchmark, they come back in the result).
import { tissueMask, tissuePatches } from '../../shared/tissueGrid';
import { openSlide } from '../../slides/slideOpener';
import { slideThumbnail } from '../../slides/patches';
import { selectBackend } from '../../ml/backend/selectBackend';
import { sha256File } from '../../ml/adapters/baseIdentity';
import { readRunConfig } from '../../ml/training/runDir';
import type { JobContext } from './registry';
import { availableParallelism } from 'node:os';
import { createInferenceEngine } from '../../ml/inference/engine';
import { classifyItems, defaultPrepThreads } from './batchClassify';
import type { ClassifyJobResult, ClassifyJobSpec, ClassifyTarget, PatchItem, PatchPrediction } from '../../shared/jobs';
import type { Box } from '../../shared/image';
import { loadTrainedModel } from '../../ml/training/trainedModel';

const overviewSide = 1024;

/** A cell-centred square of `side` level-0 pixels (it may reach past the edge: outside is background). */
export function cellBox(cell: { x: number; y: number }, side: number): Box {
  return { x: Math.round(cell.x - side / 2), y: Math.round(cell.y - side / 2), w: side, h: side };
}

/** The patches to classify on one image: its detected cells, tissue patches of a slide, or the whole image. */
export async function patchesOf(
  target: ClassifyTarget,
  spec: ClassifyJobSpec,
): Promise<{ boxes: Box[]; grid: number; cellIds?: number[] }> {
  if (target.cells) {
    const side = target.cellSide ?? spec.patchSize;
    return { boxes: target.cells.map((c) => cellBox(c, side)), grid: target.cells.length, cellIds: target.cells.map((c) => c.id) };
  }
  if (target.kind === 'image') return { boxes: [{ x: 0, y: 0, w: target.width, h: target.height }], grid: 1 };
  const reader = await openSlide(target.path);
  try {
    const overview = await slideThumbnail(reader, overviewSide);
    const mask = tissueMask({ ...overview, downsample: target.width / overview.width });
    const stride = spec.stride ?? spec.patchSize;
    const grid = Math.floor((target.width - spec.patchSize) / stride + 1) * Math.floor((target.height - spec.patchSize) / stride + 1);
    return { boxes: tissuePatches(mask, target.width, target.height, spec.patchSize, stride, spec.minTissue ?? 0.25), grid };
  } finally {
    reader.close();
  }
}

/** Predictions go to main in chunks of this many: each chunk is one transaction there. */
export const PREDICTION_CHUNK = 512;

export async function runClassifyJob(spec: ClassifyJobSpec, ctx: JobContext): Promise<ClassifyJobResult> {
  const cfg = await readRunConfig(spec.runDir);
  await selectBackend();
  const sha = await sha256File(cfg.checkpoint);
  const model = await loadTrainedModel(spec.runDir, cfg, sha);
  try {
    const items: PatchItem[] = [];
    const owners: { imageId: number; box: Box; cellId?: number }[] = [];
    const grids: ClassifyJobResult['grids'] = [];
    for (const target of spec.images) {
      const { boxes, grid, cellIds } = await patchesOf(target, spec);
      grids.push({ imageId: target.imageId, gridPatches: grid, tissuePatches: boxes.length });
      const whole = target.kind === 'image' && !cellIds;
      boxes.forEach((box, i) => {
        items.push({ key: `${target.imageId}:${i}`, path: target.path, box: whole ? null : box });
        owners.push({ imageId: target.imageId, box, ...(cellIds ? { cellId: cellIds[i] } : {}) });
      });
    }
    const engine = await createInferenceEngine({
      engine: spec.engine ?? 'auto',
      checkpoint: cfg.checkpoint,
      loadOptions: { family: cfg.encoder.family, heads: cfg.encoder.heads },
      weightsId: `sha256:${sha}`,
      adapter: model.adapter,
      head: model.head,
    });
    try {
      const c = engine.outputSize;
      const kept: PatchPrediction[] = [];
      let chunk: PatchPrediction[] = [];
      const flush = () => {
        if (chunk.length && ctx.predictions) ctx.predictions(chunk);
        else kept.push(...chunk);
        chunk = [];
      };
      const started = performance.now();
      ctx.progress({ step: 0, total: items.length, phase: 'classifying' });
      const { threads, inferSeconds, waitSeconds } = await classifyItems({
        engine,
        pipeline: cfg.pipeline,
        items,
        batchSize: spec.batchSize ?? engine.maxBatch,
        threads: spec.prepThreads ?? defaultPrepThreads(availableParallelism()),
        signal: ctx.signal,
        onBatch: (start, probs, m) => {
          for (let i = 0; i < m; i++) chunk.push(predictionOf(owners[start + i], probs.subarray(i * c, (i + 1) * c)));
          if (chunk.length >= PREDICTION_CHUNK) flush();
          const done = start + m;
          const rate = done / ((performance.now() - started) / 1000);
          ctx.progress({
            step: done,
            total: items.length,
            phase: 'classifying',
            imagesPerSecond: rate,
            etaSeconds: (items.length - done) / rate,
          });
        },
      });
      flush();
      const seconds = (performance.now() - started) / 1000;
      ctx.log(`classified ${items.length} patches in ${seconds.toFixed(1)} s on ${engine.detail}, ${threads} preprocessing thread(s)`);
      return { predictions: kept, count: items.length, grids, seconds, pipeline: { inferSeconds, waitSeconds, threads } };
    } finally {
      await engine.dispose();
    }
  } finally {
    model.dispose();
  }
}

function predictionOf(owner: { imageId: number; box: Box; cellId?: number }, p: Float32Array): PatchPrediction {
  let classIndex = 0;
  let entropy = 0;
  for (let k = 0; k < p.length; k++) {
    if (p[k] > p[classIndex]) classIndex = k;
    if (p[k] > 0) entropy -= p[k] * Math.log(p[k]);
  }
  return { ...owner, classIndex, probabilities: Array.from(p), entropy };
}
