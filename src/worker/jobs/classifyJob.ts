// The workstation's classify job: the shared classification core (ml/inference/classifyTargets,
// which `cytotune classify` runs too) with the job's progress, cancellation and a sink that
// streams predictions to main in chunks (each stored in one transaction there).
import { classifyTargets } from '../../ml/inference/classifyTargets';
import type { ClassifyJobResult, ClassifyJobSpec } from '../../shared/jobs';
import type { JobContext } from './registry';

export function runClassifyJob(spec: ClassifyJobSpec, ctx: JobContext): Promise<ClassifyJobResult> {
  return classifyTargets(spec, {
    signal: ctx.signal,
    onProgress: ctx.progress,
    log: (line) => ctx.log(line),
    onPredictions: ctx.predictions,
  });
}
