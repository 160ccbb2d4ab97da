// `cytotune predict`: classify images with a finished training run (LoRA merged + head), one CSV
// row per image to --csv or stdout, plus top-1 accuracy when --folder is a labelled ImageFolder.
// The run's base checkpoint is verified by sha256 before anything is predicted.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { selectBackend } from '../../ml/backend/selectBackend';
import { sha256File } from '../../ml/adapters/baseIdentity';
import { predictWithEngine } from '../../ml/inference/enginePaths';
import { ImageBatcher } from '../../ml/data/imageBatcher';
import { pipelineFromOptions } from '../../ml/data/imagePipeline';
import { readRunConfig, readRunMetrics } from '../../ml/training/runDir';
import { UsageError, type Values } from '../args';
import { defineCommand, failure } from '../command';
import { RUN_MODEL_OPTIONS, RUN_MODEL_SYNOPSIS } from '../runOptions';
import type { Io } from '../io';
import { folderLabels, listImages, refuseWholeSlides } from '../predictInputs';
import { accuracyLines, folderAccuracy, toCsv } from '../predictReport';
import { loadTrainedModel } from '../../ml/training/trainedModel';

const OPTIONS = {
  run: { type: 'string', required: true },
  image: { type: 'repeated', greedy: true },
  folder: { type: 'string' },
  csv: { type: 'string' },
  ...RUN_MODEL_OPTIONS,
} as const;

export const command = defineCommand({
  name: 'predict',
  summary: 'classify images with a trained run (CSV; accuracy on a labelled folder)',
  usage:
    'usage: cytotune predict --run RUN_DIR (--image IMG... | --folder DIR) [--csv OUT] ' +
    `${RUN_MODEL_SYNOPSIS}\n` +
    "One CSV row per image: path, predicted class, p_<class> for every class. When DIR has class folders named as the run's classes,\n" +
    'also top-1 accuracy and per-class counts. --checkpoint: where the base model is now, if it moved (checked by sha256).\n' +
    '--engine auto (default) runs ONNX Runtime when installed, else tfjs on --backend. --batch: images per forward pass (32).\n' +
    'Whole-slide files are refused: classify slides per cell or patch in the workstation.',
  options: OPTIONS,
  async main({ values }, io) {
    if (values.image.length > 0 === (values.folder !== undefined)) throw new UsageError('give either --image IMG... or --folder DIR');
    return predict(values, io);
  },
});

export const runPredict = command.run;

async function predict(v: Values<typeof OPTIONS>, io: Io): Promise<number> {
  const folder = v.folder === undefined ? null : resolve(v.folder);
  const paths = folder ? await listImages(folder) : v.image.map((p) => resolve(p));
  // Before the run is read or a model loaded: a slide here is a mistake to name at once.
  await refuseWholeSlides(paths);
  const runDir = resolve(v.run!);
  const cfg = await readRunConfig(runDir);
  if (paths.length === 0) throw failure('no-images', `no images (bmp, png, jpg, tif, webp) in ${v.folder}`);
  await selectBackend(v.backend ? { only: v.backend } : {});
  const checkpoint = resolve(v.checkpoint ?? cfg.checkpoint);
  const sha = await sha256File(checkpoint).catch(() => {
    throw failure('not-found', `base checkpoint ${checkpoint} not found; pass --checkpoint FILE if it moved`);
  });
  const model = await loadTrainedModel(runDir, cfg, sha);
  let p;
  try {
    p = await predictWithEngine({
      engine: v.engine ?? 'auto',
      checkpoint,
      checkpointSha256: sha,
      loadOptions: { family: cfg.encoder.family, heads: cfg.encoder.heads },
      model,
      batcher: new ImageBatcher(pipelineFromOptions(cfg.pipeline)),
      paths,
      batchSize: v.batch ?? 32,
      // The run's stored int8 agreement check: `auto` uses int8 only where it passed.
      int8Check: (await readRunMetrics(runDir))?.int8 ?? null,
    });
  } finally {
    model.dispose();
  }
  const csv = toCsv(paths, p.probabilities, p.predicted, cfg.classNames);
  // With the CSV on stdout, the summary goes to stderr so that stdout stays one CSV file.
  const report = v.csv ? io.out : io.err;
  if (v.csv) {
    await writeFile(resolve(v.csv), csv);
    io.out(`wrote ${paths.length} predictions to ${resolve(v.csv)}`);
  } else {
    io.out(csv.trimEnd());
  }
  if (folder) {
    const labelled = folderLabels(folder, paths, cfg.classNames);
    if ('labels' in labelled) for (const line of accuracyLines(folderAccuracy(labelled.labels, p.predicted, cfg.classNames))) report(line);
    else if (labelled.reason) report(`no accuracy: ${labelled.reason}`);
  }
  report(`engine: ${p.engine}; ${p.engineReason}`);
  return 0;
}
