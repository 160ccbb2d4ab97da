// Training equality with the paper's PyTorch code (scripts/training-equality): 60 AdamW steps of
// `cytotune train` (warm-up then cosine, the paper's schedule) against Debian's python3-torch
// training the same parity-fixture model from the same initial adapter and head on the same
// tensors and batches. Two families: timm-vit (UNI layout, LayerScale, packed qkv) with the
// few-shot LoRA (r 2 on q,v), and openai-clip (packed in_proj) with the HiCervix LoRA (r 16 on
// q,k,v,o) through micro-batches on the cpu backend. Needs python3-torch (scripts/system-packages.txt).
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES, PYTHON, runCase, TOLERANCE } from '../../../../scripts/training-equality/run';

const pick = (name: string) => CASES.find((c) => c.name === name)!;

beforeAll(() => {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `${PYTHON} cannot import torch: apt-get install python3-torch (scripts/system-packages.txt), or CYTOTUNE_SYSTEM_PACKAGES=skip`,
    );
});

describe('LoRA training equals PyTorch (the paper code) step for step', () => {
  it.each(['timm-vit q,v r2', 'openai-clip q,k,v,o r16 micro-batch 3, cpu'])(
    '%s: losses, learning rates and final weights to 1e-4 relative',
    async (name) => {
      const r = await runCase(pick(name));
      expect(r.steps).toBe(60);
      expect(r.lossRel).toBeLessThanOrEqual(TOLERANCE);
      expect(r.weightRel).toBeLessThanOrEqual(TOLERANCE);
      expect(r.lrRel).toBeLessThan(1e-12);
      // Not vacuous: training moved every tensor by far more than the difference.
      expect(r.moved).toBeGreaterThan(0.05);
      expect(r.updateRel).toBeLessThan(1e-3);
    },
    120_000,
  );
});
