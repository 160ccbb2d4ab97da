// `cytotune study paper`: the paper's three experiments in one command. Finds the four datasets
// under --data-root and the checkpoints under --models by the README's layout, runs Table 1,
// Figure 1 and Figure 2 through the experiment grid with the paper's settings (resumable: rerun
// the same command to continue), and writes OUT/report.md with what was skipped and why.
// --dry-run prints the whole plan (cells, steps, time measured on this machine) and trains nothing.
// Exit 0: complete; 3: stopped by --budget or Ctrl-C; 1: nothing could run; 2: usage.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { selectBackend } from '../../ml/backend/selectBackend';
import { OptionError, parseBudget, parseNumberList } from '../../ml/experiment/options';
import {
  findStudyInputs,
  overridesText,
  STUDY_DATASETS,
  STUDY_MODELS,
  studyParts,
  type DatasetKey,
  type StudyOverrides,
  type StudyPart,
} from '../../ml/experiment/paperStudy';
import { BACKEND_NAMES, type BackendName } from '../../shared/jobs';
import { UsageError, type Values } from '../args';
import { defineCommand, failure } from '../command';
import { formatDuration } from '../duration';
import type { Io } from '../io';
import { progressPrinter } from './experiment';

const OPTIONS = {
  'data-root': { type: 'string', required: true },
  models: { type: 'string', required: true },
  out: { type: 'string', required: true },
  budget: { type: 'string' },
  'dry-run': { type: 'switch' },
  json: { type: 'string' },
  backend: { type: 'string', choices: BACKEND_NAMES },
  'micro-batch': { type: 'int', min: 1 },
  datasets: { type: 'list' },
  'models-only': { type: 'list' },
  shots: { type: 'string' },
  seeds: { type: 'string' },
  lrs: { type: 'string' },
  percent: { type: 'string' },
  iters: { type: 'int', min: 1 },
  epochs: { type: 'int', min: 1 },
} as const;

type StudyArgs = Values<typeof OPTIONS>;

export const command = defineCommand({
  name: 'study',
  summary: "the paper's whole study (Table 1, Figures 1 and 2) from its datasets and checkpoints",
  usage:
    'usage: cytotune study paper --data-root DIR --models DIR --out DIR [--budget 2h|90m|SECONDS] [--dry-run] [--json PLAN.json] ' +
    '[--backend tensorflow|webgpu|wasm|cpu] [--micro-batch N] [--datasets sipakmed,bcfc,mlcc,hicervix] [--models-only clip-b16,...] ' +
    '[--shots 1,2] [--seeds 1] [--lrs 1e-3] [--percent 10,100] [--iters N] [--epochs N]\n' +
    "--datasets, --models-only, --shots, --seeds, --lrs, --percent, --iters and --epochs are for a quick look: not the paper's settings (the report says so).\n" +
    [
      `Datasets under --data-root: ${STUDY_DATASETS.map((d) => d.layout).join('; ')}.`,
      `Checkpoints under --models (first found): ${STUDY_MODELS.map((m) => `${m.label} = ${m.files.join(' | ')}`).join('; ')}.`,
      'Experiment 1 (Table 1): linear probe on 100 % of each training split; 2 (Figure 1): few-shot LoRA r 2 on q,v, shots 1,2,4,8,16,50;',
      '3 (Figure 2): CLIP ViT-L/14 LoRA r 16 on q,k,v,o, lr 1e-3, HiCervix by 10,25,50,100 % of the training split. Seeds 1,2,3;',
      'lrs 1e-2,3e-3,1e-3,3e-4,1e-4 chosen per seed on validation. HiCervix trains at level 3. Missing data or checkpoints are skipped and listed.',
      'Results go to OUT/<dataset>/ and OUT/hicervix-percent/ (each an experiment folder: results.csv, summary.md, figures), the report to OUT/report.md.',
      '--dry-run: the whole plan with time estimates measured on this machine (one training step per model size, random weights); trains nothing.',
      'Exit 0: complete; 3: stopped by --budget or Ctrl-C (rerun the same command to continue); 1: nothing could run; 2: usage.',
    ].join('\n'),
  options: OPTIONS,
  positionals: { name: 'study name (paper)', min: 1, max: 1 },
  main: async ({ values, positionals }, io) => {
    if (positionals[0] !== 'paper') throw new UsageError(`unknown study "${positionals[0]}"; the one study is "paper"`);
    return study(values, overrides(values), io);
  },
});

export const runStudyCommand = command.run;

