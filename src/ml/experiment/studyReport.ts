// OUT/report.md and report.json of a study: the paper's Table 1 (linear probe on 100 % of each
// training split, model x dataset), Figure 1 (few-shot LoRA per shots, one figure per dataset,
// drawn by each dataset's experiment report with the 100 % probe as its dashed line) and Figure 2
// (HiCervix by percentage of the training split, per level), then what was skipped and why and
// what remains. Numbers are recomputed from each folder's results.csv (aggregate.ts).
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../adapters/safetensorsIo';
import { aggregate, find, type Aggregate } from './aggregate';
import { formatLr } from './options';
import type { StudyPart } from './paperStudy';
import { STUDY_DATASETS, STUDY_MODELS } from './paperStudy';
import { readResults, RESULTS_FILE } from './resultsCsv';

export interface PartOutcome {
  part: StudyPart;
  status: 'complete' | 'budget' | 'interrupted' | 'skipped' | 'not-started' | 'failed';
  done: number;
  total: number;
  remaining: number;
  error: string | null;
}

export interface StudyReportFiles {
  markdown: string;
  json: string;
}

const pct = (v: number) => (100 * v).toFixed(2);
const stat = (a: Aggregate | undefined, seeds: number) =>
  a ? `${pct(a.test.mean)} ± ${pct(a.test.std)}${a.seeds.length < seeds ? ` (${a.seeds.length}/${seeds} seeds)` : ''}` : '–';
const title = (label: string) => STUDY_MODELS.find((m) => m.label === label)?.title ?? label;

async function aggregatesOf(o: PartOutcome): Promise<Aggregate[]> {
  const opts = o.part.options;
  if (!opts || !existsSync(join(opts.out, RESULTS_FILE))) return [];
  return aggregate(await readResults(join(opts.out, RESULTS_FILE)), opts.lrs);
}

