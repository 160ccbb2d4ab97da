// The kinds of job the worker runs, each a function of its spec and a context that reports
// progress, logs and carries the cancellation signal.
import type { JobKind, WorkerProgress } from '../../shared/jobs';
import { runClassifyJob, type ClassifyJobSpec } from './classifyJob';
import { runTrainJob, type TrainJobSpec } from './trainJob';
import { runExperimentJob, type ExperimentJobSpec } from './experimentJob';

export interface JobContext {
  signal: AbortSignal;
  progress: (p: WorkerProgress) => void;
  log: (message: string, level?: 'info' | 'warn') => void;
}

export const jobHandlers: Record<JobKind, (spec: never, ctx: JobContext) => Promise<unknown>> = {
  train: (spec: TrainJobSpec, ctx) => runTrainJob(spec, ctx),
  classify: (spec: ClassifyJobSpec, ctx) => runClassifyJob(spec, ctx),
  experiment: (spec: ExperimentJobSpec, ctx) => runExperimentJob(spec, ctx),
};
