// The paper's study as grids (ml/experiment/paperStudy.ts): what each part runs with the paper's
// settings, what a quick-look override changes, and what is left out when inputs are missing.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findStudyInputs, overridesText, studyParts } from '../../../../src/ml/experiment/paperStudy';
import { PAPER_DEFAULTS } from '../../../../src/shared/training';
import { tempDir } from '../../../support/paths';

function layout(models: string[], datasets: string[]) {
  const dir = tempDir('cytotune-paper-study-');
  for (const d of datasets)
    for (const s of d === 'hicervix' ? ['train', 'test'] : ['']) mkdirSync(join(dir, 'data', d, s), { recursive: true });
  for (const m of models) {
    mkdirSync(join(dir, 'models', m, '..'), { recursive: true });
    writeFileSync(join(dir, 'models', m), 'x');
  }
  return dir;
}

describe('the paper study', () => {
  it('runs Table 1, Figure 1 and Figure 2 with the paper settings', () => {
    const dir = layout(
      ['ViT-B-16.pt', 'UNI/pytorch_model.bin', 'ViT-L-14.pt', 'QuiltNet-B-32/open_clip_pytorch_model.bin'],
      ['sipakmed', 'hicervix'],
    );
    const inputs = findStudyInputs(join(dir, 'data'), join(dir, 'models'));
    expect(inputs.models['clip-b16'].path).toBe(join(dir, 'models', 'ViT-B-16.pt'));
    expect(inputs.models.biomedclip).toMatchObject({
      path: null,
      note: expect.stringMatching(/BiomedCLIP: none of .*open_clip_pytorch_model\.bin/),
    });
    expect(inputs.datasets.bcfc.path).toBeNull();
    const parts = studyParts(inputs, join(dir, 'out'));
    expect(parts.map((p) => p.id)).toEqual([
      'sipakmed: linear probe, 100 % of the training split (Table 1)',
      'bcfc: linear probe, 100 % of the training split (Table 1)',
      'mlcc: linear probe, 100 % of the training split (Table 1)',
      'hicervix: linear probe, 100 % of the training split (Table 1)',
      'sipakmed: few-shot LoRA (Figure 1)',
      'bcfc: few-shot LoRA (Figure 1)',
      'mlcc: few-shot LoRA (Figure 1)',
      'hicervix: few-shot LoRA (Figure 1)',
      'hicervix: CLIP ViT-L/14 LoRA r 16 on q,k,v,o by % of the training split (Figure 2)',
    ]);
    const [table1, , , , fig1] = parts;
    expect(table1.options).toMatchObject({ methods: ['linear'], shots: [], percents: [], lrs: PAPER_DEFAULTS.grid.lrs, seeds: [1, 2, 3] });
    expect(table1.options!.checkpoints.map((c) => c.label)).toEqual(['clip-b16', 'quilt', 'uni']);
    expect(table1.skipped).toEqual([
      expect.stringMatching(/^model biomedclip left out/),
      expect.stringMatching(/^model vit-google left out/),
    ]);
    // Table 1 and Figure 1 of a dataset share a folder (one protocol), so its summary has both.
    expect(fig1.options).toMatchObject({ methods: ['lora'], shots: [1, 2, 4, 8, 16, 50], out: table1.options!.out });
    expect(fig1.options!.protocol).toMatchObject({
      rank: 2,
      targets: ['q', 'v'],
      alpha: 1,
      iters: 100,
      warmup: 50,
      batch: 32,
      level: null,
    });
    expect(parts[1]).toMatchObject({
      options: null,
      skipped: [expect.stringMatching(/^not run: BCFC: .*bcfc not found/), expect.any(String), expect.any(String)],
    });
    expect(parts[7].options!.protocol.level).toBe(3);
    expect(parts[8].options).toMatchObject({ methods: ['lora'], percents: [10, 25, 50, 100], lrs: [1e-3], shots: [] });
    expect(parts[8].options!.protocol).toMatchObject({ rank: 16, targets: ['q', 'k', 'v', 'o'], level: 3 });
    expect(parts[8].options!.checkpoints).toEqual([{ label: 'clip-l14', path: join(dir, 'models', 'ViT-L-14.pt') }]);
  });

  it('quick-look overrides reach every part and are named; the micro-batch is capped by the batch', () => {
    const dir = layout(['ViT-B-16.pt', 'ViT-L-14.pt'], ['bcfc', 'hicervix']);
    const o = { datasets: ['hicervix' as const], models: ['clip-l14'], seeds: [1], lrs: [1e-2], percents: [50], iters: 2, epochs: 3 };
    const parts = studyParts(findStudyInputs(join(dir, 'data'), join(dir, 'models')), join(dir, 'out'), { ...o, microBatch: 64 });
    expect(parts.map((p) => p.dataset)).toEqual(['hicervix', 'hicervix', 'hicervix']);
    // clip-l14 is no few-shot model: Table 1 and Figure 1 have nothing to run.
    expect(parts[0]).toMatchObject({ options: null, skipped: ['not run: none of its checkpoints was found'] });
    expect(parts[2].options).toMatchObject({ seeds: [1], lrs: [1e-2], percents: [50], microBatch: 32 });
    expect(parts[2].options!.protocol).toMatchObject({ iters: 2, epochs: 3 });
    expect(overridesText(o)).toBe(
      "not the paper's settings: datasets hicervix; models clip-l14; seeds 1; lrs 0.01; percents 50; iters 2; epochs 3",
    );
    expect(overridesText({})).toBe('');
  });
});
