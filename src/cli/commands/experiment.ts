// `cytotune experiment`: the paper's study, headless. For each checkpoint, method, shots (or
// data percentage) and seed, every learning rate; the lr picked on validation; results.csv,
// summary.md and figures in --out. Resumable (finished cells are skipped), bounded by --budget.
// Exit 0 when the grid is complete, 3 when stopped early (budget or Ctrl-C: rerun to go on),
// 1 on a failure the user can fix, 2 on bad usage.
import { readFileSync } from 'node:fs';
import { selectBackend } from '../../ml/backend/selectBackend';
import { regimeKey } from '../../ml/experiment/grid';
import {
  formatLr,
  labelCheckpoints,
  OptionError,
  parseBudget,
  parseCheckpointArg,
  parseNumberList,
  parseSplit,
} from '../../ml/experiment/options';
import type { ExperimentEvent } from '../../ml/experiment/runGrid';
import { parseTargets } from '../../ml/adapters/loraConfig';
import { FAMILY_NAMES } from '../../ml/models/registry';
import { experimentOptions, PAPER_PROTOCOL, type ExperimentOptions, type Method } from '../../shared/training';
import { BACKEND_NAMES, type BackendName } from '../../shared/jobs';
import { parseArgs, UsageError, type Values } from '../args';
import { defineCommand, failure } from '../command';
import { formatDuration } from '../duration';
import type { Io } from '../io';

const OPTIONS = {
  data: { type: 'string', required: true },
  checkpoint: { type: 'repeated', required: true },
  out: { type: 'string', required: true },
  methods: { type: 'list' },
  shots: { type: 'string' },
  seeds: { type: 'string' },
  lrs: { type: 'string' },
  percent: { type: 'string' },
  budget: { type: 'string' },
  split: { type: 'string' },
  'split-seed': { type: 'int', min: 0 },
  tree: { type: 'string' },
  level: { type: 'int', min: 1 },
  separator: { type: 'string' },
  iters: { type: 'int', min: 1 },
  warmup: { type: 'int', min: 0 },
  epochs: { type: 'int', min: 1 },
  batch: { type: 'int', min: 1 },
  'micro-batch': { type: 'int', min: 1 },
  rank: { type: 'int', min: 1 },
  alpha: { type: 'number', positive: true },
  targets: { type: 'string' },
  family: { type: 'string', choices: FAMILY_NAMES },
  heads: { type: 'int', min: 1 },
  activation: { type: 'string', choices: ['gelu', 'quick_gelu'] },
  backend: { type: 'string', choices: BACKEND_NAMES },
} as const;

export type ExperimentCommandOptions = ExperimentOptions & { backend?: BackendName };

export const command = defineCommand({
  name: 'experiment',
  summary: "the paper's grid: checkpoints x methods x shots x seeds x learning rates",
  usage:
    'usage: cytotune experiment --data DIR --checkpoint [NAME=]FILE [--checkpoint ...] --out DIR [--methods linear,lora] [--shots 1,2,4,8,16,50] ' +
    '[--seeds 1,2,3] [--lrs 1e-2,3e-3,1e-3,3e-4,1e-4] [--percent 10,25,50,100] [--budget 2h|90m|SECONDS] [--split 70,10,20] [--split-seed N] ' +
    '[--tree tree.json] [--level N] [--separator __] [--iters N] [--warmup N] [--epochs N] [--batch N] [--micro-batch N] [--rank R] [--alpha A] ' +
    '[--targets q,v] [--family F] [--heads N] [--activation gelu|quick_gelu] [--backend tensorflow|webgpu|wasm|cpu]\n' +
    [
      'Data: DIR with train/ val/ test/ ImageFolders (val/ optional), or one ImageFolder split per class by --split (seeded); the split is saved to OUT/split.json and reused.',
      'Few-shot cells validate on min(shots, 4) images per class of the val split, percentage cells on the whole val split; every cell is tested on the whole test split.',
      'The linear probe always also runs on 100 % of the training split (Table 1). Without --percent, --shots defaults to 1,2,4,8,16,50; with --percent only, no few-shot cells.',
      'LoRA cells run --warmup + --iters x shots steps (x batches per epoch for percentages); linear cells run --epochs over cached features.',
      'Hierarchical classes: --tree tree.json, or class folders named Parent__Child (--separator); trains at --level (default deepest) and reports every coarser level.',
      'Exit 0: grid complete; 3: stopped by --budget or Ctrl-C (rerun the same command to continue); 1: input error; 2: usage.',
    ].join('\n'),
  options: OPTIONS,
  main: async ({ values }, io) => experiment(fromValues(values), io),
});

export const runExperiment = command.run;

/** argv -> typed options, as the worker's experiment job receives them (throws UsageError on bad usage). */
export function parseExperimentArgs(argv: string[]): ExperimentCommandOptions | 'help' {
  const { values, help } = parseArgs(argv, OPTIONS);
  return help ? 'help' : fromValues(values);
}

function readTree(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `not valid JSON (${(err as Error).message})`;
    throw failure('invalid-hierarchy', `--tree ${path}: ${why}`);
  }
}

