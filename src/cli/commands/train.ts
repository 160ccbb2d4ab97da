// `cytotune train`: fine-tune (LoRA) or probe (linear) a checkpoint on an ImageFolder dataset
// with the paper's protocol, print progress, and write the run folder (config.json, adapter,
// head, metrics.json). Exit 0 on success, 1 on a failure the user can fix, 2 on bad usage.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseTargets } from '../../ml/adapters/loraConfig';
import { remaining, sampleFewShot, validationShots, type LabeledItem } from '../../ml/data/fewShot';
import { scanImageFolder } from '../../ml/data/imageFolder';
import { FAMILY_NAMES } from '../../ml/models/registry';
import { RUN_FILES } from '../../ml/training/runDir';
import type { TrainProgress } from '../../ml/training/trainingLoop';
import { resolveSettings, SettingsError, type TrainSettings } from '../../shared/training';
import { UsageError, type Values } from '../args';
import { defineCommand, failure } from '../command';
import { formatDuration } from '../duration';
import type { Io } from '../io';
import { runLength } from '../runLength';
import { BACKEND_NAMES } from '../../shared/jobs';

const OPTIONS = {
  data: { type: 'string', required: true },
  checkpoint: { type: 'string', required: true },
  method: { type: 'string', choices: ['lora', 'linear'], required: true },
  out: { type: 'string', required: true },
  shots: { type: 'int', min: 1 },
  seed: { type: 'int' },
  rank: { type: 'int', min: 1 },
  alpha: { type: 'number', positive: true },
  targets: { type: 'string' },
  lr: { type: 'number', positive: true },
  iters: { type: 'int', min: 1 },
  steps: { type: 'int', min: 1 },
  epochs: { type: 'int', min: 1 },
  batch: { type: 'int', min: 1 },
  'micro-batch': { type: 'int', min: 1 },
  val: { type: 'string' },
  test: { type: 'string' },
  family: { type: 'string', choices: FAMILY_NAMES },
  heads: { type: 'int', min: 1 },
  backend: { type: 'string', choices: BACKEND_NAMES },
  resume: { type: 'switch' },
  force: { type: 'switch' },
} as const;

type TrainArgs = Values<typeof OPTIONS>;

export const command = defineCommand({
  name: 'train',
  summary: 'fine-tune (LoRA) or probe (linear) a checkpoint on an ImageFolder',
  usage:
    'usage: cytotune train --data DIR --checkpoint FILE --method lora|linear --out RUN_DIR [--shots N] [--seed S] [--rank R] [--alpha A] ' +
    '[--targets q,v] [--lr X] [--iters N | --epochs N | --steps N] [--batch N] [--micro-batch N] [--val DIR] [--test DIR] [--family F] [--heads N] ' +
    '[--backend tensorflow|webgpu|wasm|cpu] [--resume | --force]\n' +
    "Run length (printed at start): LoRA runs the paper's 50 warm-up + iters x shots steps (iters 100; without --shots, batches per epoch\n" +
    "stand in for shots, so --iters N is about N epochs). --epochs N: N passes over the training images (either method; the linear probe's\n" +
    'default is 100). --steps N: exactly N optimiser steps. Give at most one of the three; --iters is LoRA only.\n' +
    'Defaults: lr 1e-3, batch 32, seed 1, rank 2 on q,v. --micro-batch N: images per forward pass (gradient accumulation up to --batch).\n' +
    'An --out folder that holds a run is refused: --force replaces it, --resume continues it.\n' +
    'Ctrl-C stops after the current step and saves a checkpoint; rerun the same command with --resume to continue.',
  options: OPTIONS,
  main: async ({ values }, io) => train(values, checkSettings(values), io),
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
  try {
    return resolveSettings({
      method: a.method,
      shots: a.shots ?? null,
      seed: a.seed,
      lr: a.lr,
      nIters: a.iters,
      epochs: a.epochs,
      batchSize: a.batch,
      microBatchSize: a['micro-batch'] ?? a.batch,
      lora: { rank: a.rank, alpha: a.alpha, targets: a.targets ? parseTargets(a.targets) : undefined },
    });
  } catch (err) {
    if (err instanceof SettingsError || (err as { kind?: string }).kind === 'invalid-lora-config')
      throw new UsageError((err as Error).message);
    throw err;
  }
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
  const train = await scanImageFolder(resolve(a.data!));
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
      backend: a.backend,
      classNames,
      trainItems,
      valItems,
      testItems,
      data: { train: train.root, val: a.val ? resolve(a.val) : null, test: a.test ? resolve(a.test) : null },
      settings: length.settings,
      resume: a.resume,
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
