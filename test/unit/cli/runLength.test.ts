// `cytotune train` says how long it will run, and how that number came about.
import { describe, expect, it } from 'vitest';
import { runLength } from '../../../src/cli/runLength';
import { loraSteps, resolveSettings } from '../../../src/shared/training';

describe('runLength', () => {
  it("--iters keeps the paper's meaning, and the line shows the formula (--iters 30 on 734 images: 740 steps)", () => {
    const s = resolveSettings({ method: 'lora', nIters: 30 });
    const r = runLength(s, 734, { iters: 30 });
    expect(r.steps).toBe(740);
    expect(r.steps).toBe(loraSteps(r.settings, 734));
    expect(r.line).toBe(
      "run length: warm-up 50 + iters 30 x 23 batches per epoch (734 images / batch 32) = 740 steps (the paper's formula; --epochs N or --steps N set the length directly)",
    );
    const fewShot = runLength(resolveSettings({ method: 'lora', shots: 4 }), 28, {});
    expect(fewShot.steps).toBe(450);
    expect(fewShot.line).toMatch(/^run length: warm-up 50 \+ iters 100 x 4 shots = 450 steps/);
  });

  it('--epochs N is N passes over the training images, for LoRA too', () => {
    const r = runLength(resolveSettings({ method: 'lora', epochs: 3 }), 734, { epochs: 3 });
    expect(r.steps).toBe(69);
    expect(r.settings.steps).toBe(69);
    expect(loraSteps(r.settings, 734)).toBe(69);
    expect(r.line).toBe('run length: 3 epochs x 23 batches per epoch (734 images / batch 32) = 69 steps');
  });

  it('the linear probe runs its epochs (100 by default); --steps is exact for both', () => {
    const linear = runLength(resolveSettings({ method: 'linear' }), 14, {});
    expect(linear.steps).toBe(100);
    expect(linear.settings.steps).toBeNull();
    expect(linear.line).toBe(
      "run length: 100 epochs x 1 batch per epoch (14 images / batch 32) = 100 steps (the paper's 100 epochs; --epochs N or --steps N to change)",
    );
    const exact = runLength(resolveSettings({ method: 'lora' }), 734, { steps: 12 });
    expect([exact.steps, exact.settings.steps, exact.line]).toEqual([12, 12, 'run length: 12 steps (--steps)']);
  });
});
