// `cytotune predict`: classify images with a finished training run (LoRA merged + head), one
// CSV row per image (path, predicted class, one probability column per class), to --csv or
// stdout. The run's base checkpoint is verified by sha256 before anything is predicted.
import { readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend, type BackendName } from '../backend/selectBackend';
import { sha256File } from '../lora/baseIdentity';
import { parseEngineChoice } from '../onnx/engine';
import { predictWithEngine } from '../onnx/enginePaths';
import { ImageBatcher } from '../train/imageBatcher';
import { pipelineFromOptions } from '../train/imagePipeline';
import { loadTrainedModel, readRunConfig } from '../train/runDir';
import type { CommandIo } from './train';

export const PREDICT_USAGE = 'usage: cytotune predict --run RUN_DIR (--image IMG... | --folder DIR) [--csv OUT] [--checkpoint FILE] [--batch N] [--engine auto|tfjs|onnx|onnx-int8] [--backend wasm|cpu|tensorflow]';

const IMAGE_EXT = /\.(bmp|png|jpe?g|tiff?|webp)$/i;

class UsageError extends Error {}

export async function runPredict(argv: string[], io: CommandIo): Promise<number> {
  let a;
  try {
    a = parseArgs({
      args: argv,
      options: {
        run: { type: 'string' },
        image: { type: 'string', multiple: true },
        folder: { type: 'string' },
        csv: { type: 'string' },
        checkpoint: { type: 'string' },
        batch: { type: 'string' },
        engine: { type: 'string' },
        backend: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      // `--image a.png b.png`: extra values after --image arrive as positionals.
      allowPositionals: true,
    });
    if (a.values.help) {
      io.out(PREDICT_USAGE);
      return 0;
    }
    if (!a.values.run) throw new UsageError('--run is required');
    if (a.positionals.length && !a.values.image) throw new UsageError(`unexpected argument "${a.positionals[0]}"`);
    if (!a.values.image === !a.values.folder) throw new UsageError('give either --image IMG... or --folder DIR');
    if (a.values.batch !== undefined && !(Number.isInteger(Number(a.values.batch)) && Number(a.values.batch) > 0)) throw new UsageError('--batch expects a positive integer');
    if (a.values.backend && !['wasm', 'cpu', 'tensorflow'].includes(a.values.backend)) throw new UsageError('--backend must be wasm, cpu or tensorflow');
  } catch (err) {
    io.err(`cytotune predict: ${(err as Error).message.split('\n')[0]}`);
    io.err(PREDICT_USAGE);
    return 2;
  }
  const v = a.values;
  try {
    const runDir = resolve(v.run!);
    const cfg = await readRunConfig(runDir);
    const paths = v.folder ? await listImages(resolve(v.folder)) : [...v.image!, ...a.positionals].map((p) => resolve(p));
    if (paths.length === 0) {
      io.err(`cytotune predict: no images (bmp, png, jpg, tif, webp) in ${v.folder}`);
      return 1;
    }
    await selectBackend(v.backend ? { only: v.backend as BackendName } : {});
    const checkpoint = resolve(v.checkpoint ?? cfg.checkpoint);
    const sha = await sha256File(checkpoint).catch(() => {
      throw Object.assign(new Error(`base checkpoint ${checkpoint} not found; pass --checkpoint FILE if it moved`), { kind: 'not-found' });
    });
    {
      const model = await loadTrainedModel(runDir, cfg, sha);
      try {
        const batcher = new ImageBatcher(pipelineFromOptions(cfg.pipeline));
        const p = await predictWithEngine({
          engine: parseEngineChoice(v.engine),
          checkpoint,
          checkpointSha256: sha,
          loadOptions: { family: cfg.encoder.family, heads: cfg.encoder.heads },
          model,
          batcher,
          paths,
          batchSize: v.batch ? Number(v.batch) : 32,
        });
        const csv = toCsv(paths, p.probabilities, p.predicted, cfg.classNames);
        if (v.csv) {
          await writeFile(resolve(v.csv), csv);
          io.out(`wrote ${paths.length} predictions to ${resolve(v.csv)}`);
        } else {
          io.out(csv.trimEnd());
        }
        return 0;
      } finally {
        model.dispose();
      }
    }
  } catch (err) {
    const e = err as Error & { kind?: string };
    if (e.kind) {
      io.err(`cytotune predict: ${e.message.split('\n')[0]}`);
      return 1;
    }
    throw err;
  }
}

async function listImages(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    throw Object.assign(new Error(`${dir}: folder not found`), { kind: 'not-found' });
  }
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && IMAGE_EXT.test(e.name))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toCsv(paths: string[], probs: Float32Array, predicted: number[], classNames: string[]): string {
  const c = classNames.length;
  const lines = [['path', 'predicted', ...classNames.map((n) => `p_${n}`)].map(csvField).join(',')];
  paths.forEach((p, i) => {
    const row = [csvField(p), csvField(classNames[predicted[i]])];
    for (let k = 0; k < c; k++) row.push(probs[i * c + k].toFixed(6));
    lines.push(row.join(','));
  });
  return lines.join('\n') + '\n';
}
