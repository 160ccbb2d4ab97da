// Runs a study's parts (paperStudy.ts) one after the other through the experiment grid
// (runExperimentGrid: resumable, each cell appended to its results.csv as it finishes), under one
// time budget for the whole study, then writes the study report. A part that cannot run (missing
// dataset or checkpoints, a dataset in another layout) is skipped with the reason and the rest
// go on; the report lists what was skipped and why, and what the budget left undone.
import type { StudyPart } from './paperStudy';
import { runExperimentGrid, type ExperimentEvent } from './runGrid';
import { writeStudyReport, type PartOutcome, type StudyReportFiles } from './studyReport';

export interface StudyHooks {
  signal?: AbortSignal;
  onEvent?: (part: StudyPart, e: ExperimentEvent) => void;
  onPart?: (part: StudyPart, index: number, total: number) => void;
  now?: () => number;
}

export interface StudyResult {
  status: 'complete' | 'budget' | 'interrupted';
  outcomes: PartOutcome[];
  report: StudyReportFiles;
}

export async function runStudy(
  parts: StudyPart[],
  outDir: string,
  budgetSeconds: number | null,
  note: string,
  hooks: StudyHooks = {},
): Promise<StudyResult> {
  const now = hooks.now ?? (() => performance.now());
  const started = now();
  const outcomes: PartOutcome[] = [];
  let status: StudyResult['status'] = 'complete';
  for (const [i, part] of parts.entries()) {
    if (!part.options) {
      outcomes.push({ part, status: 'skipped', done: 0, total: 0, remaining: 0, error: null });
      continue;
    }
    const left = budgetSeconds === null ? null : budgetSeconds - (now() - started) / 1000;
    if (status === 'complete' && hooks.signal?.aborted) status = 'interrupted';
    if (status === 'complete' && left !== null && left <= 0) status = 'budget';
    if (status !== 'complete') {
      const why = status === 'budget' ? 'the time budget was spent' : 'interrupted';
      outcomes.push({ part, status: 'not-started', done: 0, total: 0, remaining: 0, error: why });
      continue;
    }
    hooks.onPart?.(part, i + 1, parts.length);
    try {
      const r = await runExperimentGrid(
        { ...part.options, budgetSeconds: left },
        { signal: hooks.signal, onEvent: (e) => hooks.onEvent?.(part, e), now },
      );
      outcomes.push({ part, status: r.status, done: r.done, total: r.total, remaining: r.remaining.length, error: null });
      if (r.status !== 'complete') status = r.status;
    } catch (err) {
      // Expected failures of one part (its data, its checkpoints) do not stop the others.
      if (typeof (err as { kind?: unknown }).kind !== 'string') throw err;
      outcomes.push({ part, status: 'failed', done: 0, total: 0, remaining: 0, error: (err as Error).message.split('\n')[0] });
    }
  }
  const report = await writeStudyReport(outDir, outcomes, note);
  return { status, outcomes, report };
}
