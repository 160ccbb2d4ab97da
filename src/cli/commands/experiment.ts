// `cytotune experiment`: the paper's study, headless. For each checkpoint, method, shots (or
// data percentage) and seed, every learning rate; the lr picked on validation; results.csv,
// summary.md and figures in --out. Resumable (finished cells are skipped), bounded by --budget.
// Exit 0 when the grid is complete, 3 when stopped early (budget or Ctrl-C: rerun to go on),
// 1 on a failure the user can fix, 2 on bad usage.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { selectBackend } from '../../ml/backend/selectBackend';
import { regimeKey } from '../../ml/experiment/grid';
import { formatLr, labelCheckpoints, OptionError, parseBudget, parseCheckpointArg, parseNumberList, parseSplit } from '../../ml/experiment/options';
import { runExperimentGrid, type ExperimentEvent } from '../../ml/experiment/runGrid';
import { parseTargets } from '../../ml/adapters/loraConfig';
import type { CommandIo } from './train';
import { PAPER_DEFAULTS, PAPER_PROTOCOL, type ExperimentOptions, type Method } from '../../shared/training';
import type { BackendName } from '../../shared/jobs';

export const EXPERIMENT_USAGE =
  'usage: cytotune experiment --data DIR --checkpoint [NAME=]FILE [--checkpoint ...] --out DIR [--methods linear,lora] [--shots 1,2,4,8,16,50] ' +
  '[--seeds 1,2,3] [--lrs 1e-2,3e-3,1e-3,3e-4,1e-4] [--percent 10,25,50,100] [--budget 2h|90m|SECONDS] [--split 70,10,20] [--split-seed N] ' +
  '[--tree tree.json] [--level N] [--separator __] [--iters N] [--warmup N] [--epochs N] [--batch N] [--micro-batch N] [--rank R] [--alpha A] ' +
  '[--targets q,v] [--family F] [--heads N] [--backend wasm|cpu|tensorflow]';
const EXPERIMENT_NOTES = [
  'Data: DIR with train/ val/ test/ ImageFolders (val/ optional), or one ImageFolder split per class by --split (seeded); the split is saved to OUT/split.json and reused.',
  'Few-shot cells validate on min(shots, 4) images per class of the val split, percentage cells on the whole val split; every cell is tested on the whole test split.',
  'The linear probe always also runs on 100 % of the training split (Table 1). Without --percent, --shots defaults to 1,2,4,8,16,50; with --percent only, no few-shot cells.',
  'Hierarchical classes: --tree tree.json, or class folders named Parent__Child (--separator); trains at --level (default deepest) and reports every coarser level.',
  'Exit 0: grid complete; 3: stopped by --budget or Ctrl-C (rerun the same command to continue); 1: input error; 2: usage.',
].join('\n');

const OPTIONS = {
  data: { type: 'string' },
  checkpoint: { type: 'string', multiple: true },
  out: { type: 'string' },
  methods: { type: 'string' },
  shots: { type: 'string' },
  seeds: { type: 'string' },
  lrs: { type: 'string' },
  percent: { type: 'string' },
  budget: { type: 'string' },
  split: { type: 'string' },
  'split-seed': { type: 'string' },
  tree: { type: 'string' },
  level: { type: 'string' },
  separator: { type: 'string' },
  iters: { type: 'string' },
  warmup: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  'micro-batch': { type: 'string' },
  rank: { type: 'string' },
  alpha: { type: 'string' },
  targets: { type: 'string' },
  family: { type: 'string' },
  heads: { type: 'string' },
  backend: { type: 'string' },
  help: { type: 'boolean' },
} as const;

function int(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new OptionError(`--${name} expects an integer >= ${min}, got "${v}"`);
  return n;
}

