// `cytotune train` options for checks against other implementations and for reruns: --steps 0 /
// --iters 0 (write the initial state), --init-adapter / --init-head, --dropout, --no-augment,
// --tensor X.npy --labels FILE, --activation, --processes, the per-step train-log.csv, and the
// head count with its source in the output, config.json and model-card.md.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTrain } from '../../../src/cli/commands/train';
import { encodeSafetensors, readWeightsFile, writeWeightsFile } from '../../../src/ml/adapters/safetensorsIo';
import { formatNpy } from '../../../src/ml/checkpoint/npy';
import { loadImageBatch } from '../../../src/ml/data/loadImages';
import { scanImageFolder } from '../../../src/ml/data/imageFolder';
import { checkpointConfig } from '../../../src/ml/onnx/checkpointConfig';
import { capture, herlevFolder, tinyCheckpoint } from '../../support/experimentFixtures';
import { tempDir } from '../../support/paths';
import { useBackend } from '../../support/tfBackend';

let dir: string;
let ckpt: string;
let data: string;
let tensor: string;
let labels: string;

const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const log = (run: string) =>
  readFileSync(join(run, 'train-log.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',').map(Number));

async function train(args: string[], code = 0) {
  const c = capture();
  const got = await runTrain([...args, '--checkpoint', ckpt, '--heads', '2', '--backend', 'wasm'], c.io);
  expect(got, [...c.out, ...c.err].join('\n')).toBe(code);
  return c;
}

beforeAll(async () => {
  await useBackend('wasm');
  dir = tempDir('cytotune-train-options-');
  ckpt = tinyCheckpoint(dir);
  // 3 classes x 4 images; the same images as an eval-preprocessed tensor, rows in ImageFolder order.
  data = herlevFolder(join(dir, 'data'), { a_normal: 'normal_superficiel', b_light: 'light_dysplastic', c_cis: 'carcinoma_in_situ' }, 4);
  const ds = await scanImageFolder(data);
  const cfg = checkpointConfig(ckpt, { heads: 2 });
  tensor = join(dir, 'x.npy');
  writeFileSync(
    tensor,
    formatNpy({
      shape: [ds.items.length, 3, cfg.imageSize, cfg.imageSize],
      data: await loadImageBatch(
        ds.items.map((it) => it.path),
        cfg,
      ),
    }),
  );
  labels = join(dir, 'labels.txt');
  writeFileSync(labels, ds.items.map((it) => ds.classNames[it.label]).join('\n') + '\n');
});
afterAll(() => {});

describe('cytotune train: initial state, init files, dropout, augmentation, tensors', () => {
  it('--steps 0 writes the seeded initial adapter and head, a log with no steps and a model card naming the head count', async () => {
    const run = join(dir, 'init');
    const c = await train(['--data', data, '--method', 'lora', '--steps', '0', '--out', run]);
    expect(c.out[0]).toBe('run length: 0 steps (--steps: nothing is trained; the initial adapter and head are written)');
    expect(c.out.some((l) => l.includes('2 attention heads, as given with --heads'))).toBe(true);
    const { tensors } = await readWeightsFile(join(run, 'adapter.safetensors'));
    // B starts at zero (the adapted model equals the base), A is Kaiming-uniform.
    expect(Math.max(...tensors.get('blocks.0.q.lora_B')!.data.map(Math.abs))).toBe(0);
    expect(Math.max(...tensors.get('blocks.0.q.lora_A')!.data.map(Math.abs))).toBeGreaterThan(0);
    expect(json(join(run, 'metrics.json')).steps).toBe(0);
    expect(log(run)).toEqual([]);
    const cfg = json(join(run, 'config.json'));
    expect(cfg.heads).toMatchObject({ value: 2, source: 'option' });
    expect(readFileSync(join(run, 'model-card.md'), 'utf8')).toContain('heads: 2 attention heads, as given with --heads');
  });

  it('--iters 0 is no training either (the paper runs nothing at shots = 0), not 50 warm-up steps', async () => {
    const c = await train(['--data', data, '--method', 'lora', '--shots', '2', '--iters', '0', '--out', join(dir, 'iters0')]);
    expect(c.out[0]).toMatch(/^run length: 0 steps \(--iters 0/);
    expect(json(join(dir, 'iters0', 'metrics.json')).steps).toBe(0);
  });

  it('--init-adapter / --init-head start from the given files, CytoTune or plain safetensors, and refuse mismatches', async () => {
    const init = join(dir, 'init');
    const again = join(dir, 'from-init');
    const tensors = tf.memory().numTensors;
    // A different seed would draw other values: the files win.
    await train(['--data', data, '--method', 'lora', '--seed', '9', '--steps', '0', '--out', again, ...initArgs(init)]);
    const a0 = (await readWeightsFile(join(init, 'adapter.safetensors'))).tensors;
    const a1 = (await readWeightsFile(join(again, 'adapter.safetensors'))).tensors;
    for (const [k, t] of a0) expect(Array.from(a1.get(k)!.data)).toEqual(Array.from(t.data));
    expect(json(join(again, 'config.json')).init.adapter).toBe(join(init, 'adapter.safetensors'));
    expect(tf.memory().numTensors).toBe(tensors);
    // Plain files (no CytoTune metadata), e.g. written by PyTorch.
    const plainA = join(dir, 'plain-adapter.safetensors');
    const plainH = join(dir, 'plain-head.safetensors');
    await writeWeightsFile(plainA, [...a0.values()], {});
    await writeWeightsFile(plainH, [...(await readWeightsFile(join(init, 'head.safetensors'))).tensors.values()], {});
    await train([
      '--data',
      data,
      '--method',
      'lora',
      '--steps',
      '1',
      '--out',
      join(dir, 'plain'),
      '--init-adapter',
      plainA,
      '--init-head',
      plainH,
    ]);
    // The run adapts q,k,v,o but the file holds q,v only: refused, naming both.
    const bad = await train(
      ['--data', data, '--method', 'lora', '--targets', 'q,k,v,o', '--steps', '1', '--out', join(dir, 'bad'), ...initArgs(init)],
      1,
    );
    expect(bad.err[0]).toMatch(/holds 4 LoRA tensors \(targets q,v\) but this run adapts q,k,v,o/);
    // A head for 3 classes on a 2-class dataset.
    const two = herlevFolder(join(dir, 'two'), { x: 'normal_columnar', y: 'severe_dysplastic' }, 2);
    const badHead = await train(
      ['--data', two, '--method', 'linear', '--steps', '0', '--out', join(dir, 'bad2'), '--init-head', join(init, 'head.safetensors')],
      1,
    );
    expect(badHead.err[0]).toMatch(/needs head.weight \[2, 16\].*got \[3,16\]/);
    // Not a weights file at all.
    writeFileSync(join(dir, 'junk.safetensors'), encodeSafetensors([], { format: 'something-else' }));
    const junk = await train(
      ['--data', data, '--method', 'lora', '--steps', '0', '--out', join(dir, 'bad3'), '--init-adapter', join(dir, 'junk.safetensors')],
      1,
    );
    expect(junk.err[0]).toMatch(/not a LoRA adapter/);
    expect(existsSync(join(dir, 'bad3', 'config.json'))).toBe(false);
    // Refused files leave nothing allocated either.
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('--dropout sets the LoRA branch dropout (recorded), is checked, and is LoRA only', async () => {
    await train(['--data', data, '--method', 'lora', '--dropout', '0.1', '--steps', '1', '--out', join(dir, 'drop')]);
    expect(json(join(dir, 'drop', 'config.json')).lora.dropout).toBe(0.1);
    expect((await readWeightsFile(join(dir, 'drop', 'adapter.safetensors'))).metadata.dropout).toBe('0.1');
    const one = await train(['--data', data, '--method', 'lora', '--dropout', '1', '--out', join(dir, 'drop1')], 2);
    expect(one.err[0]).toMatch(/dropout must be in \[0, 1\)/);
    const lin = await train(['--data', data, '--method', 'linear', '--dropout', '0', '--out', join(dir, 'drop2')], 2);
    expect(lin.err[0]).toMatch(/--dropout is for LoRA runs/);
  });

  it('--no-augment on the images equals --tensor with those images pre-processed: same loss at every step', async () => {
    const init = join(dir, 'init');
    const common = ['--method', 'lora', '--dropout', '0', '--steps', '6', '--batch', '4', '--lr', '1e-2', ...initArgs(init)];
    const folder = join(dir, 'no-augment');
    await train(['--data', data, '--no-augment', ...common, '--out', folder]);
    const cfg = json(join(folder, 'config.json'));
    expect(cfg.pipeline.augment).toBe(false);
    expect(cfg.settings.augment).toBe(false);
    const fromTensor = join(dir, 'tensor');
    const c = await train(['--tensor', tensor, '--labels', labels, ...common, '--out', fromTensor]);
    expect(c.out[1]).toMatch(/training lora on 12 images, 3 classes \(a_normal, b_light, c_cis\)/);
    const [l1, l2] = [log(folder), log(fromTensor)];
    expect(l1).toHaveLength(6);
    l1.forEach((row, i) => expect(Math.abs(row[1] - l2[i][1])).toBeLessThan(1e-6));
    expect(json(join(fromTensor, 'config.json')).data.source).toBe('tensor');
    // With augmentation the same run sees other pixels.
    const aug = join(dir, 'augmented');
    await train(['--data', data, ...common, '--out', aug]);
    expect(Math.abs(log(aug)[0][1] - l1[0][1])).toBeGreaterThan(1e-6);
  });

  it('--tensor checks the shape and the labels; --labels may give class indices', async () => {
    const wrong = join(dir, 'wrong.npy');
    writeFileSync(wrong, formatNpy({ shape: [2, 3, 8, 8], data: new Float32Array(2 * 3 * 64) }));
    const c = await train(['--tensor', wrong, '--labels', labels, '--method', 'lora', '--out', join(dir, 't1')], 1);
    expect(c.err[0]).toMatch(/shape \(2, 3, 8, 8\) but this model needs normalised float32 \(N, 3, 32, 32\)/);
    const short = join(dir, 'short.txt');
    writeFileSync(short, 'a\nb\n');
    const d = await train(['--tensor', tensor, '--labels', short, '--method', 'lora', '--out', join(dir, 't2')], 1);
    expect(d.err[0]).toMatch(/2 labels for 12 rows/);
    const e = await train(['--tensor', tensor, '--method', 'lora', '--out', join(dir, 't3')], 2);
    expect(e.err[0]).toMatch(/--tensor and --labels go together/);
    const idx = join(dir, 'idx.txt');
    writeFileSync(idx, Array.from({ length: 12 }, (_, i) => String(i % 3)).join('\n'));
    await train(['--tensor', tensor, '--labels', idx, '--method', 'linear', '--steps', '2', '--out', join(dir, 't4')]);
    expect(json(join(dir, 't4', 'config.json')).classNames).toEqual(['0', '1', '2']);
  });

  it('--activation overrides the family activation, recorded in config.json and the model card', async () => {
    const run = join(dir, 'gelu');
    await train(['--data', data, '--method', 'linear', '--activation', 'gelu', '--steps', '1', '--out', run]);
    expect(json(join(run, 'config.json')).encoder.activation).toBe('gelu');
    expect(readFileSync(join(run, 'model-card.md'), 'utf8')).toMatch(/embedding 16, gelu/);
  });

  it('--processes 2 trains in two gradient worker processes', async () => {
    const c = await train([
      '--data',
      data,
      '--method',
      'lora',
      '--processes',
      '2',
      '--steps',
      '2',
      '--batch',
      '4',
      '--out',
      join(dir, 'procs'),
    ]);
    expect(c.out.find((l) => l.startsWith('execution:'))).toMatch(/^execution: 2 process\(es\)/);
    expect(log(join(dir, 'procs'))).toHaveLength(2);
  });
});

function initArgs(init: string): string[] {
  mkdirSync(init, { recursive: true });
  return ['--init-adapter', join(init, 'adapter.safetensors'), '--init-head', join(init, 'head.safetensors')];
}
