// Batch classification with a trained run, the one core of the workstation's classify job and
// of `cytotune classify`: each image's detected cells as cell-centred squares, a slide as a grid
// of patches on tissue (Otsu mask of an overview), or an image as one patch. Patches of the next
// batch are read while the current one runs through the model.
import { tissueMask, tissuePatches } from '../../shared/tissueGrid';
import { openSlide } from '../../slides/slideOpener';
import { slideThumbnail } from '../../slides/patches';
import { selectBackend } from '../backend/selectBackend';
import { sha256File } from '../adapters/baseIdentity';
import { ImageBatcher } from '../data/imageBatcher';
import { pipelineFromOptions } from '../data/imagePipeline';
import { PatchSource } from '../data/patchSource';
import { readRunConfig, readRunMetrics } from '../training/runDir';
import { loadTrainedModel } from '../training/trainedModel';
import { predictWithEngine } from './enginePaths';
import type { BackendName, ClassifyJobResult, ClassifyJobSpec, ClassifyTarget, WorkerProgress } from '../../shared/jobs';
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
}

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
  const source = new PatchSource();
  try {
    const model = await loadTrainedModel(spec.runDir, cfg, sha);
    try {
      // No decoded-image cache: a slide has thousands of patches, each read once.
      const batcher = new ImageBatcher(pipelineFromOptions(cfg.pipeline), 0, source.read);
      const keys: string[] = [];
      const owners: { imageId: number; box: Box; cellId?: number }[] = [];
      const grids: ClassifyJobResult['grids'] = [];
      for (const target of spec.images) {
        const { boxes, grid, cellIds } = await patchesOf(target, spec);
        grids.push({ imageId: target.imageId, gridPatches: grid, tissuePatches: boxes.length });
        const whole = target.kind === 'image' && !cellIds;
        boxes.forEach((box, i) => {
          keys.push(source.add({ key: `${target.imageId}:${i}`, path: target.path, box: whole ? null : box }));
          owners.push({ imageId: target.imageId, box, ...(cellIds ? { cellId: cellIds[i] } : {}) });
        });
      }
      const started = performance.now();
      let phase = 'classifying';
      o.onProgress?.({ step: 0, total: keys.length, phase });
      const p = await predictWithEngine({
        engine: spec.engine ?? 'auto',
        checkpoint,
        checkpointSha256: sha,
        loadOptions: { family: cfg.encoder.family, heads: cfg.encoder.heads },
        model,
        int8Check,
        batcher,
        paths: keys,
        batchSize: spec.batchSize ?? 16,
        signal: o.signal,
        onEngine: (name) => (phase = `classifying on ${name}`),
        onBatch: (done, total) => {
          const rate = done / ((performance.now() - started) / 1000);
          o.onProgress?.({ step: done, total, phase, imagesPerSecond: rate, etaSeconds: (total - done) / rate });
        },
      });
      const c = p.numClasses;
      const predictions = owners.map((own, i) => {
        const probabilities = Array.from(p.probabilities.subarray(i * c, (i + 1) * c));
        const entropy = -probabilities.reduce((s, q) => s + (q > 0 ? q * Math.log(q) : 0), 0);
        return { ...own, classIndex: p.predicted[i], probabilities, entropy };
      });
      o.log?.(`classified on ${p.engine}: ${p.engineReason}`);
      return { predictions, grids, engine: { name: p.engineName, detail: p.engine, reason: p.engineReason } };
    } finally {
      model.dispose();
    }
  } finally {
    await source.close();
  }
}
