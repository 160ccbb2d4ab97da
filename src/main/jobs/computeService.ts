// Training and classification for one open project: turns requests from the UI into run
// records and worker jobs, and the worker's progress and results into database rows.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ApiError, type JobProgress } from '../../shared/api';
import type { RunRecord } from '../../shared/domain';
import type { JobRecord } from '../db/repositories/jobs';
import type { Project } from '../project/project';
import { JobManager, type JobEvent, type JobQueue } from './jobManager';
import { jobHooks } from './jobHooks';
import { planTraining } from './trainingPlan';
import { measuredSpeedJob, trainSettingsFor, type TrainingRequest } from './trainingEstimate';
import { cellTargets, trainingScale, type TrainingScale } from './cellClassification';
import { resumeInterruptedDetections, startDetection, type StartDetection } from './cellDetection';
import type { DetectionRun } from '../../shared/cells';
import { exportAdapterBundle, importAdapterBundle } from '../export/adapterBundle';
import type { WorkerSpawner } from './workerProcess';
import { experimentOptions, PAPER_DEFAULTS, PAPER_PROTOCOL, resolveSettings } from '../../shared/training';
import { SPEED_MARKS, type SpeedJobSpec, type TrainJobSpec } from '../../shared/jobs';
import type { ClassifyJobSpec } from '../../shared/jobs';

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

/** A job event as the API's job:progress carries it. */
export const jobProgressOf = ({ job, progress }: JobEvent): JobProgress => ({
  jobId: String(job.id),
  kind: job.kind,
  runId: job.runId,
  status: job.status,
  error: job.error,
  step: progress?.step ?? job.progress?.step ?? 0,
  total: progress?.total ?? job.progress?.total ?? 0,
  ...progress,
});

/** How a lab project queues its jobs instead (lab/labJobs.ts): the GPU workers run them. */
export type JobQueueFactory = (emit: (event: JobEvent) => void) => JobQueue;

export class ComputeService {
  readonly jobs: JobQueue;
  /** Jobs run on a lab's workers, not on this computer. */
  private readonly onLab: boolean;

  constructor(
    private readonly project: Project,
    emit: (progress: JobProgress) => void,
    spawn?: WorkerSpawner,
    queue?: JobQueueFactory,
  ) {
    const onEvent = (event: JobEvent) => emit(jobProgressOf(event));
    this.onLab = Boolean(queue);
    if (queue) {
      // A lab's jobs run on its workers, which store what they report; runs and detections
      // left running are theirs (a worker that died is noticed by the others), not interrupted.
      this.jobs = queue(onEvent);
      return;
    }
    this.jobs = new JobManager(project, jobHooks(), onEvent, spawn);
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

  /** The model, seed, labels and settings a training request means (a run, or its speed check). */
  private planned(req: StartTraining) {
    const model = this.project.models.list().find((m) => m.id === req.modelId);
    if (!model) throw new ApiError('not-found', `No foundation model with id ${req.modelId}; add one first.`);
    const seed = req.seed ?? PAPER_DEFAULTS.train.seed;
    return { model, seed, plan: planTraining(this.project, req.classIds, seed), settings: trainSettingsFor(req, seed) };
  }

  startTraining(req: StartTraining): RunRecord {
    const { model, seed, plan, settings } = this.planned(req);
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
        scale,
      };
      this.project.audit.record({ action: 'run.start', entity: 'run', entityId: run.id, after: config });
      this.jobs.submit({ kind: 'train', spec }, run.id);
      return this.project.runs.get(run.id)!;
    });
  }

  /**
   * Times a few real steps of the run `req` would start (the estimate then says "measured here"),
   * unless this computer has measured this model and method already or a job is running (which
   * would share the cores and skew the figure). Returns the job, or null when none was started.
   * A lab's runs train on whichever worker is free, so there the estimate stays with earlier runs.
   */
  measureSpeed(req: StartTraining): JobRecord | null {
    if (this.onLab) return null;
    if (measuredSpeedJob(this.project, req.modelId, req.method)) return null;
    if (this.jobs.list().some((j) => j.status === 'running' || j.status === 'queued')) return null;
    const { model, plan, settings } = this.planned(req);
    const micro = resolveSettings(settings).microBatchSize;
    const spec: SpeedJobSpec = {
      modelId: model.id,
      checkpoint: model.path,
      family: model.family,
      classNames: plan.classes.map((c) => c.name),
      // Enough images for every timed step or batch to read new ones, as the run will.
      train: plan.train.slice(0, 2 * micro * SPEED_MARKS),
      settings,
    };
    return this.jobs.submit({ kind: 'speed', spec }, null);
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
