// Times a planned run on this computer before it starts: the same trainer, model and images as
// the run, stopped after a few steps (LoRA) or feature batches (linear probe). The first step or
// batch pays for loading kernels and caches and is not timed; the rate is over the ones after it.
// Nothing is kept: the run folder is a temporary one, removed at the end.
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { trainRun } from '../../ml/training/trainRun';
import { resolveSettings } from '../../shared/training';
import { SPEED_MARKS, type SpeedJobResult, type SpeedJobSpec } from '../../shared/jobs';
import type { JobContext } from './registry';
import { PatchSource } from '../../ml/data/patchSource';
import { familyOf } from './trainJob';

export async function runSpeedJob(spec: SpeedJobSpec, ctx: JobContext): Promise<SpeedJobResult> {
  if (spec.train.length === 0)
    throw Object.assign(new Error('Nothing to time: the run has no training images yet.'), { kind: 'invalid-input' });
  const method = spec.settings.method ?? 'lora';
  const paper = resolveSettings(spec.settings);
  // Two micro-batches a step, so data-parallel gradient processes each get one, as in the run;
  // one step more than timed, so the run is stopped (cancelled) before its evaluation.
  const micro = Math.min(paper.microBatchSize, spec.train.length);
  const settings = resolveSettings({
    ...spec.settings,
    batchSize: 2 * micro,
    microBatchSize: micro,
    steps: SPEED_MARKS + 1,
    checkpointEvery: 0,
  });
  const source = new PatchSource();
  const dir = await mkdtemp(join(tmpdir(), 'cytotune-speed-'));
  const stop = new AbortController();
  const onCancel = () => stop.abort();
  ctx.signal.addEventListener('abort', onCancel, { once: true });
  const marks: { images: number; at: number }[] = [];
  const mark = (images: number) => {
    if (stop.signal.aborted) return;
    marks.push({ images, at: performance.now() });
    ctx.progress({ step: marks.length, total: SPEED_MARKS, phase: 'measuring speed' });
    if (marks.length >= SPEED_MARKS) stop.abort();
  };
  try {
    await trainRun({
      outDir: dir,
      checkpoint: spec.checkpoint,
      family: familyOf(spec.family),
      classNames: spec.classNames,
      trainItems: spec.train.map((p) => ({ path: source.add(p), label: p.label })),
      valItems: [],
      testItems: [],
      data: { train: 'speed check', val: null, test: null },
      settings,
      decode: source.read,
      signal: stop.signal,
      onProgress: (p) => mark(p.step * settings.batchSize),
      onFeatures: (done) => mark(done),
    });
    if (ctx.signal.aborted) throw Object.assign(new Error('Speed check cancelled.'), { kind: 'cancelled' });
    if (marks.length < 2)
      throw Object.assign(new Error(`Too few images to time (${spec.train.length}); the estimate stays the model-size one.`), {
        kind: 'invalid-input',
      });
    const first = marks[0];
    const last = marks[marks.length - 1];
    const seconds = (last.at - first.at) / 1000;
    const images = last.images - first.images;
    return {
      modelId: spec.modelId,
      method,
      imagesPerSecond: images / seconds,
      images,
      seconds,
      host: hostname(),
      backend: tf.getBackend(),
    };
  } finally {
    ctx.signal.removeEventListener('abort', onCancel);
    await source.close();
    await rm(dir, { recursive: true, force: true });
  }
}
