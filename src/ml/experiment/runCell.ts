// One cell of the grid: train (LoRA through the encoder, or a linear head on cached features),
// then evaluate on the cell's validation items and the full test split. A LoRA cell keeps a
// training checkpoint under OUT/cells/ while it runs, so an interrupted cell resumes where it
// stopped (bit-identical to an uninterrupted run) instead of starting over. A LoRA cell is
// evaluated through an InferenceEngine (ONNX Runtime where installed: its graph, LoRA merged, is
// exported in memory, not cached: one per cell); a linear cell on the cached features, which
// the engine computed.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { argmaxRows, classificationMetrics, type ClassificationMetrics } from '../../shared/metrics';
import { hierarchicalAccuracy } from '../../shared/classes';
import { metricsOfPredictions } from '../eval/evaluate';
import { createInferenceEngine } from '../inference/engine';
import { predictPathsWithEngine } from '../inference/enginePaths';
import type { VitEncoder } from '../models/vit';
import type { EngineChoice } from '../../shared/jobs';
import type { LabeledItem } from '../data/fewShot';
import type { ImageBatcher } from '../data/imageBatcher';
import type { LinearHead } from '../adapters/linearHead';
import { trainLinearProbe } from '../training/linearProbe';
import { trainLora, type TrainOutcome } from '../training/loraTrainer';
import type { TrainProgress } from '../training/trainingLoop';
import { gatherRows, type SplitFeatures } from './featureCache';
import { cellData, cellKey, type Cell } from './grid';
import type { LabelView } from './levelLabels';
import type { ResultRow } from './resultsCsv';
import { resolveSettings, type TrainSettings } from '../../shared/training';
import type { Protocol } from '../../shared/training';

export interface ModelContext {
  label: string;
  encoder: VitEncoder;
  batcher: ImageBatcher;
  /** Cached features of every split (linear-probe cells only). */
  features: () => Promise<SplitFeatures>;
  /** Which engine computed `features` (once they are computed): named in `evaluatedOn`. */
  featuresEngine?: () => string | undefined;
}

export interface GridContext {
  outDir: string;
  labels: LabelView;
  /** Items of each split with labels at the training level. */
  train: LabeledItem[];
  val: LabeledItem[];
  test: LabeledItem[];
  protocol: Protocol;
  microBatch: number;
  /** Engine of LoRA cells' evaluation (default auto: ONNX Runtime fp32 where installed, else tfjs). */
  engine?: EngineChoice;
}

export interface CellHooks {
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
}

export type CellOutcome =
  /** evaluatedOn: the engine of a LoRA cell's evaluation ('onnx', 'tfjs'), or 'features (<engine>)'. */
  { status: 'done'; row: ResultRow; evaluatedOn: string } | { status: 'cancelled'; step: number };

export function cellSettings(cell: Cell, p: Protocol, microBatch: number): TrainSettings {
  return resolveSettings({
    method: cell.method,
    lr: cell.lr,
    seed: cell.seed,
    shots: cell.regime.kind === 'shots' ? cell.regime.value : null,
    nIters: p.iters,
    warmupSteps: p.warmup,
    epochs: p.epochs,
    batchSize: p.batch,
    microBatchSize: microBatch,
    probeAugment: p.probeAugment,
    lora: { rank: p.rank, alpha: p.alpha, targets: p.targets },
  });
}

export function cellCheckpointPath(outDir: string, cell: Cell): string {
  return join(outDir, 'cells', `${cellKey(cell).replace(/\|/g, '__').replace(/=/g, '-')}.ckpt.safetensors`);
}

