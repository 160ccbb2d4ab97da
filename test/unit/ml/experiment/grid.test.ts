// The experiment grid (cells, few-shot / percentage subsets), the stratified split and the
// command-line values (budgets, lists, checkpoint names).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSplit, stratifiedSplit } from '../../../../src/ml/experiment/dataSplit';
import { buildGrid, cellData, cellKey, samplePercent } from '../../../../src/ml/experiment/grid';
import {
  defaultLabel,
  formatLr,
  labelCheckpoints,
  parseBudget,
  parseCheckpointArg,
  parseSplit,
} from '../../../../src/ml/experiment/options';
import { parseExperimentArgs } from '../../../../src/cli/commands/experiment';
import type { LabeledItem } from '../../../../src/ml/data/fewShot';
import { herlevFolder } from '../../../support/experimentFixtures';

const items = (perClass: number[]): LabeledItem[] =>
  perClass.flatMap((n, c) => Array.from({ length: n }, (_, i) => ({ path: `/d/c${c}/img${String(i).padStart(3, '0')}.png`, label: c })));

describe('grid', () => {
  const axes = {
    models: ['a', 'b'],
    methods: ['linear', 'lora'] as ('linear' | 'lora')[],
    shots: [4, 1],
    percents: [50],
    seeds: [1, 2],
    lrs: [1e-2, 1e-3],
  };

  it('has every (model, method, regime, seed, lr), and the linear probe also gets 100 % of the data', () => {
    const cells = buildGrid(axes);
    // linear: shots 1, 4 + percent 50, 100 = 4 regimes; lora: 3 regimes; x 2 seeds x 2 lrs x 2 models.
    expect(cells).toHaveLength(2 * (4 + 3) * 2 * 2);
    expect(new Set(cells.map(cellKey)).size).toBe(cells.length);
    expect(cells.slice(0, 5).map(cellKey)).toEqual([
      'a|linear|shots=1|seed=1|lr=1e-2',
      'a|linear|shots=1|seed=1|lr=1e-3',
      'a|linear|shots=1|seed=2|lr=1e-2',
      'a|linear|shots=1|seed=2|lr=1e-3',
      'a|linear|shots=4|seed=1|lr=1e-2',
    ]);
    expect(cells.filter((c) => c.method === 'lora' && c.regime.kind === 'percent' && c.regime.value === 100)).toHaveLength(0);
    expect(cells.filter((c) => c.method === 'linear' && c.regime.kind === 'percent' && c.regime.value === 100)).toHaveLength(8);
  });

  it('few-shot cells validate on min(shots, 4) per class; percentage cells on the whole val split', () => {
    const train = items([30, 30, 30]);
    const val = items([6, 6, 6]).map((it) => ({ ...it, path: it.path.replace('/d/', '/v/') }));
    const d8 = cellData({ kind: 'shots', value: 8 }, 1, train, val, 3);
    expect(d8.train).toHaveLength(24);
    expect(d8.val).toHaveLength(12);
    const d2 = cellData({ kind: 'shots', value: 2 }, 1, train, val, 3);
    expect(d2.val).toHaveLength(6);
    const p = cellData({ kind: 'percent', value: 10 }, 1, train, val, 3);
    expect(p.train).toHaveLength(9);
    expect(p.val).toBe(val);
    // Same seed, same images whatever the method or lr; another seed, other images.
    expect(cellData({ kind: 'shots', value: 8 }, 1, train, val, 3).train).toEqual(d8.train);
    expect(cellData({ kind: 'shots', value: 8 }, 2, train, val, 3).train).not.toEqual(d8.train);
  });

  it('percentage subsets are nested for a seed and keep at least one image per class', () => {
    const train = items([40, 3]);
    const p10 = samplePercent(train, 2, 10, 5);
    const p50 = samplePercent(train, 2, 50, 5);
    expect(p10.filter((it) => it.label === 0)).toHaveLength(4);
    expect(p10.filter((it) => it.label === 1)).toHaveLength(1);
    expect(p50.filter((it) => it.label === 1)).toHaveLength(1);
    const in50 = new Set(p50.map((it) => it.path));
    expect(p10.every((it) => in50.has(it.path))).toBe(true);
    expect(samplePercent(train, 2, 100, 5)).toHaveLength(43);
  });
});

