// The study's time estimate: one block of a model size trained through the real trainer at two
// batch sizes and embedded once; costs scale with depth and no tensor is left behind.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { costKey, measureCost } from '../../../../src/ml/experiment/studyEstimate';
import { useBackend } from '../../../support/tfBackend';

beforeAll(() => useBackend('wasm'));

describe('measureCost', () => {
  it('gives positive per-image and per-step costs scaled by depth, and frees its tensors', async () => {
    const config = {
      family: 'openai-clip' as const,
      imageSize: 32,
      patchSize: 8,
      width: 64,
      depth: 1,
      heads: 1,
      mlpDim: 256,
      outputDim: 32,
    };
    const before = tf.memory().numTensors;
    const one = await measureCost({ config, rank: 2, targets: ['q', 'v'] });
    expect(tf.memory().numTensors).toBe(before);
    expect(one.trainPerImage).toBeGreaterThan(0);
    expect(one.trainPerStep).toBeGreaterThanOrEqual(0);
    expect(one.forwardPerImage).toBeGreaterThan(0);
    expect(one.note).toMatch(/one 64-wide block \(17 tokens\) x 1, LoRA r 2 on q,v, wasm backend/);
    const deep = await measureCost({ config: { ...config, depth: 12 }, rank: 2, targets: ['q', 'v'] });
    // Twelve blocks are measured as one block and scaled (timings themselves are the benchmark's business).
    expect(deep.note).toMatch(/x 12, LoRA r 2 on q,v/);
    expect(deep.forwardPerImage).toBeGreaterThan(0);
    expect(costKey({ config, rank: 2, targets: ['q', 'v'] })).not.toBe(costKey({ config, rank: 16, targets: ['q', 'k', 'v', 'o'] }));
  });
});
