// Hardening item 6: a cancel lands within one step. The training loop yields to the event loop
// after every step (so a cancel message, a timer or a progress send is handled while it trains)
// and checks the abort signal between micro-batches. The steps here are slow and synchronous,
// as a real forward/backward on the CPU is: nothing else would let the event loop run.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MicroResult } from '../../../src/ml/training/gradients';
import { scheduleFor } from '../../../src/ml/training/schedule';
import { runTrainingLoop, type LoopConfig, type MicroStep } from '../../../src/ml/training/trainingLoop';
import { useBackend } from '../../support/tfBackend';

beforeAll(async () => useBackend('cpu'));

const MICRO_MS = 40;
const MICRO_BATCHES = 4; // a step is 160 ms

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* a synchronous kernel */
  }
}

function setup(totalSteps: number) {
  const w = tf.variable(tf.zeros([2]), true, `w${Math.random()}`);
  let microCalls = 0;
  // Resolves without any I/O, as a cached batch through a synchronous backend does.
  const micro: MicroStep = async (indices): Promise<MicroResult> => {
    microCalls++;
    busy(MICRO_MS);
    return { lossSum: indices.length, correct: 0, grads: [tf.onesLike(w)] };
  };
  const cfg: LoopConfig = {
    totalSteps,
    batchSize: 8,
    microBatchSize: 8 / MICRO_BATCHES,
    schedule: scheduleFor(totalSteps, 1e-3, 0, 1e-6),
    adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
    seed: 1,
    datasetSize: 16,
    fingerprint: 'test',
  };
  return { w, micro, cfg, calls: () => microCalls };
}

describe('cancel within one step', () => {
  it('an abort from a timer (a message, Ctrl-C) stops the loop within one step', async () => {
    const { w, micro, cfg, calls } = setup(60);
    const controller = new AbortController();
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 400);
    const steps: number[] = [];
    const result = await runTrainingLoop([w], micro, cfg, { signal: controller.signal, onProgress: (p) => steps.push(p.step) });
    const latency = performance.now() - abortedAt;
    expect(result.status).toBe('cancelled');
    expect(abortedAt).toBeGreaterThan(0);
    // The abort lands between two micro-batches: at most one micro-batch (plus the yield) later.
    expect(latency).toBeLessThan(MICRO_MS * 2 + 50);
    expect(result.step).toBeLessThanOrEqual(4);
    expect(calls()).toBeLessThan(MICRO_BATCHES * 5);
    expect(steps).toEqual(Array.from({ length: result.step }, (_, i) => i + 1)); // progress of every step
    w.dispose();
  });

  it('the event loop runs between steps: timers and progress sends are not held until the end', async () => {
    const { w, micro, cfg } = setup(8);
    let ticks = 0;
    const ticksAtStep: number[] = [];
    const timer = setInterval(() => ticks++, 5);
    await runTrainingLoop([w], micro, cfg, { onProgress: () => ticksAtStep.push(ticks) });
    clearInterval(timer);
    expect(ticksAtStep).toHaveLength(8);
    // Ticks happened while training, not only after it.
    expect(ticksAtStep.at(-1)!).toBeGreaterThan(0);
    expect(new Set(ticksAtStep).size).toBeGreaterThan(4);
    w.dispose();
  });

  it('a run cancelled before it starts does no step', async () => {
    const { w, micro, cfg, calls } = setup(5);
    const controller = new AbortController();
    controller.abort();
    const result = await runTrainingLoop([w], micro, cfg, { signal: controller.signal });
    expect(result).toMatchObject({ status: 'cancelled', step: 0 });
    expect(calls()).toBe(0);
    w.dispose();
  });
});
