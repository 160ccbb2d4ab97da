// Learning rate per optimiser step, as the paper's code produces it with
// pytorch_warmup.LinearWarmup(50) around CosineAnnealingLR(T_max = n_iters * shots, 1e-6),
// the cosine being stepped only once the warm-up is over (CFT lora.py:286-295, 330-332):
//   step i < W:   lr * (i + 1) / W                        (lr/50 at the first step, lr at step W-1)
//   step i >= W:  eta + (lr - eta) * (1 + cos(pi * (i - W + 1) / T)) / 2
// so the last of the W + T steps runs at exactly eta. The linear probe uses the same shape
// over its whole run (one cosine, not the reference code's restart every 100 steps).
export interface ScheduleOptions {
  lr: number;
  warmupSteps: number;
  cosineSteps: number;
  minLr: number;
}

export function learningRateAt(step: number, o: ScheduleOptions): number {
  const w = o.warmupSteps;
  if (step < w) return (o.lr * (step + 1)) / w;
  if (o.cosineSteps <= 0) return o.lr;
  const t = Math.min(step - w + 1, o.cosineSteps);
  return o.minLr + ((o.lr - o.minLr) * (1 + Math.cos((Math.PI * t) / o.cosineSteps))) / 2;
}

/** The paper's LoRA run length: warm-up + n_iters * shots optimiser steps. */
export function loraTotalSteps(warmupSteps: number, nIters: number, shots: number): number {
  return warmupSteps + nIters * shots;
}

/** Splits a run of `total` steps into warm-up and cosine (short runs get a shorter warm-up). */
export function scheduleFor(total: number, lr: number, warmupSteps: number, minLr: number): ScheduleOptions {
  const w = Math.min(warmupSteps, Math.max(0, total - 1));
  return { lr, warmupSteps: w, cosineSteps: total - w, minLr };
}