/** argv -> options (throws OptionError on bad usage). */
export function parseExperimentArgs(argv: string[]): (ExperimentOptions & { backend?: BackendName }) | 'help' {
  const a = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  if (a.help) return 'help';
  for (const req of ['data', 'checkpoint', 'out'] as const) if (!a[req]) throw new OptionError(`--${req} is required`);
  const methods = (a.methods ?? PAPER_DEFAULTS.grid.methods.join(','))
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of methods) if (m !== 'linear' && m !== 'lora') throw new OptionError(`--methods: "${m}" is not linear or lora`);
  if (a.backend && !['wasm', 'cpu', 'tensorflow'].includes(a.backend)) throw new OptionError('--backend must be wasm, cpu or tensorflow');
  const percents = a.percent ? parseNumberList(a.percent, 'percent', (n) => n > 0 && n <= 100, 'a percentage in (0, 100]') : [];
  const shots = a.shots
    ? parseNumberList(a.shots, 'shots', (n) => Number.isInteger(n) && n >= 1, 'a positive integer')
    : a.percent
      ? []
      : PAPER_DEFAULTS.grid.shots;
  let tree: unknown = null;
  if (a.tree) {
    try {
      tree = JSON.parse(readFileSync(a.tree, 'utf8'));
    } catch (err) {
      throw Object.assign(
        new Error(
          `--tree ${a.tree}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `not valid JSON (${(err as Error).message})`}`,
        ),
        { kind: 'invalid-hierarchy' },
      );
    }
  }
  const alpha = a.alpha === undefined ? PAPER_PROTOCOL.alpha : Number(a.alpha);
  if (!(alpha > 0)) throw new OptionError(`--alpha expects a positive number, got "${a.alpha}"`);
  const batch = int(a.batch, 'batch', 1) ?? PAPER_PROTOCOL.batch;
  return {
    data: a.data!,
    out: a.out!,
    checkpoints: labelCheckpoints(a.checkpoint!.map(parseCheckpointArg)),
    methods: [...new Set(methods)] as Method[],
    shots,
    percents,
    seeds: a.seeds ? parseNumberList(a.seeds, 'seeds', Number.isInteger, 'an integer') : PAPER_DEFAULTS.grid.seeds,
    lrs: a.lrs ? parseNumberList(a.lrs, 'lrs', (n) => n > 0, 'a positive learning rate') : PAPER_DEFAULTS.grid.lrs,
    budgetSeconds: a.budget ? parseBudget(a.budget) : null,
    split: a.split ? parseSplit(a.split) : PAPER_DEFAULTS.grid.split,
    splitSeed: int(a['split-seed'], 'split-seed', 0) ?? 0,
    tree,
    separator: a.separator ?? PAPER_DEFAULTS.grid.separator,
    protocol: {
      iters: int(a.iters, 'iters', 1) ?? PAPER_PROTOCOL.iters,
      warmup: int(a.warmup, 'warmup', 0) ?? PAPER_PROTOCOL.warmup,
      epochs: int(a.epochs, 'epochs', 1) ?? PAPER_PROTOCOL.epochs,
      batch,
      rank: int(a.rank, 'rank', 1) ?? PAPER_PROTOCOL.rank,
      alpha,
      targets: a.targets ? parseTargets(a.targets) : PAPER_PROTOCOL.targets,
      level: int(a.level, 'level', 1) ?? null,
      probeAugment: PAPER_PROTOCOL.probeAugment,
    },
    microBatch: Math.min(int(a['micro-batch'], 'micro-batch', 1) ?? batch, batch),
    family: a.family,
    heads: int(a.heads, 'heads', 1),
    backend: a.backend as BackendName | undefined,
  };
}

export async function runExperiment(argv: string[], io: CommandIo): Promise<number> {
  let o: ReturnType<typeof parseExperimentArgs>;
  try {
    o = parseExperimentArgs(argv);
  } catch (err) {
    const e = err as Error & { kind?: string };
    if (e.kind) {
      io.err(`cytotune experiment: ${e.message.split('\n')[0]}`);
      return 1;
    }
    io.err(`cytotune experiment: ${e.message.split('\n')[0]}`);
    io.err(EXPERIMENT_USAGE);
    return 2;
  }
  if (o === 'help') {
    io.out(`${EXPERIMENT_USAGE}\n${EXPERIMENT_NOTES}`);
    return 0;
  }
  const ctrl = new AbortController();
  const onSigint = () => {
    io.err('cytotune experiment: stopping after saving the current cell (Ctrl-C again to quit at once)');
    ctrl.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    const backend = await selectBackend(o.backend ? { only: o.backend } : {});
    io.err(`backend ${backend.candidate}`);
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
  } catch (err) {
    const e = err as Error & { kind?: string };
    if (e.kind) {
      io.err(`cytotune experiment: ${e.message.split('\n')[0]}`);
      return 1;
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

function duration(s: number | null): string {
  if (s === null) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Progress on stderr: a line per cell start and end, training and feature progress at most every 10 s. */
export function progressPrinter(io: CommandIo, everyMs = 10_000): (e: ExperimentEvent) => void {
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
          `cell ${e.index}/${e.total}: ${c.model} ${c.method} ${regimeKey(c.regime)} seed ${c.seed} lr ${formatLr(c.lr)} (eta ${duration(e.etaSeconds)})`,
        );
        last = performance.now();
        break;
      }
      case 'cell-progress': {
        const p = e.progress;
        throttled(
          `  step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.imagesPerSecond.toFixed(1)} img/s, cell eta ${duration(p.etaSeconds)}`,
        );
        break;
      }
      case 'cell-done':
        io.err(
          `cell ${e.index}/${e.total} done in ${e.row.seconds.toFixed(1)} s: val ${(100 * e.row.valAcc).toFixed(2)} %, test ${(100 * e.row.testAcc).toFixed(2)} % (eta ${duration(e.etaSeconds)})`,
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
