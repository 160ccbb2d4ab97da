// Training and classification for one open project: turns requests from the UI into run
// records and worker jobs, and the worker's progress and results into database rows.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ApiError, type JobProgress } from '../../shared/api';
import type { RunRecord } from '../../shared/domain';
import type { JobRecord } from '../db/repositories/jobs';
import type { Project } from '../project/project';
import { JobManager, type JobEvent } from './jobManager';
import { planTraining } from './trainingPlan';
import type { TrainingRequest } from './trainingEstimate';
import { cellTargets, trainingScale, type TrainingScale } from './cellClassification';
import { resumeInterruptedDetections, startDetection, type StartDetection } from './cellDetection';
import type { DetectionRun } from '../../shared/cells';
import { exportAdapterBundle, importAdapterBundle } from '../export/adapterBundle';
import type { WorkerSpawner } from './workerProcess';
import { experimentOptions, PAPER_DEFAULTS, PAPER_PROTOCOL, type TrainSettings } from '../../shared/training';
import type { TrainJobResult, TrainJobSpec } from '../../shared/jobs';
import type { ClassifyJobResult, ClassifyJobSpec, PatchPrediction } from '../../shared/jobs';

/** The request of runs:start (one definition, in trainingEstimate.ts, which estimates it too). */
export type StartTraining = TrainingRequest;

export interface StartExperiment {
  dataDir: string;
  modelIds: number[];
  methods: ('lora' | 'linear')[];
  shots: number[];
  seeds: number[];
  lrs: number[];
  percents?: number[];
  budgetMinutes?: number;
  iters?: number;
}

export class ComputeService {
  readonly jobs: JobManager;
  /** Per running classify job: the images whose earlier predictions of its run it has replaced. */
  private readonly replaced = new Map<number, Set<number>>();

  constructor(
    private readonly project: Project,
    emit: (progress: JobProgress) => void,
    spawn?: WorkerSpawner,
  ) {
    const onEvent = ({ job, progress }: JobEvent) =>
      emit({
        jobId: String(job.id),
        kind: job.kind,
        runId: job.runId,
        status: job.status,
        error: job.error,
        step: progress?.step ?? job.progress?.step ?? 0,
        total: progress?.total ?? job.progress?.total ?? 0,
        ...progress,
      });
    const trimmed = new Set<number>();
    this.jobs = new JobManager(
      project,
      {
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
          onPredictions: (p, job, predictions) => this.storePredictions(job, predictions),
          onResult: (p, job, result) => this.finishClassification(job, result as ClassifyJobResult),
          onEnd: (p, job) => this.replaced.delete(job.id),
        },
        experiment: {
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
      },
      onEvent,
      spawn,
    );
    for (const run of project.runs.list()) {
      if (run.status === 'running' || run.status === 'queued')
        project.runs.setStatus(run.id, 'failed', { error: 'CytoTune stopped while this run trained; resume it to continue.' });
    }
    if (!project.readOnly) resumeInterruptedDetections(project, this.jobs);
  }

  startDetection(req: StartDetection): DetectionRun {
    return startDetection(this.project, this.jobs, req);
  }

