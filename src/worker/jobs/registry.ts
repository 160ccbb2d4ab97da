// The kinds of job the worker runs, each a function of its spec and a context that reports
// progress, logs and carries the cancellation signal. One switch: the spec's type follows
// the kind, and so does the result's.
import type { DetectedCell, DetectionCheckpoint } from '../../shared/cells';
import type { JobOutcome, JobStart, PatchPrediction, WorkerProgress } from '../../shared/jobs';
import { runClassifyJob } from './classifyJob';
import { runTrainJob } from './trainJob';
import { runExperimentJob } from './experimentJob';
import { runDetectJob } from './detectJob';
import { runSpeedJob } from './speedJob';

export interface JobContext {
  signal: AbortSignal;
  progress: (p: WorkerProgress) => void;
  log: (message: string, level?: 'info' | 'warn') => void;
  /** Detect jobs: one finished tile's cells and the checkpoint past it (main stores both at once). */
  cells: (tile: number, cells: DetectedCell[], checkpoint: DetectionCheckpoint) => void;
  /** Classify jobs: the next predictions, in order; without it they come back in the result. */
  predictions?: (predictions: PatchPrediction[]) => void;
}

export async function runJob(job: JobStart, ctx: JobContext): Promise<JobOutcome> {
  switch (job.kind) {
    case 'train':
      return { kind: job.kind, result: await runTrainJob(job.spec, ctx) };
    case 'classify':
      return { kind: job.kind, result: await runClassifyJob(job.spec, ctx) };
    case 'experiment':
      return { kind: job.kind, result: await runExperimentJob(job.spec, ctx) };
    case 'detect':
      return { kind: job.kind, result: await runDetectJob(job.spec, ctx) };
    case 'speed':
      return { kind: job.kind, result: await runSpeedJob(job.spec, ctx) };
  }
}
