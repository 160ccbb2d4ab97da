// `cytotune study paper` on test fixtures laid out as the README documents: links to a few real
// Herlev images per class for SIPaKMeD, BCFC and HiCervix (three-level folder names in train/,
// val/, test/; MLCC missing on purpose) and tiny random checkpoints of each model's family at
// each model's path. The dry run prints the paper's whole plan; a tiny real run (quick-look
// settings) writes the report, resumes, and a spent budget stops before anything runs.
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runStudyCommand } from '../../../src/cli/commands/study';
import { randomStateDict, writeSafetensors, type RandomModelSpec } from '../../../src/ml/models/randomEncoder';
import { capture } from '../../support/experimentFixtures';
import { herlevDir, tempDir } from '../../support/paths';

let dir: string;
let data: string;
let models: string;

/** `<root>/<folder>/` gets links to `n` Herlev images of `herlev`, starting at `from`. */
function link(root: string, folder: string, herlev: string, n: number, from = 0): void {
  mkdirSync(join(root, folder), { recursive: true });
  for (const f of readdirSync(join(herlevDir, herlev))
    .sort()
    .slice(from, from + n))
    symlinkSync(join(herlevDir, herlev, f), join(root, folder, f));
}

// Width 64 so the head count is found (width / 64) as for real checkpoints without config files.
const tiny = (family: RandomModelSpec['family'], patchSize = 8, extra: Partial<RandomModelSpec> = {}): RandomModelSpec => ({
  family,
  imageSize: 32,
  patchSize,
  width: 64,
  depth: 1,
  outputDim: 32,
  ...extra,
});

beforeAll(() => {
  dir = tempDir('cytotune-study-');
  data = join(dir, 'data');
  const h = ['normal_superficiel', 'normal_intermediate', 'light_dysplastic', 'severe_dysplastic', 'carcinoma_in_situ'];
  ['Dyskeratotic', 'Koilocytotic', 'Metaplastic', 'Parabasal', 'Superficial-Intermediate'].forEach((c, i) =>
    link(join(data, 'sipakmed'), c, h[i], 6),
  );
  link(join(data, 'bcfc'), 'benign', 'normal_columnar', 6);
  link(join(data, 'bcfc'), 'malignant', 'carcinoma_in_situ', 6);
  const hicervix: [string, string][] = [
    ['Normal__NILM', 'normal_superficiel'],
    ['Abnormal__Squamous__LSIL', 'light_dysplastic'],
    ['Abnormal__Squamous__HSIL', 'severe_dysplastic'],
  ];
  for (const [folder, src] of hicervix) {
    link(join(data, 'hicervix', 'train'), folder, src, 6);
    link(join(data, 'hicervix', 'val'), folder, src, 2, 6);
    link(join(data, 'hicervix', 'test'), folder, src, 2, 8);
  }
  models = join(dir, 'models');
  const put = (rel: string, spec: RandomModelSpec) => {
    mkdirSync(dirname(join(models, rel)), { recursive: true });
    writeSafetensors(join(models, rel), randomStateDict(spec, rel.length));
  };
  put('ViT-B-16.pt', tiny('openai-clip'));
  put('QuiltNet-B-32/open_clip_pytorch_model.bin', tiny('openai-clip', 16));
  put('BiomedCLIP/open_clip_pytorch_model.bin', tiny('open-clip-timm'));
  put('UNI/pytorch_model.bin', tiny('timm-vit', 8, { layerScale: true }));
  put('vit-base-patch16-224/model.safetensors', tiny('hf-vit'));
  put('ViT-L-14.pt', tiny('openai-clip', 8, { width: 128, outputDim: 64 }));
});

async function study(args: string[]) {
  const c = capture();
  const code = await runStudyCommand(['paper', '--data-root', data, '--models', models, '--backend', 'wasm', ...args], c.io);
  return { code, ...c };
}

