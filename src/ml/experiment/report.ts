// summary.md (the paper's Table 1 for the linear probe, accuracy per shots and per data
// percentage at the chosen learning rates, per-level accuracy for hierarchical labels),
// summary.json (the same numbers for programs), and the figures (SVG + PNG) for the runs
// that exist: accuracy against shots per model with the full linear probe as a horizontal
// line (Figure 1), and accuracy against the percentage of training data (Figure 2).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../adapters/safetensorsIo';
import { aggregate, find, type Aggregate } from './aggregate';
import { formatLr } from './options';
import { PALETTE, renderChartSvg, svgToPng, type RefLine, type Series } from './plots';
import type { ResultRow } from './resultsCsv';
import type { Method } from '../../shared/training';

export interface ReportContext {
  models: string[];
  lrs: number[];
  seeds: number[];
  /** Levels reported (hierarchical labels), 1..L; empty when flat. */
  levels: number[];
  classNames: string[];
  remaining: number;
  total: number;
}

export interface ReportFiles {
  summary: string;
  json: string;
  figures: string[];
}

const pct = (v: number) => (100 * v).toFixed(2);
const cellText = (a: Aggregate | undefined, seedsWanted: number) =>
  a ? `${pct(a.test.mean)} ± ${pct(a.test.std)}${a.seeds.length < seedsWanted ? ` (${a.seeds.length}/${seedsWanted} seeds)` : ''}` : '–';
const lrsText = (a: Aggregate | undefined) => (a ? a.chosenLrs.map(formatLr).join(', ') : '–');

function valuesOf(aggs: Aggregate[], method: Method, kind: 'shots' | 'percent'): number[] {
  return [...new Set(aggs.filter((a) => a.method === method && a.regime.kind === kind).map((a) => a.regime.value))].sort((x, y) => x - y);
}

function regimeTable(aggs: Aggregate[], ctx: ReportContext, method: Method, kind: 'shots' | 'percent'): string[] {
  const values = valuesOf(aggs, method, kind);
  const head = values.map((v) => (kind === 'shots' ? `${v} shot${v === 1 ? '' : 's'}` : `${v} %`));
  const lines = [`| model | ${head.join(' | ')} |`, `|---|${values.map(() => '---:').join('|')}|`];
  for (const m of ctx.models)
    lines.push(`| ${m} | ${values.map((v) => cellText(find(aggs, m, method, { kind, value: v }), ctx.seeds.length)).join(' | ')} |`);
  lines.push(
    '',
    `Learning rate chosen per seed (seeds ${ctx.seeds.join(', ')}):`,
    '',
    `| model | ${head.join(' | ')} |`,
    `|---|${values.map(() => '---').join('|')}|`,
  );
  for (const m of ctx.models) lines.push(`| ${m} | ${values.map((v) => lrsText(find(aggs, m, method, { kind, value: v }))).join(' | ')} |`);
  return lines;
}

export function summaryMarkdown(aggs: Aggregate[], ctx: ReportContext, figures: string[]): string {
  const L = ctx.levels.length;
  const out: string[] = ['# Experiment summary', ''];
  out.push(
    `${ctx.total - ctx.remaining} of ${ctx.total} cells done${ctx.remaining ? ` (${ctx.remaining} remain: rerun the same command to continue)` : ''}.`,
  );
  out.push(`Classes (${ctx.classNames.length}${L ? `, level ${L}` : ''}): ${ctx.classNames.join(', ')}.`);
  out.push(
    `Top-1 test accuracy (%) as mean ± standard deviation over seeds; for each seed the learning rate with the best validation accuracy among ${ctx.lrs.map(formatLr).join(', ')} (ties: lower validation loss).`,
    '',
  );
  const probe = ctx.models.map((m) => find(aggs, m, 'linear', { kind: 'percent', value: 100 }));
  if (probe.some(Boolean)) {
    out.push('## Linear probe on the whole training split (Table 1)', '');
    const levelHead = ctx.levels.map((l) => ` level ${l} |`).join('');
    out.push(
      `| model | top-1 (%) | balanced accuracy (%) |${levelHead} lr per seed |`,
      `|---|---:|---:|${ctx.levels.map(() => '---:|').join('')}---|`,
    );
    ctx.models.forEach((m, i) => {
      const a = probe[i];
      const levels = ctx.levels.map((_, k) => ` ${a ? `${pct(a.levels[k].mean)} ± ${pct(a.levels[k].std)}` : '–'} |`).join('');
      out.push(
        `| ${m} | ${cellText(a, ctx.seeds.length)} | ${a ? `${pct(a.balanced.mean)} ± ${pct(a.balanced.std)}` : '–'} |${levels} ${lrsText(a)} |`,
      );
    });
    out.push('');
  }
  const sections: [Method, 'shots' | 'percent', string][] = [
    ['lora', 'shots', 'LoRA, accuracy per shots'],
    ['linear', 'shots', 'Linear probe, accuracy per shots'],
    ['lora', 'percent', 'LoRA, accuracy per percentage of the training split'],
    ['linear', 'percent', 'Linear probe, accuracy per percentage of the training split'],
  ];
  for (const [method, kind, title] of sections) {
    const values = valuesOf(aggs, method, kind);
    if (values.length === 0 || (method === 'linear' && kind === 'percent' && values.length === 1 && values[0] === 100)) continue;
    out.push(`## ${title}`, '', ...regimeTable(aggs, ctx, method, kind), '');
  }
  if (L > 0) {
    out.push(
      '## Accuracy per level (hierarchical labels)',
      '',
      'A prediction at the training level counts as right at a coarser level when it has the same ancestor there as the truth.',
      '',
    );
    out.push(
      `| model | method | data |${ctx.levels.map((l) => ` level ${l} (%) |`).join('')}`,
      `|---|---|---|${ctx.levels.map(() => '---:|').join('')}`,
    );
    for (const a of aggs) {
      const data = a.regime.kind === 'shots' ? `${a.regime.value} shots` : `${a.regime.value} %`;
      out.push(`| ${a.model} | ${a.method} | ${data} |${a.levels.map((s) => ` ${pct(s.mean)} ± ${pct(s.std)} |`).join('')}`);
    }
    out.push('');
  }
  if (figures.length) {
    out.push('## Figures', '');
    for (const f of figures.filter((x) => x.endsWith('.svg'))) out.push(`![${f}](${f})`, '');
  }
  return out.join('\n');
}