  private runsFolder(): string {
    const dir = this.project.path.replace(/\.cytotune$/, '') + '.runs';
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  startTraining(req: StartTraining): RunRecord {
    const model = this.project.models.list().find((m) => m.id === req.modelId);
    if (!model) throw new ApiError('not-found', `No foundation model with id ${req.modelId}; add one first.`);
    const seed = req.seed ?? PAPER_DEFAULTS.train.seed;
    const plan = planTraining(this.project, req.classIds, seed);
    const s = req.settings ?? {};
    const settings: Partial<TrainSettings> = {
      method: req.method,
      seed,
      lr: s.lr,
      steps: s.steps ?? null,
      batchSize: s.batchSize,
      microBatchSize: s.microBatchSize ?? Math.min(s.batchSize ?? PAPER_DEFAULTS.train.batchSize, 8),
      epochs: s.epochs,
      lora: { rank: s.rank, alpha: s.alpha, targets: s.targets } as TrainSettings['lora'],
    };
    const classNames = plan.classes.map((c) => c.name);
    // The scale of the labelled patches: cells are later classified at the same one.
    const scale = trainingScale(this.project, plan.train, this.project.settings.get().patchSize);
    const config = { method: req.method, modelId: model.id, model: model.path, classes: plan.classes, settings, scale };
    return this.project.transaction(() => {
      const run = this.project.runs.insert({ modelId: model.id, config, seed });
      const runDir = join(this.runsFolder(), `run-${run.id}`);
      const spec: TrainJobSpec = {
        runDir,
        checkpoint: model.path,
        family: model.family as TrainJobSpec['family'],
        classNames,
        train: plan.train,
        val: plan.val,
        settings,
        project: this.project.path,
      };
      this.project.audit.record({ action: 'run.start', entity: 'run', entityId: run.id, after: config });
      this.jobs.submit({ kind: 'train', spec }, run.id);
      return this.project.runs.get(run.id)!;
    });
  }

  /** Continues a cancelled or failed run from its last checkpoint. */
  resumeTraining(runId: number): JobRecord {
    const previous = this.jobs.list().find((j) => j.runId === runId && j.kind === 'train');
    if (!previous || previous.kind !== 'train') throw new ApiError('not-found', `Run ${runId} has no training job to resume.`);
    if (previous.status === 'running' || previous.status === 'queued') throw new ApiError('conflict', `Run ${runId} is already training.`);
    this.project.runs.setStatus(runId, 'queued');
    return this.jobs.submit({ kind: 'train', spec: { ...previous.spec, resume: true } }, runId);
  }

  cancelRun(runId: number): void {
    const job = this.jobs.list().find((j) => j.runId === runId && (j.status === 'running' || j.status === 'queued'));
    if (!job) throw new ApiError('conflict', `Run ${runId} is not training.`);
    this.jobs.cancel(job.id);
  }

  /** Classifies images: as a grid of patches (histology), or each detected cell (mode 'cells'). */
  startClassification(runId: number, imageIds: number[], patchSize?: number, stride?: number, mode: 'grid' | 'cells' = 'grid'): JobRecord {
    const run = this.project.runs.get(runId);
    if (!run) throw new ApiError('not-found', `No run with id ${runId}.`);
    if (run.status !== 'completed' || !run.adapterPath) throw new ApiError('conflict', `Run ${runId} has not finished training.`);
    const images = imageIds.map((id) => this.project.requireImage(id));
    const size = patchSize ?? this.project.settings.get().patchSize;
    const spec: ClassifyJobSpec = {
      runDir: run.adapterPath,
      images:
        mode === 'cells'
          ? cellTargets(this.project, images, run.config.scale as TrainingScale | undefined, size)
          : images.map((i) => ({ imageId: i.id, path: i.path, kind: i.kind, width: i.width, height: i.height })),
      patchSize: size,
      stride: stride ?? size,
    };
    return this.jobs.submit({ kind: 'classify', spec }, runId);
  }

  /**
   * One chunk of a classify job's predictions, in one transaction. The job's first chunk on an
   * image replaces that run's earlier predictions on it (a cancelled job leaves what it classified).
   */
  private storePredictions(job: JobRecord, predictions: readonly PatchPrediction[]): void {
    const run = this.project.runs.get(job.runId!)!;
    const classIds = (run.config.classes as { id: number }[]).map((c) => c.id);
    let replaced = this.replaced.get(job.id);
    if (!replaced) this.replaced.set(job.id, (replaced = new Set()));
    const cleared = replaced;
    this.project.transaction(() => {
      for (const imageId of new Set(predictions.map((p) => p.imageId))) {
        if (cleared.has(imageId)) continue;
        this.project.runs.deletePredictions(run.id, imageId);
        cleared.add(imageId);
      }
      this.project.runs.insertPredictions(
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

  private finishClassification(job: JobRecord, result: ClassifyJobResult): void {
    this.storePredictions(job, result.predictions);
    const imageIds = [...(this.replaced.get(job.id) ?? [])];
    this.replaced.delete(job.id);
    this.project.audit.record({
      action: 'run.classify',
      entity: 'run',
      entityId: job.runId,
      after: { images: imageIds, predictions: result.count, grids: result.grids, seconds: result.seconds },
    });
  }

  async exportAdapter(runId: number, path?: string): Promise<{ path: string }> {
    const run = this.project.runs.get(runId);
    if (!run?.adapterPath || run.status !== 'completed') throw new ApiError('conflict', `Run ${runId} has no trained adapter to export.`);
    const out = path ?? join(this.runsFolder(), `run-${runId}.cytotune-adapter`);
    await exportAdapterBundle(run.adapterPath, out);
    this.project.audit.record({ action: 'run.exportAdapter', entity: 'run', entityId: runId, after: { path: out } });
    return { path: out };
  }

  /** A run trained elsewhere, on a base model this project has, becomes a completed run here. */
  async importAdapter(path: string): Promise<RunRecord> {
    const staging = join(this.runsFolder(), `import-${Date.now()}`);
    const imported = await importAdapterBundle(path, staging, this.project.models.list());
    const classes = imported.config.classNames.map((name) => {
      const existing = this.project.classes.all().find((c) => c.name === name);
      return existing ?? this.project.createClass({ name });
    });
    return this.project.transaction(() => {
      const config = {
        method: imported.config.method,
        modelId: imported.model.id,
        model: imported.model.path,
        classes: classes.map((c) => ({ id: c.id, name: c.name, train: 0, val: 0 })),
        settings: imported.config.settings,
        importedFrom: path,
      };
      const run = this.project.runs.insert({ modelId: imported.model.id, config, seed: imported.config.settings.seed });
      const runDir = join(this.runsFolder(), `run-${run.id}`);
      renameSync(staging, runDir);
      this.project.runs.setStatus(run.id, 'completed', { metrics: imported.metrics ?? {}, adapterPath: runDir });
      this.project.audit.record({ action: 'run.importAdapter', entity: 'run', entityId: run.id, after: { path } });
      return this.project.runs.get(run.id)!;
    });
  }

  /** The paper's grid on a labelled folder, with this project's models, as `cytotune experiment` runs it. */
  startExperiment(req: StartExperiment): JobRecord {
    if (!existsSync(req.dataDir)) throw new ApiError('not-found', `Folder ${req.dataDir} does not exist.`);
    const models = req.modelIds.map((id) => {
      const m = this.project.models.list().find((x) => x.id === id);
      if (!m) throw new ApiError('not-found', `No foundation model with id ${id}.`);
      return m;
    });
    const out = join(this.runsFolder(), `experiment-${Date.now()}`);
    const options = experimentOptions({
      data: req.dataDir,
      out,
      checkpoints: models.map((m) => ({
        label: `${basename(m.path)
          .replace(/\.[^.]+$/, '')
          .replace(/[^\w.+-]/g, '_')}-${m.id}`,
        path: m.path,
      })),
      methods: req.methods,
      shots: req.shots,
      seeds: req.seeds,
      lrs: req.lrs,
      percents: req.percents ?? [],
      budgetSeconds: req.budgetMinutes ? req.budgetMinutes * 60 : null,
      ...(req.iters ? { protocol: { ...PAPER_PROTOCOL, iters: req.iters } } : {}),
    });
    const job = this.jobs.submit({ kind: 'experiment', spec: { options } }, null);
    this.project.audit.record({ action: 'experiment.start', entity: 'job', entityId: job.id, after: { options } });
    return job;
  }

  dispose(): void {
    this.jobs.dispose();
  }
}
