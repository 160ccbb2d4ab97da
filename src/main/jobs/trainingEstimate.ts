// What a training run will take, shown before it starts: the labels it will use (the plan), its
// length in steps (the same formulas the trainer uses), a speed and the minutes that follow, and
// the warnings a cytotechnician should see first (a class with two training images validates on
// one). The speed is measured on this computer: by a speed check (a few real steps of the run,
// worker/jobs/speedJob.ts) or earlier runs of the model; until then it is estimated from the
// model's size (forward FLOPs) and the wasm backend's measured rate.
import { availableParallelism, hostname } from 'node:os';
import { median } from '../../shared/median';
import { ApiError } from '../../shared/api';
import type { ModelRecord, PlanClass, TrainingEstimate } from '../../shared/domain';
import type { SpeedJobResult } from '../../shared/jobs';
import { loraSteps, PAPER_DEFAULTS, resolveSettings, type TrainSettings } from '../../shared/training';
import type { Project } from '../project/project';
import { planTraining } from './trainingPlan';

/** A training run as the workstation asks for it (runs:start): model, method, classes, settings. */
export interface TrainingRequest {
  modelId: number;
  method: 'lora' | 'linear';
  classIds: number[];
  seed?: number;
  settings?: Partial<Pick<TrainSettings, 'lr' | 'steps' | 'batchSize' | 'microBatchSize' | 'epochs'>> & {
    rank?: number;
    alpha?: number;
    targets?: ('q' | 'k' | 'v' | 'o')[];
  };
}

/** The run's settings as the worker will get them (the rest from the paper's defaults). */
export function trainSettingsFor(req: TrainingRequest, seed: number): Partial<TrainSettings> {
  const s = req.settings ?? {};
  return {
    method: req.method,
    seed,
    lr: s.lr,
    steps: s.steps ?? null,
    batchSize: s.batchSize,
    microBatchSize: s.microBatchSize ?? Math.min(s.batchSize ?? PAPER_DEFAULTS.train.batchSize, 8),
    epochs: s.epochs,
    lora: { rank: s.rank, alpha: s.alpha, targets: s.targets } as TrainSettings['lora'],
  };
}

/** Labels per class for a validation of min(shots, 4) = 4 images (validationCount). */
const WELL_VALIDATED = 8;
/** Effective tfjs wasm rate on a ViT (compute-measurements.md: 16-17 GFLOP/s, forward and backward). */
const WASM_GFLOPS = 16;
const FASTEST_IMAGES_PER_SECOND = 200;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function trainingWarnings(classes: PlanClass[]): { warnings: string[]; problems: string[] } {
  const warnings: string[] = [];
  const problems: string[] = [];
  for (const c of classes) {
    const n = c.train + c.val;
    if (n === 0) problems.push(`"${c.name}" has no labels yet: label a few cells of it first.`);
    else if (n < WELL_VALIDATED)
      warnings.push(
        `${c.name}: only ${c.train} training and ${plural(c.val, 'validation image')}; label ${WELL_VALIDATED - n} more for a validation of 4.`,
      );
  }
  const labelled = classes.filter((c) => c.train + c.val > 0);
  if (labelled.length >= 2) {
    const sorted = [...labelled].sort((a, b) => b.train + b.val - (a.train + a.val));
    const [big, small] = [sorted[0], sorted[sorted.length - 1]];
    if (big.train + big.val >= 10 * (small.train + small.val))
      warnings.push(
        `Unbalanced: ${big.name} has ${plural(big.train + big.val, 'label')}, ${small.name} ${small.train + small.val}; the model will favour ${big.name}.`,
      );
  }
  return { warnings, problems };
}

/** Images per second for training (LoRA: forward and backward) and for frozen forward passes. */
interface Speed {
  train: number;
  forward: number;
  source: 'measured' | 'model size';
}

/** The newest speed check (a few timed steps, jobs 'speed') of this model and method on this computer. */
export function measuredSpeedJob(project: Project, modelId: number, method: 'lora' | 'linear'): SpeedJobResult | null {
  for (const job of project.jobs.list()) {
    if (job.kind !== 'speed' || job.status !== 'completed' || !job.result) continue;
    const r = job.result;
    if (r.modelId === modelId && r.method === method && r.host === hostname() && r.imagesPerSecond > 0) return r;
  }
  return null;
}