export async function runCell(cell: Cell, m: ModelContext, ctx: GridContext, hooks: CellHooks = {}): Promise<CellOutcome> {
  const started = performance.now();
  const numClasses = ctx.labels.classNames.length;
  const data = cellData(cell.regime, cell.seed, ctx.train, ctx.val, numClasses);
  const settings = cellSettings(cell, ctx.protocol, ctx.microBatch);
  const base = {
    encoder: m.encoder,
    items: data.train,
    numClasses,
    batcher: m.batcher,
    settings,
    signal: hooks.signal,
    onProgress: hooks.onProgress,
  };
  let outcome: TrainOutcome;
  let features: SplitFeatures | null = null;
  if (cell.method === 'linear') {
    features = await m.features();
    outcome = await trainLinearProbe({
      ...base,
      features: gatherRows(
        features,
        'train',
        data.train.map((it) => it.path),
      ),
    });
  } else {
    outcome = await trainLoraResumable(cell, base, ctx.outDir);
  }
  const model = outcome.model;
  try {
    if (outcome.status === 'cancelled') return { status: 'cancelled', step: outcome.step };
    // Full precision: int8 is for classification after a stored check, not for the study's numbers.
    const engineChoice = ctx.engine === 'onnx-int8' ? 'onnx' : (ctx.engine ?? 'auto');
    const engine = features
      ? null
      : await createInferenceEngine({ engine: engineChoice, encoder: m.encoder, adapter: model.adapter, head: model.head, cacheDir: null });
    const evaluatedOn = engine ? engine.name : `features (${m.featuresEngine?.() ?? 'cached'})`;
    const evaluate = async (split: 'val' | 'test', items: LabeledItem[]): Promise<ClassificationMetrics & { predicted: number[] }> => {
      if (features)
        return evaluateFeatures(
          model.head,
          gatherRows(
            features,
            split,
            items.map((it) => it.path),
          ),
          items,
          numClasses,
        );
      const p = await predictPathsWithEngine(
        engine!,
        m.batcher,
        items.map((it) => it.path),
        { batchSize: ctx.microBatch, signal: hooks.signal },
      );
      return { ...metricsOfPredictions(items, p), predicted: p.predicted };
    };
    let val, test;
    try {
      val = await evaluate('val', data.val);
      test = await evaluate('test', ctx.test);
    } finally {
      await engine?.dispose();
    }
    const h = ctx.labels.hierarchy;
    const levelAcc =
      h && ctx.labels.level
        ? hierarchicalAccuracy(
            h,
            ctx.labels.classNames,
            ctx.test.map((it) => it.label),
            test.predicted,
            ctx.labels.level,
          ).map((l) => l.top1)
        : [];
    return {
      status: 'done',
      evaluatedOn,
      row: {
        ...cell,
        valAcc: val.top1,
        valLoss: val.loss ?? NaN,
        testAcc: test.top1,
        testBalancedAcc: test.balancedAccuracy,
        testLevelAcc: levelAcc,
        seconds: (performance.now() - started) / 1000,
        steps: outcome.step,
        trainImages: data.train.length,
        valImages: data.val.length,
        testImages: ctx.test.length,
        finishedAt: new Date().toISOString(),
      },
    };
  } finally {
    model.dispose();
  }
}

async function trainLoraResumable(cell: Cell, base: Parameters<typeof trainLora>[0], outDir: string): Promise<TrainOutcome> {
  const checkpointPath = cellCheckpointPath(outDir, cell);
  await mkdir(join(outDir, 'cells'), { recursive: true });
  let outcome: TrainOutcome;
  try {
    outcome = await trainLora({ ...base, checkpointPath, resume: existsSync(checkpointPath) });
  } catch (err) {
    // A checkpoint from other settings (or a damaged one) is dropped: the cell starts over.
    const kind = (err as { kind?: string }).kind;
    if (kind !== 'checkpoint-mismatch' && kind !== 'checkpoint-invalid' && kind !== 'weights-file-invalid') throw err;
    await rm(checkpointPath, { force: true });
    outcome = await trainLora({ ...base, checkpointPath, resume: false });
  }
  if (outcome.status === 'completed') await rm(checkpointPath, { force: true });
  return outcome;
}

/** Linear head on cached features: softmax, top-1 and the shared metrics (loss from the probabilities). */
export function evaluateFeatures(
  head: LinearHead,
  x: Float32Array,
  items: LabeledItem[],
  numClasses: number,
): ClassificationMetrics & { predicted: number[] } {
  if (items.length === 0) return { ...classificationMetrics([], [], numClasses), loss: NaN, predicted: [] };
  const probs = tf.tidy(() => tf.softmax(head.apply(tf.tensor2d(x, [items.length, head.inputDim]))).dataSync() as Float32Array);
  const predicted = argmaxRows(probs, numClasses);
  const losses = items.map((it, i) => -Math.log(Math.max(probs[i * numClasses + it.label], 1e-12)));
  return {
    ...classificationMetrics(
      items.map((it) => it.label),
      predicted,
      numClasses,
      losses,
    ),
    predicted,
  };
}
