// Gradients must also be registered when the worker runs under plain Node (CLI, bench, worker
// process), not only under vitest, which transforms tfjs-core's ESM sources itself.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('gradients under plain Node (node --import tsx)', () => {
  it('selectBackend registers tfjs-core gradients so tf.grad works on wasm', () => {
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { selectBackend } from './src/ml/backend/selectBackend.ts';
      const c = await selectBackend();
      const g = tf.grad((x) => tf.sum(tf.erf(tf.matMul(x, x))))(tf.ones([2, 2]));
      console.log(JSON.stringify({ backend: c.backend, g: Array.from(g.dataSync()) }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr.split('\n').filter((l) => /Error/.test(l))).toEqual([]);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.backend).toBe('wasm');
    // d/dx sum(erf(x @ x)) at x = ones(2,2): 4 * erf'(2) = 8/sqrt(pi) * exp(-4).
    for (const v of out.g) expect(v).toBeCloseTo((8 / Math.sqrt(Math.PI)) * Math.exp(-4), 5);
  });
});
