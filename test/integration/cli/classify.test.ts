// `cytotune classify` in-process: a real tiny run (trained by `cytotune train` on Herlev crops,
// random tiny checkpoint) over a small synthetic LBC slide, per detected cell and as a grid,
// and the one-line refusals of bad input.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { command } from '../../../src/cli/commands/classify';
import { runTrain } from '../../../src/cli/commands/train';
import type { RunConfig } from '../../../src/ml/training/runDir';
import { herlevDir, tempDir } from '../../support/paths';
import { syntheticSlide, truthAt } from '../../support/syntheticSlides';
import { useBackend } from '../../support/tfBackend';
import { writeTinyCheckpoint } from '../../support/tinyModel';
import type { SyntheticSlide } from '../../../scripts/synthetic-lbc-slide';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

let dir: string;
let run: string;
let slide: SyntheticSlide;
let config: RunConfig;

beforeAll(async () => {
  await useBackend('wasm');
  dir = tempDir('cytotune-classify-');
  run = join(dir, 'run');
  const ckpt = writeTinyCheckpoint(dir);
  const trained = capture();
  const args = ['--data', herlevDir, '--checkpoint', ckpt, '--out', run, '--method', 'linear', '--shots', '2', '--steps', '4'];
  expect(await runTrain([...args, '--seed', '1', '--backend', 'wasm'], trained.io), trained.err.join('\n')).toBe(0);
  config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as RunConfig;
  slide = await syntheticSlide(dir, 'lbc', ['normal_superficiel', 'severe_dysplastic'], 12, 5);
}, 180_000);

const rowsOf = (csv: string) => {
  const [header, ...rows] = readFileSync(csv, 'utf8').trim().split('\n');
  return { header: header.split(','), rows: rows.map((r) => r.split(',')) };
};

describe('cytotune classify', () => {
  it('--cells: detects the cells, then one row per cell at the training scale, with progress', async () => {
    // An ImageFolder run records its crops' side (Herlev: 40 px): cells are cut at that size.
    expect(config.scale).toEqual({ patchUm: null, patchPx: 40 });
    const c = capture();
    const csv = join(dir, 'cells.csv');
    expect(await command.run(['--run', run, '--slide', slide.path, '--csv', csv], c.io), c.err.join('\n')).toBe(0);
    const { header, rows } = rowsOf(csv);
    expect(header).toEqual(['x', 'y', 'class', ...config.classNames.map((n) => `p_${n}`)]);
    expect(rows.length).toBeGreaterThanOrEqual(11);
    expect(rows.length).toBeLessThanOrEqual(14);
    for (const r of rows) {
      // Each row sits on a planted cell (its detected centre) and its probabilities sum to 1.
      expect(truthAt(slide, Number(r[0]), Number(r[1])).distance).toBeLessThan(15);
      expect(config.classNames).toContain(r[2]);
      const p = r.slice(3).map(Number);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(config.classNames[p.indexOf(Math.max(...p))]).toBe(r[2]);
    }
    expect(c.err.some((l) => /^detect: tile \d+\/\d+, \d+ cells/.test(l))).toBe(true);
    expect(c.err.some((l) => /^classify: \d+\/\d+ cells/.test(l))).toBe(true);
    expect(c.err.at(-1)).toMatch(/^classify: \d+ cells in .* \(40 px squares\)$/);
    expect(c.out).toEqual([`wrote ${rows.length} rows to ${csv}`]);
  }, 120_000);

  it('--grid: one row per tissue patch, at its centre, none on bare glass', async () => {
    const c = capture();
    const csv = join(dir, 'grid.csv');
    expect(await command.run(['--run', run, '--slide', slide.path, '--grid', '--patch-size', '64', '--csv', csv], c.io)).toBe(0);
    const { rows } = rowsOf(csv);
    const grid = Math.floor(slide.width / 64) * Math.floor(slide.height / 64);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(grid);
    for (const r of rows) expect((Number(r[0]) - 32) % 64).toBe(0);
    expect(c.err.some((l) => l.startsWith('detect'))).toBe(false);
  }, 120_000);

  it('bad input exits non-zero with one line, before anything is classified', async () => {
    const png = join(dir, 'plain.png');
    writeFileSync(png, readFileSync(join(herlevDir, 'normal_superficiel', readdirFirst('normal_superficiel'))));
    const cases: [string[], number, RegExp][] = [
      [['--run', join(dir, 'nope'), '--slide', slide.path, '--csv', join(dir, 'x.csv')], 1, /not a training run/],
      [['--run', run, '--slide', png, '--csv', join(dir, 'x.csv')], 1, /is not a whole-slide image/],
      [['--run', run, '--slide', join(dir, 'missing.tiff'), '--csv', join(dir, 'x.csv')], 1, /is not a whole-slide image/],
      [['--run', run, '--slide', slide.path, '--csv', join(dir, 'x.csv'), '--cels'], 2, /unknown option --cels/],
      [['--run', run, '--slide', slide.path, '--cells', '--grid', '--csv', join(dir, 'x.csv')], 2, /either --cells or --grid/],
      [['--run', run, '--slide', slide.path], 2, /--csv is required/],
    ];
    for (const [args, code, message] of cases) {
      const c = capture();
      expect(await command.run(args, c.io), args.join(' ')).toBe(code);
      expect(c.err).toHaveLength(1);
      expect(c.err[0]).toMatch(message);
    }
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });

  it('--help prints the usage', async () => {
    const c = capture();
    expect(await command.run(['--help'], c.io)).toBe(0);
    expect(c.out[0]).toMatch(/^usage: cytotune classify --run RUN_DIR --slide SLIDE \[--cells \| --grid\] --csv OUT/);
  });
});

function readdirFirst(cls: string): string {
  return readdirSync(join(herlevDir, cls)).sort()[0];
}
