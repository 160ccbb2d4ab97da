// The paper's experiment grid started from the workstation: the typed options `cytotune
// experiment` parses, progress per cell, cancellable.
import { basename } from 'node:path';
import { selectBackend } from '../../ml/backend/selectBackend';
import { runExperimentGrid } from '../../ml/experiment/runGrid';
import type { JobContext } from './registry';
import type { ExperimentJobResult, ExperimentJobSpec } from '../../shared/jobs';

export async function runExperimentJob(spec: ExperimentJobSpec, ctx: JobContext): Promise<ExperimentJobResult> {
  const { options } = spec;
  await selectBackend(spec.backend ? { only: spec.backend } : {});
  let done = 0;
  const r = await runExperimentGrid(options, {
    signal: ctx.signal,
    onEvent: (e) => {
      if (e.type === 'cell-start')
        ctx.progress({
          step: done,
          total: e.total,
          phase: `${e.cell.model} ${e.cell.method} seed ${e.cell.seed}`,
          etaSeconds: e.etaSeconds ?? undefined,
        });
      if (e.type === 'cell-done') {
        done = e.index;
        ctx.progress({ step: e.index, total: e.total, phase: 'cell done', etaSeconds: e.etaSeconds ?? undefined });
      }
      if (e.type === 'info') ctx.log(e.message);
    },
  });
  return {
    status: r.status,
    outDir: options.out,
    total: r.total,
    done: r.done,
    summary: r.report.summary,
    figures: r.report.figures.map((f) => basename(f)),
  };
}