describe('cytotune study paper', () => {
  it('--dry-run prints the whole plan with the paper settings and times measured here, and writes nothing', async () => {
    const out = join(dir, 'dry');
    const r = await study(['--out', out, '--dry-run', '--json', join(dir, 'plan.json')]);
    expect(r.code, r.err.join('\n')).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/dataset mlcc: missing: MLCC: .*mlcc not found \(expected mlcc\/<class>\/\*\.jpg/);
    expect(text).toMatch(/model uni: .*UNI\/pytorch_model\.bin/);
    // One measurement per model size and LoRA setting.
    expect(text).toMatch(/measuring one LoRA training step per model size \(\d+; random weights, one block each\)/);
    expect(text).toMatch(/openai-clip 32 px \/ patch 8, width 128 x 1 blocks, LoRA r 16 on q,k,v,o: .* per training step of 32 images/);
    for (const e of ['Experiment 1 (Table 1), sipakmed', 'Experiment 2 (Figure 1), hicervix', 'Experiment 3 (Figure 2), hicervix'])
      expect(text).toContain(e);
    expect(text).toMatch(/Experiment 1 \(Table 1\), mlcc: .*\n {2}not run: MLCC/);
    // HiCervix at level 3 with 3 classes; few-shot LoRA at 50 shots: 50 + 100 x 50 steps.
    expect(text).toMatch(/hicervix: 3 classes \(level 3\), train 18 \/ val 6 \/ test 6 images/);
    expect(text).toMatch(/clip-b16\s+lora\s+shots 50\s+15\s+0\s+5050\s+150\s+18\s/);
    // Experiment 3: percentages 10, 25, 50, 100 at lr 1e-3 (3 seeds each); 10 % keeps one image per
    // class; 50 + 100 x 1 batch per epoch steps.
    expect(text).toMatch(/clip-l14\s+lora\s+percent 10\s+3\s+0\s+150\s+3\s+12\s/);
    expect(text).toMatch(/seeds 1,2,3 x lrs 0\.001; LoRA r 16 on q,k,v,o/);
    // 3 datasets x 5 models x 15 (Table 1) + 3 x 5 x 6 shots x 15 (Figure 1) + 4 percentages x 3 seeds (Figure 2).
    expect(text).toMatch(/total: 1587 cells to run \(0 already done\), \d+ optimiser steps, estimated \d/);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
    expect(plan.total).toMatchObject({ cells: 1587, done: 0, complete: true });
    expect(existsSync(out)).toBe(false);
  });

  it('runs the three experiments (quick-look settings), writes one report with what was skipped, and resumes', async () => {
    const out = join(dir, 'run');
    const quick = [
      '--out',
      out,
      '--datasets',
      'bcfc,hicervix,mlcc',
      '--models-only',
      'clip-b16,uni,clip-l14',
      '--shots',
      '1',
      '--seeds',
      '1',
      '--micro-batch',
      '2',
    ];
    const r = await study([
      ...quick,
      '--lrs',
      '1e-2',
      '--iters',
      '1',
      '--epochs',
      '1',
      '--percent',
      '50,100',
      '--json',
      join(dir, 'run.json'),
    ]);
    expect(r.code, [...r.out, ...r.err].join('\n')).toBe(0);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/not the paper's settings: .*shots 1; seeds 1; lrs 0.01; percents 50,100; iters 1; epochs 1/);
    expect(report).toMatch(/## Table 1: linear probe on 100 % of the training split\n\n\| model \| BCFC \| MLCC \| HiCervix \|/);
    expect(report).toMatch(/\| CLIP ViT-B\/16 \| \d+\.\d\d ± 0\.00 \| – \| \d+\.\d\d ± 0\.00 \|/);
    expect(report).toMatch(/### HiCervix\n\n\| model \| 1 shot \| linear probe 100 % \|/);
    expect(report).toMatch(/!\[Figure 1, BCFC\]\(bcfc\/fig-shots\.svg\)/);
    expect(report).toMatch(/\| CLIP ViT-L\/14 \| 50 \| \d+\.\d\d ± 0\.00 \| \d+\.\d\d ± 0\.00 \| \d+\.\d\d ± 0\.00 \| 1e-2 \|/);
    expect(report).toMatch(/!\[Figure 2\]\(hicervix-percent\/fig-percent\.svg\)/);
    expect(report).toMatch(/\*\*mlcc: linear probe.*\*\*: skipped\n {2}- not run: MLCC: .*not found/);
    expect(existsSync(join(out, 'hicervix', 'results.csv'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status).toBe('complete');
    // A rerun finds every cell done and trains nothing.
    const again = await study([...quick, '--lrs', '1e-2', '--iters', '1', '--epochs', '1', '--percent', '50,100']);
    expect(again.code).toBe(0);
    expect(again.err.join('\n')).toMatch(/2 of 2 cells already in .*bcfc\/results\.csv; running the other 0/);
    expect(again.err.join('\n')).not.toMatch(/^cell \d/m);
  });

  it('--budget 0 stops before the first cell (exit 3) and the report says what remains', async () => {
    const out = join(dir, 'budget');
    const r = await study([
      '--out',
      out,
      '--datasets',
      'bcfc',
      '--models-only',
      'clip-b16',
      '--shots',
      '1',
      '--seeds',
      '1',
      '--lrs',
      '1e-2',
      '--budget',
      '0',
    ]);
    expect(r.code).toBe(3);
    expect(r.out.join('\n')).toMatch(/stopped: the time budget \(0s\) is spent; rerun the same command to continue/);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/\*\*bcfc: linear probe.*\*\*: not started: the time budget was spent/);
  });

  it('usage: an unknown study, dataset or model name', async () => {
    const c = capture();
    expect(await runStudyCommand(['thesis', '--data-root', data, '--models', models, '--out', join(dir, 'x')], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/unknown study "thesis"/);
    const d = await study(['--out', join(dir, 'x'), '--datasets', 'cric', '--dry-run']);
    expect(d.code).toBe(2);
    expect(d.err[0]).toMatch(/--datasets: "cric" is not one of sipakmed, bcfc, mlcc, hicervix/);
    const e = await study(['--out', join(dir, 'x'), '--models-only', 'resnet', '--dry-run']);
    expect(e.err[0]).toMatch(/--models-only: "resnet" is not one of clip-b16/);
  });
});
