// `cytotune train`: fine-tune (LoRA) or probe (linear) a checkpoint with the paper's protocol on
// an ImageFolder dataset, on pre-processed tensors (--tensor, for equality checks against other
// implementations) or on a project's labels (--project, as the workstation), print progress, and
// write the run folder (config.json, adapter, head, metrics.json, train-log.csv, model-card.md).
// Exit 0 on success, 1 on a failure the user can fix, 2 on bad usage.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseTargets, resolveLoraSpec } from '../../ml/adapters/loraConfig';
import { remaining, sampleFewShot, validationShots, type LabeledItem } from '../../ml/data/fewShot';
import { folderScale } from '../../ml/data/folderScale';
import { scanImageFolder } from '../../ml/data/imageFolder';
import { FAMILY_NAMES } from '../../ml/models/registry';
import { checkpointConfig } from '../../ml/onnx/checkpointConfig';
import { RUN_FILES } from '../../ml/training/runDir';
import { readTensorInput, type TensorInput } from '../../ml/training/tensorInput';
import type { TrainProgress } from '../../ml/training/trainingLoop';
import { resolveSettings, SettingsError, type TrainSettings } from '../../shared/training';
import { UsageError, type Values } from '../args';
import { defineCommand, failure } from '../command';
import { formatDuration } from '../duration';
import type { Io } from '../io';
import { runLength } from '../runLength';
import { BACKEND_NAMES } from '../../shared/jobs';

const OPTIONS = {
  data: { type: 'string' },
  tensor: { type: 'string' },
  labels: { type: 'string' },
  project: { type: 'string' },
  classes: { type: 'list' },
  checkpoint: { type: 'string', required: true },
  method: { type: 'string', choices: ['lora', 'linear'], required: true },
  out: { type: 'string' },
  shots: { type: 'int', min: 1 },
  seed: { type: 'int' },
  rank: { type: 'int', min: 1 },
  alpha: { type: 'number', positive: true },
  dropout: { type: 'number' },
  targets: { type: 'string' },
  lr: { type: 'number', positive: true },
  iters: { type: 'int', min: 0 },
  steps: { type: 'int', min: 0 },
  epochs: { type: 'int', min: 1 },
  batch: { type: 'int', min: 1 },
  'micro-batch': { type: 'int', min: 1 },
  processes: { type: 'int', min: 0 },
  'no-augment': { type: 'switch' },
  'init-adapter': { type: 'string' },
  'init-head': { type: 'string' },
  val: { type: 'string' },
  test: { type: 'string' },
  family: { type: 'string', choices: FAMILY_NAMES },
  heads: { type: 'int', min: 1 },
  activation: { type: 'string', choices: ['gelu', 'quick_gelu'] },
  backend: { type: 'string', choices: BACKEND_NAMES },
  resume: { type: 'switch' },
  force: { type: 'switch' },
} as const;

type TrainArgs = Values<typeof OPTIONS>;

/** What --project training takes: the workstation's own settings (main/jobs/computeService.ts StartTraining). */
const PROJECT_OPTIONS = new Set([
  'project',
  'classes',
  'checkpoint',
  'method',
  'seed',
  'lr',
  'steps',
  'epochs',
  'batch',
  'micro-batch',
  'rank',
  'alpha',
  'targets',
]);

export const command = defineCommand({
  name: 'train',
  summary: 'fine-tune (LoRA) or probe (linear) a checkpoint on an ImageFolder',
  usage:
    'usage: cytotune train (--data DIR | --tensor X.npy --labels FILE | --project FILE [--classes A,B]) --checkpoint FILE --method lora|linear ' +
    '--out RUN_DIR [--shots N] [--seed S] [--rank R] [--alpha A] [--dropout P] [--targets q,v] [--lr X] [--iters N | --epochs N | --steps N] ' +
    '[--batch N] [--micro-batch N] [--processes N] [--no-augment] [--init-adapter FILE] [--init-head FILE] [--val DIR] [--test DIR] [--family F] [--heads N] ' +
    '[--activation gelu|quick_gelu] [--backend tensorflow|webgpu|wasm|cpu] [--resume | --force]\n' +
    "Run length (printed at start): LoRA runs the paper's 50 warm-up + iters x shots steps (iters 100; without --shots, batches per epoch\n" +
    "stand in for shots, so --iters N is about N epochs). --epochs N: N passes over the training images (either method; the linear probe's\n" +
    'default is 100). --steps N: exactly N optimiser steps. Give at most one of the three; --iters is LoRA only.\n' +
    '--steps 0 (or --iters 0) trains nothing and writes the initial adapter and head (seeded, or the --init-* files).\n' +
    'Defaults: lr 1e-3, batch 32, seed 1, rank 2 on q,v, LoRA dropout 0.25. --micro-batch N: images per forward pass (gradient accumulation up to --batch).\n' +
    '--processes N: LoRA gradient worker processes (0, the default: one per core for real-size models on wasm, else 1).\n' +
    '--no-augment: training images get the evaluation transform (no random crop or flip). --init-adapter / --init-head: start from these\n' +
    'files (CytoTune adapter/head files, or plain safetensors with blocks.N.q.lora_A/B and head.weight/bias in PyTorch layout).\n' +
    '--tensor X.npy --labels FILE: pre-processed float32 (N, 3, S, S) rows and one label (class name or index) per line; no augmentation.\n' +
    "--project FILE: the project's labels (slide patches included), trained as the workstation does and recorded in the project (no --out);\n" +
    '  --classes picks classes by name (default: every labelled class).\n' +
    'Every step is written to RUN_DIR/train-log.csv; RUN_DIR/model-card.md says which head count was used and why.\n' +
    'An --out folder that holds a run is refused: --force replaces it, --resume continues it.\n' +
    'Ctrl-C stops after the current step and saves a checkpoint; rerun the same command with --resume to continue.',
  options: OPTIONS,
  main: async ({ values }, io) => {
    const sources = (['data', 'tensor', 'project'] as const).filter((k) => values[k] !== undefined);
    if (sources.length !== 1) throw new UsageError('give one of --data DIR, --tensor X.npy --labels FILE or --project FILE');
    if (values.project !== undefined) return trainProject(values, io);
    if (values.out === undefined) throw new UsageError('--out is required');
    if ((values.tensor === undefined) !== (values.labels === undefined)) throw new UsageError('--tensor and --labels go together');
    if (values.tensor !== undefined && (values.val !== undefined || values.test !== undefined))
      throw new UsageError('--val and --test are folders of images; with --tensor the run is evaluated on its training rows');
    if (values.classes !== undefined) throw new UsageError('--classes picks classes of a --project');
    return train(values, checkSettings(values), io);
  },
});

