// Resuming and reproducing experiments on real Herlev images with a tiny random checkpoint:
// interrupted between cells (AbortSignal) or by the time budget, a rerun runs only the missing
// cells; a LoRA cell stopped mid-training resumes from its checkpoint and ends exactly as an
// uninterrupted run; the same cell run twice gives the same numbers.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExperimentArgs, runExperiment } from '../../../../src/cli/commands/experiment';
import { readResults, type ResultRow } from '../../../../src/ml/experiment/resultsCsv';
import { runExperimentGrid, type ExperimentEvent } from '../../../../src/ml/experiment/runGrid';
import { useBackend } from '../../../support/tfBackend';
import { capture, herlevFolder, tinyCheckpoint } from '../../../support/experimentFixtures';
import type { ExperimentOptions } from '../../../../src/shared/training';

let dir: string;
let ckpt: string;
let data: string;

beforeAll(async () => {
  await useBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'cytotune-exp-resume-'));
  ckpt = tinyCheckpoint(dir);
  data = herlevFolder(
    join(dir, 'data'),
    { carcinoma_in_situ: 'carcinoma_in_situ', normal_columnar: 'normal_columnar', normal_superficiel: 'normal_superficiel' },
    14,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** linear: shots 1, 2 and 100 %; lora: shots 1, 2; one seed, two lrs: 10 cells. */
function options(out: string, extra: string[] = []): ExperimentOptions {
  const o = parseExperimentArgs([
    '--data',
    data,
    '--checkpoint',
    `tiny=${ckpt}`,
    '--out',
    join(dir, out),
    '--methods',
    'linear,lora',
    '--shots',
    '1,2',
    '--seeds',
    '1',
    '--lrs',
    '1e-2,1e-3',
    '--iters',
    '8',
    '--warmup',
    '5',
    '--epochs',
    '30',
    '--heads',
    '2',
    ...extra,
  ]);
  if (o === 'help') throw new Error('unexpected help');
  return o;
}

const starts = (events: ExperimentEvent[]) =>
  events.filter((e): e is Extract<ExperimentEvent, { type: 'cell-start' }> => e.type === 'cell-start');
const numbers = (r: ResultRow) => ({
  key: [r.model, r.method, r.regime.kind, r.regime.value, r.seed, r.lr],
  val: r.valAcc,
  loss: r.valLoss,
  test: r.testAcc,
  bal: r.testBalancedAcc,
  steps: r.steps,
});

describe('interrupting and resuming an experiment', () => {
  it('stopped by an AbortSignal after 4 cells, a rerun runs only the other 6 and leaves the first rows as they were', async () => {
    const before = tf.memory().numTensors;
    const o = options('abort');
    const ctrl = new AbortController();
    const first: ExperimentEvent[] = [];
    const r1 = await runExperimentGrid(o, {
      signal: ctrl.signal,
      onEvent: (e) => {
        first.push(e);
        if (e.type === 'cell-done' && e.index === 4) ctrl.abort();
      },
    });
    expect(r1).toMatchObject({ status: 'interrupted', total: 10, done: 4, ranNow: 4 });
    expect(r1.remaining).toHaveLength(6);
    expect(starts(first)).toHaveLength(4);
    const csv = join(o.out, 'results.csv');
    const rowsBefore = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rowsBefore).toHaveLength(1 + 4);
    expect(readFileSync(join(o.out, 'summary.md'), 'utf8')).toContain('4 of 10 cells done (6 remain');

    const second: ExperimentEvent[] = [];
    const r2 = await runExperimentGrid(o, { onEvent: (e) => second.push(e) });
    expect(r2).toMatchObject({ status: 'complete', done: 10, ranNow: 6, remaining: [] });
    // Only the 6 missing cells were trained, numbered 5..10 of 10.
    expect(starts(second).map((e) => e.index)).toEqual([5, 6, 7, 8, 9, 10]);
    // LoRA cells are evaluated through the InferenceEngine (ONNX Runtime here), linear cells on
    // the features it computed (the second run reads them from the feature cache).
    const doneEvents = [...first, ...second].filter((e): e is Extract<ExperimentEvent, { type: 'cell-done' }> => e.type === 'cell-done');
    expect(new Set(doneEvents.map((e) => e.row.method))).toEqual(new Set(['linear', 'lora']));
    for (const e of doneEvents)
      expect(e.evaluatedOn).toBe(e.row.method === 'lora' ? 'onnx' : first.includes(e) ? 'features (onnx)' : 'features (feature cache)');
    const rowsAfter = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rowsAfter).toHaveLength(1 + 10);
    expect(rowsAfter.slice(0, 5)).toEqual(rowsBefore); // first run's rows (timestamps included) untouched
    const rows = await readResults(csv);
    expect(new Set(rows.map((r) => JSON.stringify(numbers(r).key))).size).toBe(10);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('--budget stops scheduling new cells once the time is spent (clock injected), and the rerun completes the grid', async () => {
    const o = { ...options('budget'), budgetSeconds: 25 };
    // Every finished cell advances the clock by 10 s: cells start at 0, 10 and 20 s; at 30 s the budget is spent.
    let t = 0;
    const r1 = await runExperimentGrid(o, {
      now: () => t,
      onEvent: (e) => {
        if (e.type === 'cell-done') t += 10_000;
      },
    });
    expect(r1).toMatchObject({ status: 'budget', done: 3, ranNow: 3 });
    expect(r1.remaining).toHaveLength(7);
    const r2 = await runExperimentGrid({ ...o, budgetSeconds: null });
    expect(r2).toMatchObject({ status: 'complete', done: 10, ranNow: 7 });
  });

  it('the command reports what was done and what remains, exit code 3, when the budget is spent', async () => {
    const c = capture();
    const out = join(dir, 'budget0');
    const code = await runExperiment(
      [
        '--data',
        data,
        '--checkpoint',
        ckpt,
        '--out',
        out,
        '--methods',
        'lora',
        '--shots',
        '1',
        '--seeds',
        '1,2',
        '--lrs',
        '1e-2',
        '--heads',
        '2',
        '--backend',
        'wasm',
        '--budget',
        '0',
      ],
      c.io,
    );
    expect(code).toBe(3);
    expect(c.out.join('\n')).toMatch(/0 of 2 cells done \(0 in this run\)/);
    expect(c.out.join('\n')).toMatch(
      /stopped: the time budget \(0 s\) is spent; 2 cells remain \(next: tiny lora shots=1 seed 1 lr 1e-2; tiny lora shots=1 seed 2 lr 1e-2\); rerun the same command to continue/,
    );
  });
});

describe('reproducibility', () => {
  const single = (out: string) => options(out, ['--shots', '2', '--lrs', '1e-2']); // linear 2 shots + 100 %, lora 2 shots

  it('the same cells run twice (fresh folders) give the same accuracies; a LoRA cell cut mid-training resumes to the same result', async () => {
    const before = tf.memory().numTensors;
    await runExperimentGrid(single('rep1'));
    await runExperimentGrid(single('rep2'));
    const a = (await readResults(join(dir, 'rep1', 'results.csv'))).map(numbers);
    const b = (await readResults(join(dir, 'rep2', 'results.csv'))).map(numbers);
    expect(a).toHaveLength(3);
    expect(b).toEqual(a);

    // Stop the LoRA cell at step 7 of 21: its checkpoint stays in OUT/cells and nothing is recorded.
    const o = { ...single('cut'), methods: ['lora' as const] };
    const ctrl = new AbortController();
    const r1 = await runExperimentGrid(o, {
      signal: ctrl.signal,
      onEvent: (e) => {
        if (e.type === 'cell-progress' && e.progress.step === 7) ctrl.abort();
      },
    });
    expect(r1).toMatchObject({ status: 'interrupted', done: 0 });
    expect(readdirSync(join(o.out, 'cells'))).toHaveLength(1);
    const resumed: number[] = [];
    const r2 = await runExperimentGrid(o, {
      onEvent: (e) => {
        if (e.type === 'cell-progress') resumed.push(e.progress.step);
      },
    });
    expect(r2.status).toBe('complete');
    expect(resumed[0]).toBe(8); // continued, not restarted
    expect(resumed.at(-1)).toBe(21);
    expect(existsSync(join(o.out, 'cells'))).toBe(false);
    const lora = (await readResults(join(o.out, 'results.csv'))).map(numbers);
    expect(lora).toEqual(a.filter((x) => x.key[1] === 'lora'));
    expect(tf.memory().numTensors).toBe(before);
  });
});
