// `cytotune experiment` end to end on real Herlev images (4 classes x 20, split 70/10/20) with a
// tiny random CLIP-layout checkpoint: two shots values, two seeds, two learning rates, both
// methods and two data percentages. Checks the CSV, the lr choice (recomputed here from the
// CSV), summary.md / summary.json, both figures as SVG and PNG, and that a rerun does nothing.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExperiment } from '../../../../src/cli/commands/experiment';
import { useBackend } from '../../../support/tfBackend';
import { capture, herlevFolder, tinyCheckpoint } from '../../../support/experimentFixtures';

let dir: string;
let ckpt: string;
let data: string;

const CLASSES = {
  carcinoma_in_situ: 'carcinoma_in_situ',
  normal_columnar: 'normal_columnar',
  normal_superficiel: 'normal_superficiel',
  severe_dysplastic: 'severe_dysplastic',
};
const LRS = [1e-2, 1e-3];

beforeAll(async () => {
  await useBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'cytotune-exp-'));
  ckpt = tinyCheckpoint(dir);
  data = herlevFolder(join(dir, 'data'), CLASSES, 20);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const args = (out: string, extra: string[] = []) => [
  '--data',
  data,
  '--checkpoint',
  `tiny=${ckpt}`,
  '--out',
  out,
  '--methods',
  'linear,lora',
  '--shots',
  '1,2',
  '--seeds',
  '1,2',
  '--lrs',
  LRS.join(','),
  '--percent',
  '50,100',
  '--iters',
  '8',
  '--warmup',
  '5',
  '--epochs',
  '40',
  '--heads',
  '2',
  '--backend',
  'wasm',
  ...extra,
];