export const runTrain = command.run;

/** Usage errors that need more than one option to see, then the resolved settings. */
function checkSettings(a: TrainArgs): TrainSettings {
  const lengths = (['iters', 'epochs', 'steps'] as const).filter((k) => a[k] !== undefined);
  if (a.method === 'linear' && a.iters !== undefined) {
    throw new UsageError(
      "--iters sets a LoRA run's length (warm-up + iters x shots); the linear probe trains for --epochs N (default 100)",
    );
  }
  if (lengths.length > 1) throw new UsageError(`${lengths.map((k) => `--${k}`).join(' and ')} both set the run length: give one`);
  if (a.force && a.resume) throw new UsageError('--force replaces the run in --out and --resume continues it: give one');
  if (a.method === 'linear' && (a.dropout !== undefined || a['init-adapter'] !== undefined))
    throw new UsageError(`--${a.dropout !== undefined ? 'dropout' : 'init-adapter'} is for LoRA runs; a linear probe has no adapter`);
  try {
    const settings = resolveSettings({
      method: a.method,
      shots: a.shots ?? null,
      seed: a.seed,
      lr: a.lr,
      nIters: a.iters,
      epochs: a.epochs,
      batchSize: a.batch,
      microBatchSize: a['micro-batch'] ?? a.batch,
      processes: a.processes,
      augment: a['no-augment'] || a.tensor !== undefined ? false : undefined,
      lora: { rank: a.rank, alpha: a.alpha, dropout: a.dropout, targets: a.targets ? parseTargets(a.targets) : undefined },
    });
    // Rank, alpha, dropout and targets are checked now (blocks need the model: trainRun checks them).
    if (a.method === 'lora') resolveLoraSpec(settings.lora, { depth: 1 });
    return settings;
  } catch (err) {
    if (err instanceof SettingsError || (err as { kind?: string }).kind === 'invalid-lora-config')
      throw new UsageError((err as Error).message);
    throw err;
  }
}

