// What each kind of job stores as it runs: a training run's status and per-step metrics, its
// result; predictions; cells tile by tile with their checkpoint. One definition for the
// workstation's in-process queue and for a lab's GPU workers (lab/labWorker.ts), which store
// the same rows into the lab project.
import type { JobRecord } from '../db/repositories/jobs';
import type { Project } from '../project/project';
import type { JobHooks } from './jobManager';
import type { ClassifyJobResult, TrainJobResult } from '../../shared/jobs';

export function jobHooks(): JobHooks {
  const trimmed = new Set<number>();
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
      onResult: (p, job, result) => storePredictions(p, job, result as ClassifyJobResult),
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

/** A classification's predictions replace the run's earlier ones on each image it covered. */
export function storePredictions(project: Project, job: JobRecord, result: ClassifyJobResult): void {
  const run = project.runs.get(job.runId!)!;
  const classIds = (run.config.classes as { id: number }[]).map((c) => c.id);
  const imageIds = [...new Set(result.predictions.map((p) => p.imageId))];
  project.transaction(() => {
    // A new classification of an image replaces that run's earlier predictions on it.
    for (const imageId of imageIds) project.runs.deletePredictions(run.id, imageId);
    for (const p of result.predictions) {
      project.runs.insertPrediction({
        runId: run.id,
        imageId: p.imageId,
        box: p.box,
        classId: classIds[p.classIndex],
        probabilities: p.probabilities,
        entropy: p.entropy,
        cellId: p.cellId ?? null,
      });
    }
    project.audit.record({
      action: 'run.classify',
      entity: 'run',
      entityId: run.id,
      after: { images: imageIds, predictions: result.predictions.length, grids: result.grids, engine: result.engine },
    });
    // The job keeps which engine classified and why (the UI says it); its predictions are in their table.
    project.jobs.setResult<'classify'>(job.id, { ...result, predictions: [] });
  });
}
