// Runs an experiment: split (reused from OUT/split.json), training classes (hierarchical or
// flat), the grid of cells minus those already in results.csv, one model loaded at a time,
// each cell appended to results.csv as it finishes, then summary and plots. Stops scheduling
// new cells past the time budget or when the signal fires, and says what remains.
import { existsSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { sha256File } from '../adapters/baseIdentity';
import type { FamilyName } from '../models/encoder';
import { loadEncoder } from '../models/loadEncoder';
import { DatasetError } from '../data/imageFolder';
import { ImageBatcher } from '../data/imageBatcher';
import { pipelineFromOptions, pipelineOptionsFor } from '../data/imagePipeline';
import type { TrainProgress } from '../training/trainingLoop';
import { resolveSplit } from './dataSplit';
import { checkCompatible, readExperiment, writeExperiment, type ModelRecord } from './experimentFile';
import { probeFeatures, type FeatureEmbedder, type SplitFeatures } from './featureCache';
import { createInferenceEngine } from '../inference/engine';
import { embedPathsWithEngine } from '../inference/enginePaths';
import { buildGrid, cellKey, type Cell } from './grid';
import { labelView } from './levelLabels';
import { writeReport, type ReportFiles } from './report';
import { appendResult, finishedKeys, readResults, RESULTS_FILE, type ResultRow } from './resultsCsv';
import { runCell, type GridContext, type ModelContext } from './runCell';
import { headsExplanation } from '../training/modelCard';
import type { ExperimentOptions } from '../../shared/training';

export type ExperimentEvent =
  | { type: 'info'; message: string }
  | { type: 'features'; model: string; done: number; total: number }
  | { type: 'cell-start'; index: number; total: number; cell: Cell; etaSeconds: number | null }
  | { type: 'cell-progress'; cell: Cell; progress: TrainProgress }
  /** evaluatedOn: the InferenceEngine of the cell's evaluation, or 'features (<engine>)' for a linear probe. */
  | { type: 'cell-done'; index: number; total: number; row: ResultRow; etaSeconds: number | null; evaluatedOn: string }
  | { type: 'cell-cancelled'; cell: Cell; step: number };

export interface ExperimentHooks {
  signal?: AbortSignal;
  onEvent?: (e: ExperimentEvent) => void;
  /** Milliseconds; replaceable so budget tests need not wait (default performance.now). */
  now?: () => number;
}

export interface ExperimentResult {
  status: 'complete' | 'budget' | 'interrupted';
  total: number;
  /** Cells finished, in all runs of this output folder. */
  done: number;
  /** Cells run by this call. */
  ranNow: number;
  remaining: Cell[];
  report: ReportFiles;
}

export async function runExperimentGrid(o: ExperimentOptions, hooks: ExperimentHooks = {}): Promise<ExperimentResult> {
  const now = hooks.now ?? (() => performance.now());
  const started = now();
  const emit = (e: ExperimentEvent) => hooks.onEvent?.(e);
  const outDir = resolve(o.out);
  const root = resolve(o.data);
  // Typos first, before anything is written.
  if (!existsSync(root)) throw new DatasetError(`${root}: folder not found`);
  const missing = o.checkpoints.filter((c) => !existsSync(resolve(c.path)));
  if (missing.length)
    throw Object.assign(new Error(`checkpoint ${missing.map((c) => c.path).join(', ')} not found`), { kind: 'not-found' });
  await mkdir(outDir, { recursive: true });

  const { split, reused } = await resolveSplit(root, outDir, o.split, o.splitSeed);
  emit({
    type: 'info',
    message: `${reused ? 'reusing' : 'wrote'} ${join(outDir, 'split.json')}: train ${split.train.length}, val ${split.val.length}, test ${split.test.length} images`,
  });
  const labels = labelView(split.classNames, o.tree, o.separator, o.protocol.level);
  const protocol = { ...o.protocol, level: labels.level };
  const ctx: GridContext = {
    outDir,
    labels,
    train: labels.relabel(split.train),
    val: labels.relabel(split.val),
    test: labels.relabel(split.test),
    protocol,
    microBatch: o.microBatch,
    engine: o.engine,
  };
  if (ctx.val.length === 0)
    throw new DatasetError(
      `${root}: the validation split is empty, so no learning rate can be chosen; raise the val ratio of --split or add a val/ folder`,
    );

  // Identify every model before running anything: a changed file must not extend old results.
  const shas: Record<string, { sha256: string; path: string }> = {};
  for (const c of o.checkpoints)
    shas[c.label] = {
      sha256: await sha256File(resolve(c.path)).catch(() => {
        throw Object.assign(new Error(`checkpoint ${c.path} not found`), { kind: 'not-found' });
      }),
      path: resolve(c.path),
    };
  const previous = await readExperiment(outDir);
  if (previous) checkCompatible(previous, protocol, labels.classNames, shas);
  const record = previous ?? {
    format: 'cytotune-experiment/1' as const,
    data: root,
    protocol,
    classNames: labels.classNames,
    models: {} as Record<string, ModelRecord>,
  };

  const csv = join(outDir, RESULTS_FILE);
  const rows = await readResults(csv);
  const finished = finishedKeys(rows);
  const cells = buildGrid({
    models: o.checkpoints.map((c) => c.label),
    methods: o.methods,
    shots: o.shots,
    percents: o.percents,
    seeds: o.seeds,
    lrs: o.lrs,
  });
  const pending = cells.filter((c) => !finished.has(cellKey(c)));
  let done = cells.length - pending.length;
  if (done > 0) emit({ type: 'info', message: `${done} of ${cells.length} cells already in ${csv}; running the other ${pending.length}` });

  const eta = etaEstimator();
  let ranNow = 0;
  let status: ExperimentResult['status'] = 'complete';
  const stopReason = (): ExperimentResult['status'] | null => {
    if (hooks.signal?.aborted) return 'interrupted';
    if (o.budgetSeconds !== null && (now() - started) / 1000 >= o.budgetSeconds) return 'budget';
    return null;
  };
  let next = 0;
  outer: for (const ck of o.checkpoints) {
    const mine = pending.filter((c) => c.model === ck.label);
    if (mine.length === 0) continue;
    const stop = stopReason();
    if (stop) {
      status = stop;
      break;
    }
    const encoder = loadEncoder(resolve(ck.path), { family: o.family as FamilyName | undefined, heads: o.heads, activation: o.activation });
    try {
      const cfg = encoder.config;
      record.models[ck.label] = {
        path: shas[ck.label].path,
        sha256: shas[ck.label].sha256,
        family: cfg.family,
        width: cfg.width,
        depth: cfg.depth,
        outputDim: cfg.outputDim,
        imageSize: cfg.imageSize,
      };
      await writeExperiment(outDir, record);
      emit({
        type: 'info',
        message: `model ${ck.label}: ${cfg.family}, width ${cfg.width}, ${cfg.depth} blocks, ${cfg.imageSize} px, embedding ${cfg.outputDim}, ${cfg.activation}; ${headsExplanation(cfg)}`,
      });
      const batcher = new ImageBatcher(pipelineFromOptions(pipelineOptionsFor(cfg)));
      let featuresEngine: string | undefined;
      const loadFeatures = async (label: string, sha: string) => {
        const uniq = (items: { path: string }[]) => [...new Set(items.map((it) => it.path))];
        const paths = { train: uniq(ctx.train), val: uniq(ctx.val), test: uniq(ctx.test) };
        const names = {
          train: paths.train.map((p) => relative(root, p)),
          val: paths.val.map((p) => relative(root, p)),
          test: paths.test.map((p) => relative(root, p)),
        };
        const t0 = now();
        // The fastest engine computes the features (ONNX Runtime where installed, its CUDA
        // provider on a GPU); the graph is cached by the checkpoint's sha256.
        const engine = await createInferenceEngine({ engine: o.engine ?? 'auto', encoder, weightsId: sha });
        const embedder: FeatureEmbedder = {
          name: engine.name,
          dim: engine.config.outputDim,
          embed: (p, eo) => embedPathsWithEngine(engine, batcher, p, eo),
        };
        const r = await probeFeatures(embedder, batcher, join(outDir, 'features', `${label}.safetensors`), {
          paths,
          names,
          checkpointSha256: sha,
          augmentTrain: protocol.probeAugment,
          batchSize: o.microBatch,
          signal: hooks.signal,
          onProgress: (d, t) => emit({ type: 'features', model: label, done: d, total: t }),
        }).finally(() => engine.dispose());
        featuresEngine = r.cached ? 'feature cache' : engine.name;
        emit({
          type: 'info',
          message: `model ${label}: ${r.cached ? 'features read from cache' : `features of ${paths.train.length + paths.val.length + paths.test.length} images computed in ${((now() - t0) / 1000).toFixed(1)} s on ${embedder.name}`}`,
        });
        return r.features;
      };
      let features: Promise<SplitFeatures> | null = null;
      const model: ModelContext = {
        label: ck.label,
        encoder,
        batcher,
        features: () => (features ??= loadFeatures(ck.label, shas[ck.label].sha256)),
        featuresEngine: () => featuresEngine,
      };
      for (const cell of mine) {
        const stop = stopReason();
        if (stop) {
          status = stop;
          break outer;
        }
        emit({ type: 'cell-start', index: done + 1, total: cells.length, cell, etaSeconds: eta.remaining(pending.slice(next)) });
        let outcome;
        try {
          outcome = await runCell(cell, model, ctx, {
            signal: hooks.signal,
            onProgress: (p) => emit({ type: 'cell-progress', cell, progress: p }),
          });
        } catch (err) {
          if ((err as Error).name !== 'AbortError') throw err;
          outcome = { status: 'cancelled' as const, step: 0 };
        }
        if (outcome.status === 'cancelled') {
          emit({ type: 'cell-cancelled', cell, step: outcome.step });
          status = 'interrupted';
          break outer;
        }
        await appendResult(csv, outcome.row, labels.levels.length);
        rows.push(outcome.row);
        eta.record(cell, outcome.row.seconds);
        done += 1;
        ranNow += 1;
        next += 1;
        emit({
          type: 'cell-done',
          index: done,
          total: cells.length,
          row: outcome.row,
          etaSeconds: eta.remaining(pending.slice(next)),
          evaluatedOn: outcome.evaluatedOn,
        });
      }
    } finally {
      encoder.dispose();
    }
  }
  // Interrupted LoRA cells keep their checkpoint there; otherwise the folder is empty.
  await rmdir(join(outDir, 'cells')).catch(() => {});
  const doneKeys = finishedKeys(rows);
  const remaining = cells.filter((c) => !doneKeys.has(cellKey(c)));
  if (remaining.length === 0) status = 'complete';
  const report = await writeReport(outDir, rows, {
    models: o.checkpoints.map((c) => c.label),
    lrs: o.lrs,
    seeds: o.seeds,
    levels: labels.levels,
    classNames: labels.classNames,
    remaining: remaining.length,
    total: cells.length,
  });
  return { status, total: cells.length, done: cells.length - remaining.length, ranNow, remaining, report };
}

/** Seconds left: each pending cell costs the mean of finished cells like it (method and regime, then method, then any). */
function etaEstimator() {
  const times = new Map<string, number[]>();
  const add = (k: string, s: number) => times.set(k, [...(times.get(k) ?? []), s]);
  const mean = (k: string) => {
    const t = times.get(k);
    return t && t.length ? t.reduce((a, b) => a + b, 0) / t.length : null;
  };
  const keys = (c: Cell) => [`${c.model}|${c.method}|${c.regime.kind}=${c.regime.value}`, `${c.method}|${c.regime.kind}`, c.method, '*'];
  return {
    record(c: Cell, seconds: number) {
      for (const k of keys(c)) add(k, seconds);
    },
    remaining(cells: Cell[]): number | null {
      if (!times.has('*')) return null;
      return cells.reduce(
        (sum, c) =>
          sum +
          (keys(c)
            .map(mean)
            .find((v) => v !== null) ?? 0),
        0,
      );
    },
  };
}