/** --project: the workstation's path (trainProject.ts); options it does not take are refused, not ignored. */
async function trainProject(a: TrainArgs, io: Io): Promise<number> {
  const given = (Object.keys(OPTIONS) as (keyof TrainArgs)[]).filter((k) => a[k] !== undefined && a[k] !== false);
  const other = given.filter((k) => !PROJECT_OPTIONS.has(k));
  if (other.length)
    throw new UsageError(
      `${other.map((k) => `--${k}`).join(', ')} cannot be used with --project: it trains as the workstation does (options: ${[
        ...PROJECT_OPTIONS,
      ]
        .filter((k) => k !== 'project')
        .map((k) => `--${k}`)
        .join(', ')})`,
    );
  if (a.method === 'linear' && (a.rank !== undefined || a.targets !== undefined))
    throw new UsageError('--rank and --targets are for LoRA runs');
  let targets;
  try {
    targets = a.targets ? parseTargets(a.targets) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { trainFromProject } = await import('../trainProject');
  return trainFromProject(
    {
      project: a.project!,
      checkpoint: a.checkpoint!,
      method: a.method!,
      classes: a.classes,
      seed: a.seed,
      settings: {
        lr: a.lr,
        steps: a.steps,
        epochs: a.epochs,
        batchSize: a.batch,
        microBatchSize: a['micro-batch'],
        rank: a.rank,
        alpha: a.alpha,
        targets,
      },
    },
    io,
  );
}

/** --tensor X.npy --labels FILE, checked against the model's input size (read from the checkpoint's header only). */
function readTensors(a: TrainArgs, checkpoint: string): TensorInput {
  const loadOptions = { family: a.family, heads: a.heads, activation: a.activation };
  const size = checkpointConfig(checkpoint, loadOptions).imageSize;
  return readTensorInput(resolve(a.tensor!), resolve(a.labels!), size);
}

/** A folder holds a run when it has the files a run starts with (config) or leaves on Ctrl-C (checkpoint). */
function holdsRun(dir: string): string | null {
  for (const f of [RUN_FILES.config, RUN_FILES.checkpoint]) if (existsSync(join(dir, f))) return f;
  return null;
}

async function train(a: TrainArgs, settings: TrainSettings, io: Io): Promise<number> {
  const outDir = resolve(a.out!);
  const checkpoint = resolve(a.checkpoint!);
  const existing = holdsRun(outDir);
  if (existing && !a.force && !a.resume) {
    throw failure(
      'run-exists',
      `${outDir} already holds a training run (${existing}); add --force to replace it, --resume to continue it, or choose another --out`,
    );
  }
  // Data first: a typo in a folder should fail before a model is loaded.
  const tensor = a.tensor !== undefined ? readTensors(a, checkpoint) : null;
  const train = tensor ?? (await scanImageFolder(resolve(a.data!)));
  const classNames = train.classNames;
  const shots = settings.shots;
  const trainItems = shots ? sampleFewShot(train.items, classNames.length, shots, settings.seed) : train.items;
  let valItems: LabeledItem[] = [];
  if (a.val) {
    const val = await scanImageFolder(resolve(a.val), classNames);
    valItems = shots ? sampleFewShot(val.items, classNames.length, validationShots(shots), settings.seed, 'val') : val.items;
  } else if (shots) {
    // No validation folder: hold out min(shots, 4) per class from the unused training images.
    const rest = remaining(train.items, trainItems);
    valItems = classNames.flatMap((_, c) => {
      const pool = rest.filter((it) => it.label === c);
      return pool.length ? sampleFewShot(pool, classNames.length, Math.min(validationShots(shots), pool.length), settings.seed, 'val') : [];
    });
  }
  const testItems = a.test ? (await scanImageFolder(resolve(a.test), classNames)).items : [];
  const length = runLength(settings, trainItems.length, { iters: a.iters, epochs: a.epochs, steps: a.steps });
  io.out(length.line);

  // Replaced only now that the new run's inputs are known to be readable; other files in --out stay.
  if (existing && a.force) await Promise.all(Object.values(RUN_FILES).map((f) => rm(join(outDir, f), { force: true })));
  const ctrl = new AbortController();
  const onSigint = () => ctrl.abort();
  process.once('SIGINT', onSigint);
  try {
    // Imported here, not at the top: it registers tfjs's gradients (seconds), which --help and
    // usage errors should not wait for.
    const { trainRun } = await import('../../ml/training/trainRun');
    const outcome = await trainRun({
      outDir,
      checkpoint,
      family: a.family,
      heads: a.heads,
      activation: a.activation,
      backend: a.backend,
      classNames,
      trainItems,
      valItems,
      testItems,
      data: {
        train: tensor ? `${tensor.file} (labels ${resolve(a.labels!)})` : resolve(a.data!),
        val: a.val ? resolve(a.val) : null,
        test: a.test ? resolve(a.test) : null,
        ...(tensor ? { source: 'tensor' } : {}),
      },
      decode: tensor?.decode,
      pipeline: tensor?.pipeline,
      init: {
        adapter: a['init-adapter'] !== undefined ? resolve(a['init-adapter']) : undefined,
        head: a['init-head'] !== undefined ? resolve(a['init-head']) : undefined,
      },
      settings: length.settings,
      resume: a.resume,
      scale: tensor ? undefined : await folderScale(trainItems.map((t) => t.path)),
      signal: ctrl.signal,
      onProgress: progressPrinter(io),
      log: io.out,
    });
    if (outcome.status === 'cancelled') {
      throw failure('cancelled', `cancelled at step ${outcome.step}/${outcome.totalSteps}; continue with the same command plus --resume`);
    }
    const m = outcome.metrics!;
    const pct = (x: { top1: number } | null) => (x ? `${(100 * x.top1).toFixed(2)} %` : 'n/a');
    io.out(`done in ${m.seconds.toFixed(1)} s: train top-1 ${pct(m.train)}, val ${pct(m.val)}, test ${pct(m.test)}; wrote ${outDir}`);
    return 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** Prints about 20 progress lines per run (and the first and last step). */
export function progressPrinter(io: Io): (p: TrainProgress) => void {
  return (p) => {
    const total = p.totalSteps;
    const every = Math.max(1, Math.round(total / 20));
    if (p.step !== 1 && p.step !== total && p.step % every !== 0) return;
    io.out(
      `step ${p.step}/${p.totalSteps} epoch ${p.epoch} loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(1)}% ` +
        `lr ${p.lr.toExponential(2)} ${p.imagesPerSecond.toFixed(1)} img/s ETA ${formatDuration(p.etaSeconds)}`,
    );
  };
}