export async function writeStudyReport(outDir: string, outcomes: PartOutcome[], note: string): Promise<StudyReportFiles> {
  const lines: string[] = ['# The paper\'s study: "Exploring Foundation Models Fine-Tuning for Cytology Classification"', ''];
  if (note) lines.push(`**${note}.**`, '');
  lines.push(
    'Top-1 test accuracy (%), mean ± standard deviation over seeds; per seed the learning rate with the best validation accuracy.',
    'See README "Known differences" for where CytoTune and the paper\'s code differ.',
    '',
  );
  const json: Record<string, unknown> = { note, parts: [] as unknown[] };
  const aggs = new Map<PartOutcome, Aggregate[]>();
  for (const o of outcomes) aggs.set(o, await aggregatesOf(o));

  // Table 1: model x dataset.
  const table1 = outcomes.filter((o) => o.part.experiment === 1);
  const models1 = [...new Set(table1.flatMap((o) => o.part.options?.checkpoints.map((c) => c.label) ?? []))];
  lines.push('## Table 1: linear probe on 100 % of the training split', '');
  lines.push(`| model | ${table1.map((o) => datasetTitle(o)).join(' | ')} |`, `|---|${table1.map(() => '---:').join('|')}|`);
  for (const m of models1)
    lines.push(
      `| ${title(m)} | ${table1.map((o) => stat(find(aggs.get(o)!, m, 'linear', { kind: 'percent', value: 100 }), o.part.options?.seeds.length ?? 0)).join(' | ')} |`,
    );
  lines.push('');

  lines.push('## Figure 1: few-shot LoRA against shots per class', '');
  for (const o of outcomes.filter((x) => x.part.experiment === 2)) {
    const opts = o.part.options;
    lines.push(`### ${datasetTitle(o)}`, '');
    if (!opts) {
      lines.push('Not run (see below).', '');
      continue;
    }
    const shots = opts.shots;
    lines.push(`| model | ${shots.map((s) => `${s} shot${s === 1 ? '' : 's'}`).join(' | ')} | linear probe 100 % |`);
    lines.push(`|---|${shots.map(() => '---:').join('|')}|---:|`);
    const probe = outcomes.find((x) => x.part.experiment === 1 && x.part.dataset === o.part.dataset);
    for (const c of opts.checkpoints)
      lines.push(
        `| ${title(c.label)} | ${shots.map((s) => stat(find(aggs.get(o)!, c.label, 'lora', { kind: 'shots', value: s }), opts.seeds.length)).join(' | ')} | ${probe ? stat(find(aggs.get(probe)!, c.label, 'linear', { kind: 'percent', value: 100 }), opts.seeds.length) : '–'} |`,
      );
    const fig = join(opts.out, 'fig-shots.svg');
    lines.push('', existsSync(fig) ? `![Figure 1, ${datasetTitle(o)}](${relative(outDir, fig)})` : '(no figure yet)', '');
  }

  lines.push('## Figure 2: HiCervix by percentage of the training split', '');
  for (const o of outcomes.filter((x) => x.part.experiment === 3)) {
    const opts = o.part.options;
    if (!opts) {
      lines.push('Not run (see below).', '');
      continue;
    }
    const levels = opts.protocol.level ?? 0;
    lines.push(
      `| model | % of training split | level ${levels} (trained) |${Array.from({ length: levels - 1 }, (_, i) => ` level ${i + 1} |`).join('')} lr per seed |`,
      `|---|---:|---:|${Array.from({ length: levels - 1 }, () => '---:|').join('')}---|`,
    );
    for (const a of aggs
      .get(o)!
      .filter((x) => x.method === 'lora' && x.regime.kind === 'percent')
      .sort((x, y) => x.regime.value - y.regime.value)) {
      const coarser = a.levels.slice(0, -1).map((s) => ` ${pct(s.mean)} ± ${pct(s.std)} |`);
      lines.push(
        `| ${title(a.model)} | ${a.regime.value} | ${stat(a, opts.seeds.length)} |${coarser.join('')} ${a.chosenLrs.map(formatLr).join(', ')} |`,
      );
    }
    const fig = join(opts.out, 'fig-percent.svg');
    lines.push('', existsSync(fig) ? `![Figure 2](${relative(outDir, fig)})` : '(no figure yet)', '');
    lines.push('The paper reports 80.23 % level-3 accuracy at 100 % (HierSwin: 78.35 %, on 23 rather than 25 level-3 classes).', '');
  }

  lines.push('## What ran, what was skipped and why', '');
  for (const o of outcomes) {
    const state =
      o.status === 'complete'
        ? `complete, ${o.done} cells`
        : o.status === 'budget' || o.status === 'interrupted'
          ? `stopped (${o.status === 'budget' ? 'time budget' : 'interrupted'}): ${o.done} of ${o.total} cells, ${o.remaining} remain; rerun the same command to continue`
          : o.status === 'not-started'
            ? `not started: ${o.error}; rerun the same command to continue`
            : o.status === 'failed'
              ? `failed: ${o.error}`
              : 'skipped';
    lines.push(`- **${o.part.id}**: ${state}${o.part.options ? ` (${relative(outDir, o.part.options.out) || '.'})` : ''}`);
    for (const s of o.part.skipped) lines.push(`  - ${s}`);
    (json.parts as unknown[]).push({
      id: o.part.id,
      experiment: o.part.experiment,
      dataset: o.part.dataset,
      out: o.part.options?.out ?? null,
      status: o.status,
      done: o.done,
      total: o.total,
      remaining: o.remaining,
      error: o.error,
      skipped: o.part.skipped,
      aggregates: aggs.get(o)!.map(({ chosen: _c, ...a }) => a),
    });
  }
  lines.push('');
  const markdown = join(outDir, 'report.md');
  const jsonPath = join(outDir, 'report.json');
  await writeFileAtomic(markdown, new TextEncoder().encode(lines.join('\n')));
  await writeFileAtomic(jsonPath, new TextEncoder().encode(JSON.stringify(json, null, 2) + '\n'));
  return { markdown, json: jsonPath };
}

function datasetTitle(o: PartOutcome): string {
  return STUDY_DATASETS.find((d) => d.key === o.part.dataset)?.title ?? o.part.dataset;
}
