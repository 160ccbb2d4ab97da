// What each kind of job stores as it runs: a training run's status and per-step metrics, its
// result; predictions; cells tile by tile with their checkpoint. One definition for the
// workstation's in-process queue and for a lab's GPU workers (lab/labWorker.ts), which store
// the same rows into the lab project.
import type { JobRecord } from '../db/repositories/jobs';
import type { Project } from '../project/project';
import type { JobHooks } from './jobManager';
import type { ClassifyJobResult, PatchPrediction, TrainJobResult } from '../../shared/jobs';

export function jobHooks(): JobHooks {
  const trimmed = new Set<number>();
  // Per running classify job: the images whose earlier predictions of its run it has replaced.
  const replaced = new Map<number, Set<number>>();
  const clearedBy = (job: JobRecord) => {
    let cleared = replaced.get(job.id);
    if (!cleared) replaced.set(job.id, (cleared = new Set()));
    return cleared;
  };
  return {
    train: {
      onStart: (p, job) => p.runs.setStatus(job.runId!, 'running'),
      onProgress: (p, job, g) => {
        // A phase without a step (loading, extracting features) is no point of the curves.
        if (g.loss === undefined && g.lr === undefined && g.accuracy === undefined) return;
        if (!trimmed.has(job.id)) {
          // The first step of this attempt: rows from there on are of steps a crash lost
          // (the attempt resumed from an earlier checkpoint), not of this training.
          trimmed.add(job.id);
          p.runs.deleteMetricsFrom(job.runId!, g.step);
        }
        p.runs.addMetric({
          runId: job.runId!,
          step: g.step,
          loss: g.loss ?? null,
          lr: g.lr ?? null,
          accuracy: g.accuracy ?? null,
          imagesPerSecond: g.imagesPerSecond ?? null,
        });
      },
      onResult: (p, job, result) => {
        const r = result as TrainJobResult;
        p.transaction(() => {
          // Validation items are labels (keys a<annotationId>): the confusion matrix's cells open them.
          const validation = r.validation.map((v) => ({
            annotationId: Number(v.key.slice(1)),
            label: v.label,
            predicted: v.predicted,
          }));
          const { valPredicted: _v, ...metrics } = r.metrics;
          p.runs.setStatus(job.runId!, 'completed', { metrics: { ...metrics, validation }, adapterPath: r.runDir });
          p.audit.record({ action: 'run.complete', entity: 'run', entityId: job.runId, after: { steps: r.steps } });
        });
      },
      onEnd: (p, job, status, error) => p.runs.setStatus(job.runId!, status, { error }),
    },
    classify: {
      onPredictions: (p, job, predictions) => storePredictions(p, job, predictions, clearedBy(job)),
      onResult: (p, job, result) => {
        finishClassification(p, job, result as ClassifyJobResult, clearedBy(job));
        replaced.delete(job.id);
      },
      onEnd: (_p, job) => replaced.delete(job.id),
    },
    experiment: {
      onResult: (p, job, result) => p.jobs.setResult(job.id, result),
    },
    speed: {
      onResult: (p, job, result) => p.jobs.setResult(job.id, result),
    },
    detect: {
      onCells: (p, job, tile) => {
        if (job.kind !== 'detect') return;
        const { detectionRunId, imageId } = job.spec;
        p.transaction(() => p.cells.addTile(detectionRunId, imageId, tile.tile, tile.cells, tile.checkpoint));
      },
      onResult: (p, job, result) => {
        if (job.kind !== 'detect') return;
        p.transaction(() => {
          p.cells.setStatus(job.spec.detectionRunId, 'completed');
          p.jobs.setResult(job.id, result);
          p.audit.record({
            action: 'cells.detect',
            entity: 'image',
            entityId: job.spec.imageId,
            after: { detectionRunId: job.spec.detectionRunId, ...result },
          });
        });
      },
      onEnd: (p, job, status, error) => job.kind === 'detect' && p.cells.setStatus(job.spec.detectionRunId, status, error),
    },
  };
}

/**
 * One chunk of a classify job's predictions, in one transaction. The job's first chunk on an
 * image replaces that run's earlier predictions on it (a cancelled job leaves what it classified).
 */
function storePredictions(project: Project, job: JobRecord, predictions: readonly PatchPrediction[], cleared: Set<number>): void {
  const run = project.runs.get(job.runId!)!;
  const classIds = (run.config.classes as { id: number }[]).map((c) => c.id);
  project.transaction(() => {
    for (const imageId of new Set(predictions.map((p) => p.imageId))) {
      if (cleared.has(imageId)) continue;
      project.runs.deletePredictions(run.id, imageId);
      cleared.add(imageId);
    }
    project.runs.insertPredictions(
      predictions.map((p) => ({
        runId: run.id,
        imageId: p.imageId,
        box: p.box,
        classId: classIds[p.classIndex],
        probabilities: p.probabilities,
        entropy: p.entropy,
        cellId: p.cellId ?? null,
      })),
    );
  });
}

/** The predictions the worker did not stream, the audit entry, and the result (engine and why; predictions are in their table). */
function finishClassification(project: Project, job: JobRecord, result: ClassifyJobResult, cleared: Set<number>): void {
  project.transaction(() => {
    storePredictions(project, job, result.predictions, cleared);
    project.audit.record({
      action: 'run.classify',
      entity: 'run',
      entityId: job.runId,
      after: { images: [...cleared], predictions: result.count, grids: result.grids, seconds: result.seconds, engine: result.engine },
    });
    project.jobs.setResult<'classify'>(job.id, { ...result, predictions: [] });
  });
}