function overrides(a: StudyArgs): StudyOverrides {
  try {
    const keys = STUDY_DATASETS.map((d) => d.key);
    for (const d of a.datasets ?? [])
      if (!keys.includes(d as DatasetKey)) throw new UsageError(`--datasets: "${d}" is not one of ${keys.join(', ')}`);
    const labels = STUDY_MODELS.map((m) => m.label);
    for (const m of a['models-only'] ?? [])
      if (!labels.includes(m)) throw new UsageError(`--models-only: "${m}" is not one of ${labels.join(', ')}`);
    const o: StudyOverrides = {
      datasets: a.datasets as DatasetKey[] | undefined,
      models: a['models-only'],
      shots: a.shots ? parseNumberList(a.shots, 'shots', (n) => Number.isInteger(n) && n >= 1, 'a positive integer') : undefined,
      seeds: a.seeds ? parseNumberList(a.seeds, 'seeds', Number.isInteger, 'an integer') : undefined,
      lrs: a.lrs ? parseNumberList(a.lrs, 'lrs', (n) => n > 0, 'a positive learning rate') : undefined,
      percents: a.percent ? parseNumberList(a.percent, 'percent', (n) => n > 0 && n <= 100, 'a percentage in (0, 100]') : undefined,
      iters: a.iters,
      epochs: a.epochs,
    };
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as StudyOverrides;
  } catch (err) {
    if (err instanceof OptionError) throw new UsageError(err.message);
    throw err;
  }
}

async function study(a: StudyArgs, o: StudyOverrides, io: Io): Promise<number> {
  const budget = a.budget ? budgetSeconds(a.budget) : null;
  const out = resolve(a.out!);
  const inputs = findStudyInputs(a['data-root']!, a.models!);
  // The micro-batch is an execution choice, not a protocol change: not an override.
  const parts = studyParts(inputs, out, { ...o, ...(a['micro-batch'] ? { microBatch: a['micro-batch'] } : {}) });
  const note = overridesText(o);
  io.out(`study paper: data ${inputs.dataRoot}, models ${inputs.modelsDir}, out ${out}${note ? ` (${note})` : ''}`);
  for (const d of STUDY_DATASETS)
    io.out(`  dataset ${d.key}: ${inputs.datasets[d.key].path ? inputs.datasets[d.key].note : `missing: ${inputs.datasets[d.key].note}`}`);
  for (const m of STUDY_MODELS)
    io.out(`  model ${m.label}: ${inputs.models[m.label].path ? inputs.models[m.label].note : `missing: ${inputs.models[m.label].note}`}`);
  const runnable = parts.filter((p) => p.options);
  const backend = await selectBackend(a.backend ? { only: a.backend as BackendName } : {});
  io.out(`  backend ${backend.candidate}`);
  // Imported here: they load tfjs and register its gradients (seconds), which --help should not wait for.
  if (a['dry-run']) {
    const { printPlan } = await import('../studyDryRun');
    return printPlan(parts, io, a.json ? resolve(a.json) : null);
  }
  if (runnable.length === 0) {
    for (const p of parts) for (const s of p.skipped) io.err(`study: ${p.id}: ${s}`);
    throw failure('nothing-to-run', 'no experiment of the study can run: see the missing datasets and checkpoints above');
  }
  mkdirSync(out, { recursive: true });
  const ctrl = new AbortController();
  const onSigint = () => {
    io.err('study: stopping after saving the current cell (rerun the same command to continue)');
    ctrl.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    const { runStudy } = await import('../../ml/experiment/runStudy');
    const printer = progressPrinter(io);
    const r = await runStudy(parts, out, budget, note, {
      signal: ctrl.signal,
      onPart: (p, i, n) => io.err(`study part ${i}/${n}: ${p.id}${p.skipped.length ? ` (${p.skipped.join('; ')})` : ''}`),
      onEvent: (_p, e) => printer(e),
    });
    for (const oc of r.outcomes)
      io.out(`  ${oc.part.id}: ${oc.status}${oc.total ? ` (${oc.done}/${oc.total} cells)` : ''}${oc.error ? `: ${oc.error}` : ''}`);
    for (const p of parts) for (const s of p.skipped) io.out(`  skipped in ${p.id}: ${s}`);
    io.out(`wrote ${r.report.markdown} and ${r.report.json}`);
    if (a.json) writeFileSync(resolve(a.json), JSON.stringify({ status: r.status, outcomes: r.outcomes.map(summary) }, null, 2) + '\n');
    if (r.status === 'complete') return 0;
    io.out(
      `stopped: ${r.status === 'budget' ? `the time budget (${formatDuration(budget ?? 0)}) is spent` : 'interrupted'}; rerun the same command to continue`,
    );
    return 3;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

function summary(o: { part: StudyPart; status: string; done: number; total: number; error: string | null }) {
  return { id: o.part.id, status: o.status, done: o.done, total: o.total, error: o.error, skipped: o.part.skipped };
}

function budgetSeconds(s: string): number {
  try {
    return parseBudget(s);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
