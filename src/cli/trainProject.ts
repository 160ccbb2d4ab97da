// `cytotune train --project FILE`: trains from a project's labels (image labels and slide
// patches) exactly as the workstation's Train tab does, through the same code: the run is
// recorded in the project, main's trainingPlan splits the labels, ComputeService builds the
// job, and the ML worker process trains it (src/worker/jobs/trainJob.ts). Nothing is copied.
import { resolve } from 'node:path';
import type { JobProgress } from '../shared/api';
import { ComputeService, type StartTraining } from '../main/jobs/computeService';
import { inspectModel } from '../main/jobs/modelRegistry';
import { Project } from '../main/project/project';
import type { ProjectionName } from '../shared/training';
import { failure } from './command';
import { formatDuration } from './duration';
import type { Io } from './io';
import { projectPath } from './projectPath';

export interface ProjectTrainRequest {
  project: string;
  checkpoint: string;
  method: 'lora' | 'linear';
  /** Class names; default every class with at least one label. */
  classes?: string[];
  seed?: number;
  settings: {
    lr?: number;
    steps?: number;
    batchSize?: number;
    microBatchSize?: number;
    epochs?: number;
    rank?: number;
    alpha?: number;
    targets?: ProjectionName[];
  };
}

/** Exit 0 when the run completed; failures are errors with a kind (exit 1). */
export async function trainFromProject(req: ProjectTrainRequest, io: Io): Promise<number> {
  const project = Project.open(projectPath(req.project));
  let compute: ComputeService | null = null;
  const onSigint = () => {
    io.err('train: cancelling after the current step (the run resumes from the workstation or with the same command)');
    if (compute && runId !== null) compute.cancelRun(runId);
  };
  let runId: number | null = null;
  try {
    for (const warning of project.warnings) io.err(`warning: ${warning}`);
    const modelId = await projectModel(project, resolve(req.checkpoint), io);
    const classIds = chooseClasses(project, req.classes);
    compute = new ComputeService(
      project,
      progressPrinter(io, () => runId),
    );
    const start: StartTraining = { modelId, method: req.method, classIds, seed: req.seed, settings: req.settings };
    const run = compute.startTraining(start);
    runId = run.id;
    const classes = (run.config.classes as { name: string; train: number; val: number }[])
      .map((c) => `${c.name} ${c.train}+${c.val}`)
      .join(', ');
    io.out(`run ${run.id}: ${req.method} on ${classIds.length} classes (train+val labels: ${classes})`);
    const job = compute.jobs.list().find((j) => j.runId === run.id);
    if (!job) throw new Error(`run ${run.id} has no training job`);
    process.once('SIGINT', onSigint);
    const final = await compute.jobs.whenDone(job.id);
    // The job manager clears its running job just after it resolves whenDone; disposing before
    // that would record the finished job as cancelled.
    await new Promise((r) => setImmediate(r));
    const done = project.runs.get(run.id)!;
    if (final.status !== 'completed') {
      throw failure(
        final.status === 'cancelled' ? 'cancelled' : 'training-failed',
        `run ${run.id} ${final.status}: ${final.error ?? 'no reason given'}`,
      );
    }
    const m = done.metrics as { steps?: number; val?: { top1: number } | null; seconds?: number };
    const val = m.val ? `${(100 * m.val.top1).toFixed(2)} %` : 'n/a';
    io.out(`done: run ${run.id}, ${m.steps ?? '?'} steps in ${(m.seconds ?? 0).toFixed(1)} s, val top-1 ${val}; wrote ${done.adapterPath}`);
    return 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
    compute?.dispose();
    project.close();
  }
}

/** The project's model for this checkpoint (same sha256), added as the workstation adds one when new. */
async function projectModel(project: Project, path: string, io: Io): Promise<number> {
  let found;
  try {
    found = await inspectModel(path);
  } catch (err) {
    throw failure('invalid-model', (err as Error).message);
  }
  const existing = project.models.list().find((m) => m.sha256 === found.sha256);
  if (existing) return existing.id;
  const added = project.addModel(found);
  io.out(`added model ${added.id} to the project: ${found.family}, ${path}`);
  return added.id;
}

function chooseClasses(project: Project, names: string[] | undefined): number[] {
  const all = project.classes.all();
  const counts = project.classes.labelCounts();
  if (!names) {
    const labelled = all.filter((c) => (counts.get(c.id) ?? 0) > 0);
    if (labelled.length < 2)
      throw failure(
        'invalid-input',
        `the project has ${labelled.length} labelled class(es); label at least two classes or name them with --classes`,
      );
    return labelled.map((c) => c.id);
  }
  return names.map((n) => {
    const c = all.find((x) => x.name === n);
    if (!c) throw failure('invalid-input', `--classes: no class "${n}" in the project (classes: ${all.map((x) => x.name).join(', ')})`);
    return c.id;
  });
}

/** About 20 progress lines per run, from the job's progress events. */
function progressPrinter(io: Io, currentRun: () => number | null): (p: JobProgress) => void {
  return (p) => {
    // Step events carry the loss; status changes repeat the last step without it.
    if (p.kind !== 'train' || p.runId !== currentRun() || !p.step || !p.total || p.loss === undefined) return;
    const every = Math.max(1, Math.round(p.total / 20));
    if (p.step !== 1 && p.step !== p.total && p.step % every !== 0) return;
    const extra = [
      `loss ${p.loss.toFixed(4)}`,
      p.lr !== undefined ? `lr ${p.lr.toExponential(2)}` : null,
      p.etaSeconds !== undefined ? `ETA ${formatDuration(p.etaSeconds)}` : null,
    ].filter(Boolean);
    io.out(`step ${p.step}/${p.total} ${extra.join(' ')}`);
  };
}