type Row = Record<string, string>;
function readCsv(path: string): Row[] {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

describe('cytotune experiment on Herlev', () => {
  it('runs the grid and writes results.csv, summary.md, summary.json and both figures (SVG + PNG)', async () => {
    const before = tf.memory().numTensors;
    const out = join(dir, 'out');
    const c = capture();
    const t0 = performance.now();
    const code = await runExperiment(args(out), c.io);
    console.log(`experiment: 32 cells in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(c.err.filter((l) => l.startsWith('cytotune experiment:'))).toEqual([]);
    expect(code).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    // Progress on stderr: every cell, numbered, with an eta.
    expect(c.err.filter((l) => /^cell \d+\/32: /.test(l))).toHaveLength(32);
    expect(c.err.some((l) => /^cell 32\/32 done in [\d.]+ s: val [\d.]+ %, test [\d.]+ % \(eta/.test(l))).toBe(true);
    expect(c.out.at(-1)).toMatch(/^32 of 32 cells done \(32 in this run\)/);
    // The linear probe's features are computed on ONNX Runtime (the fast engine), not tfjs.
    expect([...c.out, ...c.err].some((l) => /features of \d+ images computed in [\d.]+ s on onnx$/.test(l))).toBe(true);

    // Split: 20 images per class -> 14 / 2 / 4.
    const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    expect([split.train.length, split.val.length, split.test.length]).toEqual([56, 8, 16]);

    // linear: shots 1, 2 + 50 %, 100 %; lora: the same 4 regimes; x 2 seeds x 2 lrs.
    const rows = readCsv(join(out, 'results.csv'));
    expect(rows).toHaveLength(32);
    const key = (r: Row) => [r.model, r.method, r.shots, r.percent, r.seed, r.lr].join('|');
    expect(new Set(rows.map(key)).size).toBe(32);
    for (const r of rows) {
      expect(Number(r.test_images)).toBe(16);
      if (r.shots) {
        expect(Number(r.train_images)).toBe(4 * Number(r.shots));
        expect(Number(r.val_images)).toBe(4 * Math.min(Number(r.shots), 4));
      } else {
        expect(Number(r.val_images)).toBe(8);
        expect(Number(r.train_images)).toBe(r.percent === '50' ? 28 : 56);
      }
      // LoRA: warmup + iters x (shots, or batches of 32 per epoch); probe: epochs x batches.
      if (r.method === 'lora') expect(Number(r.steps)).toBe(5 + 8 * (r.shots ? Number(r.shots) : Math.ceil(Number(r.train_images) / 32)));
      else expect(Number(r.steps)).toBe(40 * Math.ceil(Number(r.train_images) / 32));
    }

    // The lr chosen per (model, method, regime, seed) is the one with the highest val accuracy
    // (ties: lower val loss, then the --lrs order), recomputed here from the CSV.
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
      const g = [r.model, r.method, r.shots, r.percent, r.seed].join('|');
      groups.set(g, [...(groups.get(g) ?? []), r]);
    }
    const best = (g: Row[]) =>
      [...g].sort(
        (a, b) =>
          Number(b.val_acc) - Number(a.val_acc) ||
          Number(a.val_loss) - Number(b.val_loss) ||
          LRS.indexOf(Number(a.lr)) - LRS.indexOf(Number(b.lr)),
      )[0];
    // At least one sweep where the val accuracies differ, so the choice is not only tie-breaking.
    expect([...groups.values()].some((g) => new Set(g.map((r) => r.val_acc)).size > 1)).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.aggregates).toHaveLength(8);
    for (const a of summary.aggregates) {
      const shots = a.regime.kind === 'shots' ? String(a.regime.value) : '';
      const percent = a.regime.kind === 'percent' ? String(a.regime.value) : '';
      const chosen = a.seeds.map((seed: number) => best(groups.get([a.model, a.method, shots, percent, String(seed)].join('|'))!));
      expect(a.chosenLrs).toEqual(chosen.map((r: Row) => Number(r.lr)));
      const tests = chosen.map((r: Row) => Number(r.test_acc));
      const mean = tests.reduce((x: number, y: number) => x + y, 0) / tests.length;
      expect(a.test.mean).toBeCloseTo(mean, 12);
      expect(a.test.std).toBeCloseTo(Math.sqrt(tests.reduce((x: number, y: number) => x + (y - mean) ** 2, 0) / tests.length), 12);
    }

    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain('## Linear probe on the whole training split (Table 1)');
    expect(md).toContain('## LoRA, accuracy per shots');
    expect(md).toMatch(/\| tiny \| \d+\.\d\d ± \d+\.\d\d \| \d+\.\d\d ± \d+\.\d\d \|\n/); // shots table row: 1 shot | 2 shots
    expect(md).toContain('## LoRA, accuracy per percentage of the training split');

    for (const fig of ['fig-shots', 'fig-percent']) {
      const svg = readFileSync(join(out, `${fig}.svg`), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('class="point"');
      const meta = await sharp(join(out, `${fig}.png`)).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBeGreaterThan(700);
    }
    // Figure 1 has the linear probe on 100 % of the data as a horizontal reference line.
    expect(readFileSync(join(out, 'fig-shots.svg'), 'utf8')).toMatch(/class="ref"[^>]*><title>tiny linear probe, 100 %/);
    expect(existsSync(join(out, 'features', 'tiny.safetensors'))).toBe(true);
  });

  it('a rerun of the same command reuses the split and runs nothing', async () => {
    const out = join(dir, 'out');
    const csvBefore = readFileSync(join(out, 'results.csv'), 'utf8');
    const c = capture();
    expect(await runExperiment(args(out), c.io)).toBe(0);
    expect(c.err.some((l) => l.startsWith('reusing') && l.includes('split.json'))).toBe(true);
    expect(c.err.filter((l) => /^cell \d+\/32: /.test(l))).toEqual([]);
    expect(c.out.at(-1)).toMatch(/^32 of 32 cells done \(0 in this run\)/);
    expect(readFileSync(join(out, 'results.csv'), 'utf8')).toBe(csvBefore);
    // Another protocol in the same folder is refused rather than mixed in.
    const d = capture();
    expect(await runExperiment(args(out, ['--iters', '9']), d.io)).toBe(1);
    expect(d.err.join('\n')).toMatch(/started with iters = 8, now 9/);
  });
});

describe('hierarchical labels on Herlev', () => {
  it('folder names Parent__Child: trains at --level 2 and reports levels 1 and 2', async () => {
    const hdata = herlevFolder(
      join(dir, 'hdata'),
      {
        abnormal__carcinoma_in_situ: 'carcinoma_in_situ',
        abnormal__severe_dysplastic: 'severe_dysplastic',
        normal__normal_columnar: 'normal_columnar',
        normal__normal_superficiel: 'normal_superficiel',
      },
      12,
    );
    const out = join(dir, 'hout');
    const c = capture();
    const code = await runExperiment(
      [
        '--data',
        hdata,
        '--checkpoint',
        ckpt,
        '--out',
        out,
        '--methods',
        'linear,lora',
        '--shots',
        '2',
        '--seeds',
        '1',
        '--lrs',
        '1e-2',
        '--iters',
        '4',
        '--warmup',
        '2',
        '--epochs',
        '30',
        '--heads',
        '2',
        '--backend',
        'wasm',
        '--level',
        '2',
      ],
      c.io,
    );
    expect(code).toBe(0);
    const rows = readCsv(join(out, 'results.csv'));
    expect(rows).toHaveLength(3); // linear 2 shots, linear 100 %, lora 2 shots
    for (const r of rows) {
      expect(r.test_acc_level2).toBe(r.test_acc); // the training level is the fine one
      // A prediction right at level 2 is right at level 1.
      expect(Number(r.test_acc_level1)).toBeGreaterThanOrEqual(Number(r.test_acc_level2));
    }
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('## Accuracy per level (hierarchical labels)');
  });

  it('a --tree JSON file at --level 1 trains on the two roots', async () => {
    const tree = join(dir, 'tree.json');
    writeFileSync(
      tree,
      JSON.stringify({ abnormal: ['carcinoma_in_situ', 'severe_dysplastic'], normal: ['normal_columnar', 'normal_superficiel'] }),
    );
    const out = join(dir, 'tout');
    const c = capture();
    const code = await runExperiment(
      [
        '--data',
        data,
        '--checkpoint',
        ckpt,
        '--out',
        out,
        '--methods',
        'linear',
        '--shots',
        '2',
        '--seeds',
        '1',
        '--lrs',
        '1e-2',
        '--epochs',
        '30',
        '--heads',
        '2',
        '--backend',
        'wasm',
        '--tree',
        tree,
        '--level',
        '1',
      ],
      c.io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')).classNames).toEqual(['abnormal', 'normal']);
    const rows = readCsv(join(out, 'results.csv'));
    expect(rows.map((r) => r.train_images)).toEqual(['4', '56']); // 2 shots x 2 classes; all 56 training images
    for (const r of rows) expect(r.test_acc_level1).toBe(r.test_acc);
    const bad = capture();
    writeFileSync(tree, JSON.stringify({ abnormal: ['carcinoma_in_situ'], normal: ['normal_columnar'] }));
    expect(
      await runExperiment(['--data', data, '--checkpoint', ckpt, '--out', join(dir, 'bad'), '--tree', tree, '--heads', '2'], bad.io),
    ).toBe(1);
    expect(bad.err.join('\n')).toMatch(/normal_superficiel, severe_dysplastic are not in the class tree/);
  });
});
