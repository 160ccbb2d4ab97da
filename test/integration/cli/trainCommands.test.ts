// `cytotune train` and `cytotune predict` in-process, on a tiny random checkpoint written to a
// temp folder (real safetensors file through the real loader) and real Herlev images.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPredict } from '../../../src/cli/commands/predict';
import { runTrain } from '../../../src/cli/commands/train';
import { randomStateDict, writeSafetensors } from '../../../src/ml/models/randomEncoder';
import { herlevSubset, HERLEV_DIR } from '../../support/herlevData';
import { SLIDE } from '../../support/slideHelpers';
import { useBackend } from '../../support/tfBackend';

let dir: string;
let ckpt: string;
let otherCkpt: string;
let testDir: string;
const spec = { family: 'openai-clip' as const, imageSize: 32, patchSize: 8, width: 32, depth: 2, heads: 2, outputDim: 16 };

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

beforeAll(async () => {
  await useBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'cytotune-cmd-'));
  ckpt = join(dir, 'tiny-clip.safetensors');
  otherCkpt = join(dir, 'other-clip.safetensors');
  writeSafetensors(ckpt, randomStateDict(spec, 1));
  writeSafetensors(otherCkpt, randomStateDict(spec, 2));
  // A small test folder: links to 3 images of each of two classes (ImageFolder layout).
  testDir = join(dir, 'test');
  const items = await herlevSubset(['normal_superficiel', 'severe_dysplastic'], 3);
  for (const it of items) {
    const cls = it.label === 0 ? 'normal_superficiel' : 'severe_dysplastic';
    mkdirSync(join(testDir, cls), { recursive: true });
    symlinkSync(it.path, join(testDir, cls, basename(it.path)));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const trainArgs = (out: string, extra: string[] = []) => [
  '--data',
  HERLEV_DIR,
  '--checkpoint',
  ckpt,
  '--out',
  out,
  '--shots',
  '2',
  '--seed',
  '3',
  '--steps',
  '12',
  '--heads',
  '2',
  '--test',
  testDir,
  '--backend',
  'wasm',
  '--lr',
  '1e-2',
  ...extra,
];

describe('cytotune train / predict', () => {
  it('train --method lora writes config, adapter, head and metrics; predict reproduces the test metrics', async () => {
    const before = tf.memory().numTensors;
    const run = join(dir, 'run-lora');
    const c = capture();
    const code = await runTrain(trainArgs(run, ['--method', 'lora', '--rank', '2', '--targets', 'q,v']), c.io);
    expect(code).toBe(0);
    expect(c.err).toEqual([]);
    // The run length comes first, with how it was set, then the trainer's own summary.
    expect(c.out[0]).toBe('run length: 12 steps (--steps)');
    expect(c.out[1]).toMatch(/training lora on 14 images, 7 classes.*, 12 steps/);
    expect(c.out.some((l) => /^step 12\/12 epoch \d+ loss \d/.test(l))).toBe(true);
    for (const f of ['config.json', 'adapter.safetensors', 'head.safetensors', 'metrics.json']) expect(existsSync(join(run, f))).toBe(true);
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(config.lora).toMatchObject({ rank: 2, targets: ['q', 'v'], blocks: [0, 1] });
    expect(config.settings).toMatchObject({ lr: 1e-2, seed: 3, shots: 2, batchSize: 32, weightDecay: 1e-2 });
    expect(config.data).toMatchObject({ trainImages: 14, valImages: 14, testImages: 6 });
    expect(config.pipeline).toMatchObject({ kind: 'bicubic', size: 32, scale: [0.7, 1] });
    const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
    expect(metrics.steps).toBe(12);
    expect(metrics.trainableParameters).toBe(2 * 2 * (2 * 32 + 32 * 2) + 16 * 7 + 7);
    expect(metrics.test.count).toBe(6);
    expect(metrics.test.confusion).toHaveLength(7);
    // Evaluated on ONNX Runtime (fp32), and the int8 check stored with the run: all 34 labelled
    // items (14 train, 14 val, 6 test), against those fp32 probabilities.
    expect(metrics.evaluation).toMatchObject({ engine: 'onnx', detail: expect.stringMatching(/^onnxruntime-node /) });
    expect(metrics.int8).toMatchObject({
      n: 34,
      bar: { minTop1Agreement: 0.99, maxProbDiff: 0.02 },
      graph: { exporter: expect.any(Number) },
    });
    expect(metrics.int8.passed).toBe(metrics.int8.top1Agreement >= 0.99 && metrics.int8.maxProbDiff <= 0.02);
    // Issue 13's bar on a tiny model trained on the test data: int8 top-1 equals fp32 on >= 99 %
    // of the images, probabilities within 0.02.
    expect(metrics.int8.top1Agreement).toBeGreaterThanOrEqual(0.99);
    expect(metrics.int8.maxProbDiff).toBeLessThanOrEqual(0.02);

    const csvPath = join(dir, 'pred.csv');
    const p = capture();
    expect(await runPredict(['--run', run, '--folder', testDir, '--csv', csvPath, '--backend', 'wasm'], p.io)).toBe(0);
    const rows = readFileSync(csvPath, 'utf8').trim().split('\n');
    expect(rows[0].split(',').slice(0, 3)).toEqual(['path', 'predicted', `p_${config.classNames[0]}`]);
    expect(rows).toHaveLength(7);
    // The CSV's accuracy on the test folder equals the test top-1 the training run reported.
    const correct = rows.slice(1).filter((r) => r.split(',')[0].includes(`/${r.split(',')[1]}/`)).length;
    expect(correct / 6).toBeCloseTo(metrics.test.top1, 12);
    // The folder's class subfolders are the run's classes: predict reports that accuracy itself.
    expect(p.out[0]).toBe(`wrote 6 predictions to ${csvPath}`);
    expect(p.out[1]).toBe(
      `top-1 accuracy ${(100 * metrics.test.top1).toFixed(2)} % (${correct} of 6 images; labels from the class folders)`,
    );
    for (const cls of ['normal_superficiel', 'severe_dysplastic'])
      expect(p.out.find((l) => l.trim().startsWith(`${cls} `))).toMatch(/ 3 images, \d correct \(\d+\.\d\d %\), \d predicted$/);
    // auto read the stored check: int8 where it passed, full precision where not, and says so.
    expect(p.out.at(-1)).toMatch(
      metrics.int8.passed
        ? /^engine: onnxruntime-node \S+ int8 .*; int8: the stored check passed/
        : /; full precision: the stored int8 check did not pass/,
    );
    // The graph it ran was written at the end of training (evaluation, int8 check): no second export.
    expect(p.out.at(-1)).toMatch(/graph cache hit\)/);
    const probs = rows[1].split(',').slice(2).map(Number);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);

    const single = capture();
    const imgs = rows.slice(1, 3).map((r) => r.split(',')[0]);
    expect(await runPredict(['--run', run, '--image', ...imgs, '--backend', 'wasm'], single.io)).toBe(0);
    const lines = single.out.join('\n').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe(rows[1]);

    const wrongBase = capture();
    expect(await runPredict(['--run', run, '--image', imgs[0], '--checkpoint', otherCkpt, '--backend', 'wasm'], wrongBase.io)).toBe(1);
    expect(wrongBase.err).toHaveLength(1);
    expect(wrongBase.err[0]).toMatch(/trained on another base model/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('train --method linear writes a head and no adapter', async () => {
    const run = join(dir, 'run-linear');
    const c = capture();
    expect(await runTrain(trainArgs(run, ['--method', 'linear', '--steps', '8']), c.io)).toBe(0);
    expect(existsSync(join(run, 'head.safetensors'))).toBe(true);
    expect(existsSync(join(run, 'adapter.safetensors'))).toBe(false);
    // Features and evaluation both through the InferenceEngine (ONNX Runtime here), not tfjs.
    expect(c.out.some((l) => /^linear-probe features on onnxruntime-node /.test(l))).toBe(true);
    expect(c.out.some((l) => /^evaluated on onnxruntime-node /.test(l))).toBe(true);
    expect(JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')).evaluation.engine).toBe('onnx');
    const p = capture();
    expect(
      await runPredict(
        ['--run', run, '--image', join(testDir, 'normal_superficiel', readdirFirst(join(testDir, 'normal_superficiel')))],
        p.io,
      ),
    ).toBe(0);
  });

  it('bad input gives a non-zero exit and a one-line reason', async () => {
    const cases: [string[], number, RegExp][] = [
      [
        ['--checkpoint', ckpt, '--method', 'lora', '--out', join(dir, 'x')],
        2,
        /give one of --data DIR, --tensor X.npy --labels FILE or --project FILE/,
      ],
      [['--data', HERLEV_DIR, '--checkpoint', ckpt, '--method', 'svm', '--out', join(dir, 'x')], 2, /--method must be lora or linear/],
      [trainArgs(join(dir, 'x'), ['--method', 'lora', '--shots', 'many']), 2, /--shots expects a positive integer, got "many"/],
      [trainArgs(join(dir, 'x'), ['--method', 'lora', '--targets', 'q,z']), 2, /unknown target "z"/],
      [['--data', join(dir, 'nope'), '--checkpoint', ckpt, '--method', 'lora', '--out', join(dir, 'x')], 1, /folder not found/],
      [
        [
          '--data',
          HERLEV_DIR,
          '--checkpoint',
          join(dir, 'junk.safetensors'),
          '--method',
          'lora',
          '--out',
          join(dir, 'x'),
          '--backend',
          'wasm',
        ],
        1,
        /junk/,
      ],
    ];
    writeFileSync(join(dir, 'junk.safetensors'), 'this is not a checkpoint');
    for (const [args, code, msg] of cases) {
      const c = capture();
      expect(await runTrain(args, c.io)).toBe(code);
      expect(c.err[0]).toMatch(msg);
      expect(c.err[0]).not.toContain('\n');
    }
    const p = capture();
    expect(await runPredict(['--run', join(dir, 'nope')], p.io)).toBe(2);
    expect(p.err[0]).toMatch(/either --image IMG... or --folder DIR/);
    const q = capture();
    expect(await runPredict(['--run', join(dir, 'nope'), '--folder', testDir], q.io)).toBe(1);
    expect(q.err[0]).toMatch(/not a training run/);
  });
});

describe('cytotune train / predict: fixes from the walk-through', () => {
  // Like trainArgs, but the run length is left to each case.
  const lengthArgs = (out: string, extra: string[]) => [
    '--data',
    HERLEV_DIR,
    '--checkpoint',
    ckpt,
    '--out',
    out,
    '--shots',
    '2',
    '--seed',
    '3',
    '--heads',
    '2',
    '--backend',
    'wasm',
    ...extra,
  ];
  let run: string;
  const first = capture();
  beforeAll(async () => {
    run = join(dir, 'run-epochs');
    expect(await runTrain(lengthArgs(run, ['--method', 'lora', '--epochs', '2']), first.io)).toBe(0);
  });

  it('--epochs N is N passes for LoRA too, and the run length is printed with its formula first', () => {
    expect(first.out[0]).toBe('run length: 2 epochs x 1 batch per epoch (14 images / batch 32) = 2 steps');
    expect(JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8')).steps).toBe(2);
  });

  it('--iters with the linear probe, or two run-length options, are usage errors', async () => {
    const linear = capture();
    expect(await runTrain(lengthArgs(join(dir, 'y'), ['--method', 'linear', '--iters', '30']), linear.io)).toBe(2);
    expect(linear.err).toHaveLength(1);
    expect(linear.err[0]).toMatch(/--iters sets a LoRA run's length .*the linear probe trains for --epochs N/);
    const both = capture();
    expect(await runTrain(lengthArgs(join(dir, 'y'), ['--method', 'lora', '--iters', '30', '--steps', '5']), both.io)).toBe(2);
    expect(both.err[0]).toMatch(/--iters and --steps both set the run length: give one/);
    expect(existsSync(join(dir, 'y'))).toBe(false);
  });

  it('--out holding a run is refused unless --force (which replaces it) or --resume', async () => {
    const refused = capture();
    expect(await runTrain(lengthArgs(run, ['--method', 'linear', '--epochs', '1']), refused.io)).toBe(1);
    expect(refused.err).toHaveLength(1);
    expect(refused.err[0]).toMatch(
      /run-epochs already holds a training run \(config\.json\); add --force to replace it, --resume to continue it/,
    );
    expect(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).method).toBe('lora');
    const contradict = capture();
    expect(await runTrain(lengthArgs(run, ['--method', 'linear', '--force', '--resume']), contradict.io)).toBe(2);
    const forced = capture();
    expect(await runTrain(lengthArgs(run, ['--method', 'linear', '--epochs', '1', '--force']), forced.io)).toBe(0);
    expect(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).method).toBe('linear');
    // The old run's adapter is gone with it, so nothing can mistake it for this run's.
    expect(existsSync(join(run, 'adapter.safetensors'))).toBe(false);
  });

  it('predict refuses a whole-slide file with one line, before loading anything', async () => {
    const c = capture();
    expect(await runPredict(['--run', join(dir, 'no-run'), '--image', SLIDE], c.io)).toBe(1);
    expect(c.out).toEqual([]);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(
      /^predict: .*CMU-1-Small-Region\.svs is a whole-slide image; predict takes cell or patch images\. Classify slides per cell or patch in the workstation/,
    );
  });

  it("predict on a folder whose subfolders are not the run's classes prints the CSV and says why there is no accuracy", async () => {
    const other = join(dir, 'unlabelled', 'not_a_class');
    mkdirSync(other, { recursive: true });
    const img = join(testDir, 'normal_superficiel', readdirFirst(join(testDir, 'normal_superficiel')));
    symlinkSync(img, join(other, basename(img)));
    const c = capture();
    expect(await runPredict(['--run', run, '--folder', join(dir, 'unlabelled')], c.io)).toBe(0);
    expect(c.out.join('\n').split('\n')).toHaveLength(2);
    expect(c.err).toEqual([
      expect.stringMatching(/^no accuracy: folder "not_a_class" is not one of the run's classes \(/),
      expect.stringMatching(/^engine: onnxruntime-node .*; (int8|full precision): /),
    ]);
  });
});

function readdirFirst(d: string): string {
  return readdirSync(d).sort()[0];
}
