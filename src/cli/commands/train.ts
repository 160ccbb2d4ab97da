// `cytotune train`: fine-tune (LoRA) or probe (linear) a checkpoint on an ImageFolder dataset
// with the paper's protocol, print progress, and write the run folder (config.json, adapter,
// head, metrics.json). Exit 0 on success, 1 on a failure the user can fix, 2 on bad usage.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTargets } from '../../ml/adapters/loraConfig';
import type { FamilyName } from '../../ml/models/encoder';
import { remaining, sampleFewShot, validationShots, type LabeledItem } from '../../ml/data/fewShot';
import { scanImageFolder } from '../../ml/data/imageFolder';
import { trainRun } from '../../ml/training/trainRun';
import type { TrainProgress } from '../../ml/training/trainingLoop';
import { resolveSettings, type TrainSettings } from '../../shared/training';
import type { BackendName } from '../../shared/jobs';

export interface CommandIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const TRAIN_USAGE =
  'usage: cytotune train --data DIR --checkpoint FILE --method lora|linear --out RUN_DIR [--shots N] [--seed S] [--rank R] [--alpha A] ' +
  '[--targets q,v] [--lr X] [--iters N] [--steps N] [--epochs N] [--batch N] [--micro-batch N] [--val DIR] [--test DIR] [--family F] [--heads N] [--backend wasm|cpu|tensorflow] [--resume]';
const TRAIN_NOTES =
  'LoRA runs 50 + iters x shots optimiser steps (paper: iters 100; ~iters epochs without --shots), or exactly --steps N.\n' +
  'Linear probe: features of the frozen model computed once, head trained for --epochs (100). Defaults: lr 1e-3, batch 32, seed 1, rank 2 on q,v.\n' +
  'Ctrl-C stops after the current step and saves a checkpoint; rerun the same command with --resume to continue.';

class UsageError extends Error {}

const OPTIONS = {
  data: { type: 'string' },
  checkpoint: { type: 'string' },
  method: { type: 'string' },
  out: { type: 'string' },
  shots: { type: 'string' },
  seed: { type: 'string' },
  rank: { type: 'string' },
  alpha: { type: 'string' },
  targets: { type: 'string' },
  lr: { type: 'string' },
  iters: { type: 'string' },
  steps: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  'micro-batch': { type: 'string' },
  val: { type: 'string' },
  test: { type: 'string' },
  family: { type: 'string' },
  heads: { type: 'string' },
  backend: { type: 'string' },
  resume: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function num(v: string | undefined, name: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} expects ${integer ? 'an integer' : 'a number'}, got "${v}"`);
  return n;
}

export async function runTrain(argv: string[], io: CommandIo): Promise<number> {
  let a: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values'];
  let settings: TrainSettings;
  try {
    a = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
    if (a.help) {
      io.out(`${TRAIN_USAGE}\n${TRAIN_NOTES}`);
      return 0;
    }
    for (const req of ['data', 'checkpoint', 'method', 'out'] as const) if (!a[req]) throw new UsageError(`--${req} is required`);
    if (a.method !== 'lora' && a.method !== 'linear') throw new UsageError(`--method must be lora or linear, got "${a.method}"`);
    if (a.backend && !['wasm', 'cpu', 'tensorflow'].includes(a.backend)) throw new UsageError(`--backend must be wasm, cpu or tensorflow`);
    num(a.heads, 'heads', true);
    const shots = num(a.shots, 'shots', true);
    if (shots !== undefined && shots < 1) throw new UsageError('--shots must be at least 1');
    const microBatch = num(a['micro-batch'], 'micro-batch', true);
    settings = resolveSettings({
      method: a.method,
      shots: shots ?? null,
      seed: num(a.seed, 'seed', true),
      lr: num(a.lr, 'lr'),
      nIters: num(a.iters, 'iters', true),
      steps: num(a.steps, 'steps', true) ?? null,
      epochs: num(a.epochs, 'epochs', true),
      batchSize: num(a.batch, 'batch', true),
      microBatchSize: microBatch ?? num(a.batch, 'batch', true),
      lora: { rank: num(a.rank, 'rank', true), alpha: num(a.alpha, 'alpha'), targets: a.targets ? parseTargets(a.targets) : undefined },
    } as Partial<TrainSettings>);
  } catch (err) {
    io.err(`cytotune train: ${(err as Error).message.split('\n')[0]}`);
    io.err(TRAIN_USAGE);
    return 2;
  }
  try {
    return await train(a as Required<typeof a>, settings, io);
  } catch (err) {
    const e = err as Error & { kind?: string };
    if (e.kind) {
      io.err(`cytotune train: ${e.message.split('\n')[0]}`);
      return 1;
    }
    throw err;
  }
}

async function train(a: Record<string, string | boolean | undefined>, s: TrainSettings, io: CommandIo): Promise<number> {
  const outDir = resolve(String(a.out));
  const checkpoint = resolve(String(a.checkpoint));
  // Data first: a typo in a folder should fail before a model is loaded.
  const train = await scanImageFolder(resolve(String(a.data)));
  const classNames = train.classNames;
  const trainItems = s.shots ? sampleFewShot(train.items, classNames.length, s.shots, s.seed) : train.items;
  let valItems: LabeledItem[] = [];
  if (a.val) {
    const val = await scanImageFolder(resolve(String(a.val)), classNames);
    valItems = s.shots ? sampleFewShot(val.items, classNames.length, validationShots(s.shots), s.seed, 'val') : val.items;
  } else if (s.shots) {
    // No validation folder: hold out min(shots, 4) per class from the unused training images.
    const rest = remaining(train.items, trainItems);
    valItems = classNames.flatMap((_, c) => {
      const pool = rest.filter((it) => it.label === c);
      return pool.length ? sampleFewShot(pool, classNames.length, Math.min(validationShots(s.shots!), pool.length), s.seed, 'val') : [];
    });
  }
  const testItems = a.test ? (await scanImageFolder(resolve(String(a.test)), classNames)).items : [];

  const ctrl = new AbortController();
  const onSigint = () => ctrl.abort();
  process.once('SIGINT', onSigint);
  try {
    const outcome = await trainRun({
      outDir,
      checkpoint,
      family: a.family ? (a.family as FamilyName) : undefined,
      heads: a.heads ? Number(a.heads) : undefined,
      backend: a.backend ? (a.backend as BackendName) : undefined,
      classNames,
      trainItems,
      valItems,
      testItems,
      data: { train: train.root, val: a.val ? resolve(String(a.val)) : null, test: a.test ? resolve(String(a.test)) : null },
      settings: s,
      resume: Boolean(a.resume),
      signal: ctrl.signal,
      onProgress: progressPrinter(io),
      log: io.out,
    });
    if (outcome.status === 'cancelled') {
      io.err(`cytotune train: cancelled at step ${outcome.step}/${outcome.totalSteps}; continue with the same command plus --resume`);
      return 1;
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
function progressPrinter(io: CommandIo): (p: TrainProgress) => void {
  return (p) => {
    const total = p.totalSteps;
    const every = Math.max(1, Math.round(total / 20));
    if (p.step !== 1 && p.step !== total && p.step % every !== 0) return;
    const eta = p.etaSeconds >= 60 ? `${Math.floor(p.etaSeconds / 60)}m${String(Math.round(p.etaSeconds % 60)).padStart(2, '0')}s` : `${p.etaSeconds.toFixed(0)}s`;
    io.out(`step ${p.step}/${p.totalSteps} epoch ${p.epoch} loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(1)}% lr ${p.lr.toExponential(2)} ${p.imagesPerSecond.toFixed(1)} img/s ETA ${eta}`);
  };
}