/** From a speed check or the last runs of this model and method on this computer, when there are any. */
function measuredSpeed(project: Project, modelId: number, method: 'lora' | 'linear'): Speed | null {
  const checked = measuredSpeedJob(project, modelId, method);
  // LoRA's evaluation is forward passes only: about twice its training rate.
  if (checked)
    return { train: checked.imagesPerSecond, forward: (method === 'lora' ? 2 : 1) * checked.imagesPerSecond, source: 'measured' };
  const runs = project.runs
    .list()
    .filter((r) => r.modelId === modelId && r.config.method === method)
    .slice(0, 5);
  for (const run of runs) {
    if (method === 'lora') {
      const rates = project.runs
        .metrics(run.id)
        .map((m) => m.imagesPerSecond)
        .filter((v): v is number => v !== null && v > 0);
      if (rates.length >= 3) {
        const train = median(rates);
        return { train, forward: 2 * train, source: 'measured' };
      }
    } else if (run.status === 'completed') {
      // The probe's time is its forward passes: features of the training images, then evaluation.
      const seconds = Number((run.metrics as { seconds?: number } | null)?.seconds);
      const classes = (run.config.classes as PlanClass[] | undefined) ?? [];
      const images = classes.reduce((s, c) => s + 2 * c.train + c.val, 0);
      if (seconds > 0 && images > 0) return { train: images / seconds, forward: images / seconds, source: 'measured' };
    }
  }
  return null;
}

/** From the model's size: forward FLOPs per image = 2 x parameters x tokens. */
function sizeSpeed(model: ModelRecord): Speed {
  const params = Number(model.config.parameterCount) || 86e6;
  const image = Number(model.config.imageSize) || 224;
  const patch = Number(model.config.patchSize) || 16;
  const flops = 2 * params * ((image / patch) ** 2 + 1);
  const forward = Math.min(FASTEST_IMAGES_PER_SECOND, (WASM_GFLOPS * 1e9) / flops);
  // Backward costs about one more forward; LoRA trains with one gradient process per core.
  const cores = Math.max(1, availableParallelism());
  const train = Math.min(FASTEST_IMAGES_PER_SECOND, (forward / 2) * (cores > 1 ? 0.8 * cores : 1));
  return { train, forward, source: 'model size' };
}

export function estimateTraining(project: Project, req: TrainingRequest): TrainingEstimate {
  const model = project.models.list().find((m) => m.id === req.modelId);
  if (!model) throw new ApiError('not-found', `No foundation model with id ${req.modelId}; add one first.`);
  const seed = req.seed ?? PAPER_DEFAULTS.train.seed;
  const plan = planTraining(project, req.classIds, seed, { allowEmpty: true });
  const s = resolveSettings(trainSettingsFor(req, seed));
  const trainImages = plan.train.length;
  const valImages = plan.val.length;
  const batches = Math.max(1, Math.ceil(trainImages / s.batchSize));
  const steps = s.method === 'lora' ? loraSteps(s, trainImages) : (s.steps ?? s.epochs * batches);
  const speed = measuredSpeed(project, model.id, s.method) ?? sizeSpeed(model);
  const evaluation = (trainImages + valImages) / speed.forward;
  const seconds =
    s.method === 'lora'
      ? (steps * (trainImages / batches)) / speed.train + evaluation
      : trainImages / speed.forward + evaluation + steps * 0.002;
  const { warnings, problems } = trainingWarnings(plan.classes);
  if (seconds > 8 * 3600) warnings.push(`About ${Math.round(seconds / 3600)} hours on this computer: try the Quick preset first.`);
  return {
    classes: plan.classes,
    warnings,
    problems,
    trainImages,
    valImages,
    steps,
    batchSize: s.batchSize,
    imagesPerSecond: s.method === 'lora' ? speed.train : speed.forward,
    speedSource: speed.source,
    seconds: Math.round(seconds + 5),
  };
}
