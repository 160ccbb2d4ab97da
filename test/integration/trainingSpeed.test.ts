// The estimate before Start is this computer's speed: a speed check times a few real steps of
// the planned run in the worker, and the estimate then says "measured". The linear probe reports
// its feature extraction as progress. And a job that has just finished keeps its end when the
// project closes at once (it used to be recorded as cancelled).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../src/shared/api';
import { tempDir } from '../support/paths';
import { inProcess, type Harness } from '../support/servers';
import { writeTinyCheckpoint } from '../support/tinyModel';
import { twoClassProject } from '../support/trainingProject';
import { waitFor } from '../support/waitFor';

let h: Harness;
let modelId: number;
let classIds: number[];
let data: string;
const events: JobProgress[] = [];

beforeAll(async () => {
  h = inProcess();
  ({ classIds, modelId, data } = await twoClassProject(h.client, tempDir(), 'speed.cytotune', 10));
  h.client.on('job:progress', (p) => events.push(p));
});
afterAll(async () => h.close());

describe('the training estimate', () => {
  it.each(['lora', 'linear'] as const)(
    '%s: a speed check of a few real steps makes the estimate measured',
    async (method) => {
      const request = { modelId, method, classIds, settings: { batchSize: 4 } };
      const before = await h.client.call('training:estimate', request);
      expect(before.speedSource).toBe('model size');

      const job = await h.client.call('training:measureSpeed', request);
      expect(job).toMatchObject({ kind: 'speed', status: 'queued' });
      const done = await h.workspace.requireCompute().jobs.whenDone(job!.id);
      expect(done.status).toBe('completed');
      // Throttled like all progress: the first and the last get through.
      expect(events.filter((e) => e.jobId === String(job!.id) && e.phase === 'measuring speed').at(-1)).toMatchObject({
        step: 3,
        total: 3,
      });
      const result = done.result as { imagesPerSecond: number; images: number; method: string };
      expect(result.method).toBe(method);
      expect(result.images).toBeGreaterThan(0);
      expect(result.imagesPerSecond).toBeGreaterThan(0);

      const after = await h.client.call('training:estimate', request);
      expect(after.speedSource).toBe('measured');
      expect(after.imagesPerSecond).toBeCloseTo(result.imagesPerSecond, 6);
      // Measured once per model and method on this computer: asking again starts nothing.
      expect(await h.client.call('training:measureSpeed', request)).toBeNull();
    },
    120_000,
  );
});

describe('linear probe progress', () => {
  it('reports its feature extraction image by image, with a rate and the time left', async () => {
    const run = await h.client.call('runs:start', { modelId, method: 'linear', classIds, settings: { epochs: 2, batchSize: 2 } });
    await waitFor(async () => (await h.client.call('runs:get', { runId: run.id })).status === 'completed');
    const features = events.filter((e) => e.runId === run.id && e.phase === 'extracting features');
    const trainImages = (await h.client.call('training:plan', { classIds })).reduce((s, c) => s + c.train, 0);
    expect(features.length).toBeGreaterThan(1);
    expect(features.at(-1)).toMatchObject({ step: trainImages, total: trainImages });
    expect(features.at(-1)!.imagesPerSecond).toBeGreaterThan(0);
    // None of it is a point of the curves: those are the probe's optimiser steps only.
    const metrics = await h.client.call('runs:metrics', { runId: run.id });
    expect(metrics.every((m) => m.loss !== null)).toBe(true);
  }, 120_000);
});

describe('closing the project', () => {
  it('keeps a job that has just completed completed, when the project closes as it ends', async () => {
    const other = inProcess();
    try {
      const dir = tempDir();
      await other.client.call('project:create', { path: join(dir, 'close.cytotune') });
      await other.client.call('import:run', { paths: [data] });
      const ids = (await other.client.call('classes:list', {})).map((c) => c.id);
      const model = (await other.client.call('models:add', { path: writeTinyCheckpoint(dir) })).id;
      const run = await other.client.call('runs:start', { modelId: model, method: 'linear', classIds: ids, settings: { epochs: 1 } });
      const compute = other.workspace.requireCompute();
      const job = compute.jobs.list().find((j) => j.runId === run.id)!;
      const project = other.workspace.currentProject!;
      await compute.jobs.whenDone(job.id).then(() => compute.dispose());
      expect(project.jobs.get(job.id)!.status).toBe('completed');
      expect(project.runs.get(run.id)!.status).toBe('completed');
    } finally {
      await other.close();
    }
  }, 120_000);
});
