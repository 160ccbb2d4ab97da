// Batch classification with a trained run, the one core of the workstation's classify job and
// of `cytotune classify`: each image's detected cells as cell-centred squares, a slide as a grid
// of patches on tissue (Otsu mask of an overview), or an image as one patch. Patches are read
// and preprocessed in threads into reused batch buffers while the engine runs the batch before
// (batchClassify.ts); predictions stream out in chunks (each one transaction in main).
import { tissueMask, tissuePatches } from '../../shared/tissueGrid';
import { openSlide } from '../../slides/slideOpener';
import { slideThumbnail } from '../../slides/patches';
import { selectBackend } from '../backend/selectBackend';
import { sha256File } from '../adapters/baseIdentity';
import { availableParallelism } from 'node:os';
import { readRunConfig, readRunMetrics } from '../training/runDir';
import { loadTrainedModel } from '../training/trainedModel';
import { classifyItems, defaultPrepThreads } from './batchClassify';
import { classificationEngine } from './int8Check';
import type {
  BackendName,
  ClassifyJobResult,
  ClassifyJobSpec,
  ClassifyTarget,
  PatchItem,
  PatchPrediction,
  WorkerProgress,
} from '../../shared/jobs';
import type { Box } from '../../shared/image';

const overviewSide = 1024;

export interface ClassifyOptions {
  signal?: AbortSignal;
  onProgress?: (p: WorkerProgress) => void;
  /** Where the run's base checkpoint is now, when it moved (default: the path config.json records). */
  checkpoint?: string;
  /** Only this tfjs backend (default: the best one available). */
  backend?: BackendName;
  /** Which engine classified and why, once known. */
  log?: (line: string) => void;
  /** The next predictions, in order, as they are made (they are then not in the result). */
  onPredictions?: (chunk: PatchPrediction[]) => void;
}

/** Predictions go out in chunks of this many: each chunk is one transaction in main. */
export const PREDICTION_CHUNK = 512;

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

export async function classifyTargets(spec: ClassifyJobSpec, o: ClassifyOptions = {}): Promise<ClassifyJobResult> {
  const cfg = await readRunConfig(spec.runDir);
  // The int8 agreement check stored at the end of training: lets `auto` classify with int8.
  const int8Check = (await readRunMetrics(spec.runDir))?.int8 ?? null;
  await selectBackend(o.backend ? { only: o.backend } : {});
  const checkpoint = o.checkpoint ?? cfg.checkpoint;
  const sha = await sha256File(checkpoint).catch(() => {
    throw Object.assign(new Error(`base checkpoint ${checkpoint} not found; pass the file where it is now if it moved`), {
      kind: 'not-found',
    });
  });
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
    const { engine, reason } = await classificationEngine(
      {
        engine: spec.engine ?? 'auto',
        checkpoint,
        loadOptions: { family: cfg.encoder.family, heads: cfg.encoder.heads },
        weightsId: `sha256:${sha}`,
        adapter: model.adapter,
        head: model.head,
      },
      int8Check,
    );
    try {
      const c = engine.outputSize;
      const kept: PatchPrediction[] = [];
      let chunk: PatchPrediction[] = [];
      const flush = () => {
        if (chunk.length && o.onPredictions) o.onPredictions(chunk);
        else kept.push(...chunk);
        chunk = [];
      };
      const phase = `classifying on ${engine.name}`;
      const started = performance.now();
      o.onProgress?.({ step: 0, total: items.length, phase });
      const { threads, inferSeconds, waitSeconds } = await classifyItems({
        engine,
        pipeline: cfg.pipeline,
        items,
        batchSize: spec.batchSize ?? engine.maxBatch,
        threads: spec.prepThreads ?? defaultPrepThreads(availableParallelism()),
        signal: o.signal,
        onBatch: (start, probs, m) => {
          for (let i = 0; i < m; i++) chunk.push(predictionOf(owners[start + i], probs.subarray(i * c, (i + 1) * c)));
          if (chunk.length >= PREDICTION_CHUNK) flush();
          const done = start + m;
          const rate = done / ((performance.now() - started) / 1000);
          o.onProgress?.({ step: done, total: items.length, phase, imagesPerSecond: rate, etaSeconds: (items.length - done) / rate });
        },
      });
      flush();
      const seconds = (performance.now() - started) / 1000;
      o.log?.(
        `classified ${items.length} patches in ${seconds.toFixed(1)} s on ${engine.detail}, ${threads} preprocessing thread(s): ${reason}`,
      );
      return {
        predictions: kept,
        count: items.length,
        grids,
        seconds,
        pipeline: { inferSeconds, waitSeconds, threads },
        engine: { name: engine.name, detail: engine.detail, reason },
      };
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