/** Keys the user gave; the rest come from the paper's defaults (experimentOptions). */
function fromValues(a: Values<typeof OPTIONS>): ExperimentCommandOptions {
  try {
    const methods = a.methods;
    if (methods?.length === 0) throw new UsageError('--methods needs linear, lora or both');
    for (const m of methods ?? []) if (m !== 'linear' && m !== 'lora') throw new UsageError(`--methods: "${m}" is not linear or lora`);
    const batch = a.batch ?? PAPER_PROTOCOL.batch;
    const given: Partial<ExperimentOptions> = {
      methods: methods && ([...new Set(methods)] as Method[]),
      percents: a.percent ? parseNumberList(a.percent, 'percent', (n) => n > 0 && n <= 100, 'a percentage in (0, 100]') : undefined,
      shots: a.shots ? parseNumberList(a.shots, 'shots', (n) => Number.isInteger(n) && n >= 1, 'a positive integer') : undefined,
      seeds: a.seeds ? parseNumberList(a.seeds, 'seeds', Number.isInteger, 'an integer') : undefined,
      lrs: a.lrs ? parseNumberList(a.lrs, 'lrs', (n) => n > 0, 'a positive learning rate') : undefined,
      budgetSeconds: a.budget ? parseBudget(a.budget) : undefined,
      split: a.split ? parseSplit(a.split) : undefined,
      splitSeed: a['split-seed'],
      tree: a.tree ? readTree(a.tree) : undefined,
      separator: a.separator,
      microBatch: Math.min(a['micro-batch'] ?? batch, batch),
      family: a.family,
      heads: a.heads,
      activation: a.activation,
    };
    const options = experimentOptions({
      data: a.data!,
      out: a.out!,
      checkpoints: labelCheckpoints(a.checkpoint.map(parseCheckpointArg)),
      ...(Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<ExperimentOptions>),
      protocol: {
        ...PAPER_PROTOCOL,
        iters: a.iters ?? PAPER_PROTOCOL.iters,
        warmup: a.warmup ?? PAPER_PROTOCOL.warmup,
        epochs: a.epochs ?? PAPER_PROTOCOL.epochs,
        batch,
        rank: a.rank ?? PAPER_PROTOCOL.rank,
        alpha: a.alpha ?? PAPER_PROTOCOL.alpha,
        targets: a.targets ? parseTargets(a.targets) : PAPER_PROTOCOL.targets,
        level: a.level ?? null,
      },
    });
    return a.backend ? { ...options, backend: a.backend } : options;
  } catch (err) {
    // The ML library's option and LoRA-target errors are usage errors here.
    if (err instanceof OptionError || (err as { kind?: string }).kind === 'invalid-lora-config')
      throw new UsageError((err as Error).message);
    throw err;
  }
}

async function experiment(o: ExperimentCommandOptions, io: Io): Promise<number> {
  const ctrl = new AbortController();
  const onSigint = () => {
    io.err('experiment: stopping after saving the current cell (Ctrl-C again to quit at once)');
    ctrl.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    const backend = await selectBackend(o.backend ? { only: o.backend } : {});
    io.err(`backend ${backend.candidate}`);
    // Imported here: training registers tfjs's gradients (seconds), which --help should not wait for.
    const { runExperimentGrid } = await import('../../ml/experiment/runGrid');
    const r = await runExperimentGrid(o, { signal: ctrl.signal, onEvent: progressPrinter(io) });
    const figures = r.report.figures.length ? `, ${r.report.figures.join(', ')}` : '';
    io.out(
      `${r.done} of ${r.total} cells done (${r.ranNow} in this run); wrote results.csv, summary.md, summary.json${figures} in ${o.out}`,
    );
    if (r.status === 'complete') return 0;
    const why = r.status === 'budget' ? `the time budget (${o.budgetSeconds} s) is spent` : 'interrupted';
    const next = r.remaining
      .slice(0, 3)
      .map((c) => `${c.model} ${c.method} ${regimeKey(c.regime)} seed ${c.seed} lr ${formatLr(c.lr)}`)
      .join('; ');
    io.out(
      `stopped: ${why}; ${r.remaining.length} cells remain (next: ${next}${r.remaining.length > 3 ? '; ...' : ''}); rerun the same command to continue`,
    );
    return 3;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** Progress on stderr: a line per cell start and end, training and feature progress at most every 10 s. */
export function progressPrinter(io: Io, everyMs = 10_000): (e: ExperimentEvent) => void {
  let last = 0;
  const throttled = (line: string) => {
    const t = performance.now();
    if (t - last < everyMs) return;
    last = t;
    io.err(line);
  };
  return (e) => {
    switch (e.type) {
      case 'info':
        io.err(e.message);
        break;
      case 'features':
        throttled(`  ${e.model}: features ${e.done}/${e.total} images`);
        break;
      case 'cell-start': {
        const c = e.cell;
        io.err(
          `cell ${e.index}/${e.total}: ${c.model} ${c.method} ${regimeKey(c.regime)} seed ${c.seed} lr ${formatLr(c.lr)} (eta ${formatDuration(e.etaSeconds)})`,
        );
        last = performance.now();
        break;
      }
      case 'cell-progress': {
        const p = e.progress;
        throttled(
          `  step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.imagesPerSecond.toFixed(1)} img/s, cell eta ${formatDuration(p.etaSeconds)}`,
        );
        break;
      }
      case 'cell-done':
        io.err(
          `cell ${e.index}/${e.total} done in ${e.row.seconds.toFixed(1)} s: val ${(100 * e.row.valAcc).toFixed(2)} %, test ${(100 * e.row.testAcc).toFixed(2)} % (eta ${formatDuration(e.etaSeconds)})`,
        );
        break;
      case 'cell-cancelled':
        io.err(
          `cell ${e.cell.model} ${e.cell.method} ${regimeKey(e.cell.regime)} seed ${e.cell.seed} lr ${formatLr(e.cell.lr)} stopped at step ${e.step}${e.cell.method === 'lora' ? ' (checkpoint kept: a rerun resumes it)' : ''}`,
        );
        break;
    }
  };
}