function shotsChart(aggs: Aggregate[], ctx: ReportContext): string | null {
  const series: Series[] = [];
  const refs: RefLine[] = [];
  ctx.models.forEach((m, i) => {
    const color = PALETTE[i % PALETTE.length];
    for (const [method, dash, name] of [
      ['lora', undefined, 'LoRA'],
      ['linear', '2 4', 'linear probe'],
    ] as const) {
      const pts = aggs
        .filter((a) => a.model === m && a.method === method && a.regime.kind === 'shots')
        .map((a) => ({ x: a.regime.value, y: 100 * a.test.mean, err: 100 * a.test.std }));
      if (pts.length) series.push({ label: `${m} ${name}`, color, dash, points: pts });
    }
    const full = find(aggs, m, 'linear', { kind: 'percent', value: 100 });
    if (full) refs.push({ label: `${m} linear probe, 100 %`, color, y: 100 * full.test.mean });
  });
  if (series.length === 0) return null;
  const ticks = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  return renderChartSvg({
    title: 'Accuracy against shots per class',
    xLabel: 'shots per class',
    yLabel: 'top-1 test accuracy (%)',
    xScale: 'log2',
    xTicks: ticks,
    series,
    refLines: refs,
  });
}

function percentChart(aggs: Aggregate[], ctx: ReportContext): string | null {
  const series: Series[] = [];
  ctx.models.forEach((m, i) => {
    const color = PALETTE[i % PALETTE.length];
    for (const [method, dash, name] of [
      ['lora', undefined, 'LoRA'],
      ['linear', '2 4', 'linear probe'],
    ] as const) {
      const pts = aggs
        .filter((a) => a.model === m && a.method === method && a.regime.kind === 'percent')
        .map((a) => ({ x: a.regime.value, y: 100 * a.test.mean, err: 100 * a.test.std }));
      // The automatic 100 % linear probe alone is Table 1, not a percentage study.
      if (pts.length > 1 || (pts.length === 1 && method === 'lora')) series.push({ label: `${m} ${name}`, color, dash, points: pts });
    }
  });
  if (series.length === 0) return null;
  const ticks = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  return renderChartSvg({
    title: 'Accuracy against training data',
    xLabel: '% of the training split',
    yLabel: 'top-1 test accuracy (%)',
    xScale: 'linear',
    xTicks: ticks,
    series,
    refLines: [],
  });
}

export async function writeReport(outDir: string, rows: ResultRow[], ctx: ReportContext): Promise<ReportFiles> {
  const aggs = aggregate(rows, ctx.lrs).filter((a) => ctx.models.includes(a.model));
  const figures: string[] = [];
  for (const [name, svg] of [
    ['fig-shots', shotsChart(aggs, ctx)],
    ['fig-percent', percentChart(aggs, ctx)],
  ] as const) {
    if (!svg) continue;
    await writeFile(join(outDir, `${name}.svg`), svg);
    await svgToPng(svg, join(outDir, `${name}.png`));
    figures.push(`${name}.svg`, `${name}.png`);
  }
  const summary = join(outDir, 'summary.md');
  await writeFileAtomic(summary, new TextEncoder().encode(summaryMarkdown(aggs, ctx, figures)));
  const json = join(outDir, 'summary.json');
  const plain = aggs.map(({ chosen, ...a }) => ({
    ...a,
    chosenCells: chosen.map((r) => ({ seed: r.seed, lr: r.lr, valAcc: r.valAcc, testAcc: r.testAcc })),
  }));
  await writeFileAtomic(
    json,
    new TextEncoder().encode(
      JSON.stringify(
        { done: ctx.total - ctx.remaining, total: ctx.total, classNames: ctx.classNames, levels: ctx.levels, aggregates: plain },
        null,
        2,
      ) + '\n',
    ),
  );
  return { summary, json, figures };
}