describe('stratified split', () => {
  it('splits each class 70/10/20, seeded, disjoint and complete', () => {
    const all = items([20, 10, 3]);
    const [tr, va, te] = stratifiedSplit(all, 3, [70, 10, 20], 0);
    const count = (xs: LabeledItem[], c: number) => xs.filter((it) => it.label === c).length;
    expect([count(tr, 0), count(va, 0), count(te, 0)]).toEqual([14, 2, 4]);
    expect([count(tr, 1), count(va, 1), count(te, 1)]).toEqual([7, 1, 2]);
    expect([count(tr, 2), count(va, 2), count(te, 2)]).toEqual([2, 0, 1]);
    const paths = [...tr, ...va, ...te].map((it) => it.path);
    expect(new Set(paths).size).toBe(all.length);
    expect(stratifiedSplit(all, 3, [70, 10, 20], 0)).toEqual([tr, va, te]);
    expect(stratifiedSplit(all, 3, [70, 10, 20], 1)[2]).not.toEqual(te);
    // A one-image class keeps its image for training.
    expect(stratifiedSplit(items([1, 5]), 2, [70, 10, 20], 0)[0].filter((it) => it.label === 0)).toHaveLength(1);
  });

  const dir = mkdtempSync(join(tmpdir(), 'cytotune-split-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes split.json with paths relative to --data and reuses it (not re-splitting) on the next run', async () => {
    const data = herlevFolder(join(dir, 'data'), { a: 'normal_superficiel', b: 'severe_dysplastic' }, 10);
    const out = join(dir, 'out');
    const first = await resolveSplit(data, out, [70, 10, 20], 0);
    expect(first.reused).toBe(false);
    expect([first.split.train.length, first.split.val.length, first.split.test.length]).toEqual([14, 2, 4]);
    const file = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8'));
    expect(file.source).toBe('split');
    expect(file.test[0][0]).toMatch(/^[ab]\/[^/]+\.BMP$/i);
    // Other ratios on the rerun: the recorded split wins.
    const again = await resolveSplit(data, out, [50, 25, 25], 9);
    expect(again.reused).toBe(true);
    expect(again.split.test).toEqual(first.split.test);
    await expect(resolveSplit(join(dir, 'elsewhere'), out, [70, 10, 20], 0)).rejects.toMatchObject({ kind: 'invalid-dataset' });
  });
});

describe('command-line values', () => {
  it('parses budgets', () => {
    expect(parseBudget('2h')).toBe(7200);
    expect(parseBudget('90m')).toBe(5400);
    expect(parseBudget('1h30m')).toBe(5400);
    expect(parseBudget('45s')).toBe(45);
    expect(parseBudget('3600')).toBe(3600);
    expect(() => parseBudget('soon')).toThrow(/not a duration/);
  });

  it('names checkpoints after their file (or folder for generic names) and keeps names unique', () => {
    expect(defaultLabel('/m/ViT-B-16.pt')).toBe('ViT-B-16');
    expect(defaultLabel('/m/clip-vit-large-patch14/model.safetensors')).toBe('clip-vit-large-patch14');
    expect(parseCheckpointArg('uni=/m/pytorch_model.bin')).toEqual({ label: 'uni', path: '/m/pytorch_model.bin' });
    expect(
      labelCheckpoints([
        { label: null, path: '/a/x.bin' },
        { label: null, path: '/b/x.bin' },
      ]).map((c) => c.label),
    ).toEqual(['x', 'x-2']);
    expect(() =>
      labelCheckpoints([
        { label: 'm', path: '/a' },
        { label: 'm', path: '/b' },
      ]),
    ).toThrow(/used twice/);
  });

  it('parses the command with paper defaults, and --percent alone means no few-shot cells', () => {
    const o = parseExperimentArgs(['--data', 'd', '--checkpoint', 'a.safetensors', '--out', 'o']);
    if (o === 'help') throw new Error('unexpected help');
    expect(o.shots).toEqual([1, 2, 4, 8, 16, 50]);
    expect(o.seeds).toEqual([1, 2, 3]);
    expect(o.lrs.map(formatLr)).toEqual(['1e-2', '3e-3', '1e-3', '3e-4', '1e-4']);
    expect(o.protocol).toMatchObject({ iters: 100, warmup: 50, epochs: 100, batch: 32, rank: 2, targets: ['q', 'v'] });
    expect(o.split).toEqual([70, 10, 20]);
    const p = parseExperimentArgs([
      '--data',
      'd',
      '--checkpoint',
      'a',
      '--out',
      'o',
      '--percent',
      '10,100',
      '--methods',
      'lora',
      '--budget',
      '90m',
    ]);
    if (p === 'help') throw new Error('unexpected help');
    expect(p.shots).toEqual([]);
    expect(p.percents).toEqual([10, 100]);
    expect(p.budgetSeconds).toBe(5400);
    expect(() => parseExperimentArgs(['--data', 'd', '--checkpoint', 'a', '--out', 'o', '--methods', 'svm'])).toThrow(/not linear or lora/);
    expect(() => parseSplit('70,30')).toThrow(/three ratios/);
  });
});
