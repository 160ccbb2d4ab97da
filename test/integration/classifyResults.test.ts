// How main stores a classify job's predictions, against a scripted worker (the worker's side is
// tested in test/integration/ml/batchClassify.test.ts and jobs.test.ts): each streamed chunk is
// stored as it arrives, the job's first chunk on an image replaces the run's earlier predictions
// there (never a mix of two classifications), and a cancelled job keeps what it had classified.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessClient } from '../../src/main/api/inProcessClient';
import { Workspace } from '../../src/main/api/workspace';
import type { ApiClient } from '../../src/shared/api';
import type { ClassifyJobSpec, PatchPrediction, TrainJobSpec } from '../../src/shared/jobs';
import { slidePath, tempDir } from '../support/paths';
import { ScriptedWorker, trainResult } from '../support/servers';
import { writeTinyCheckpoint } from '../support/tinyModel';
import { waitFor } from '../support/waitFor';

const worker = new ScriptedWorker();
let workspace: Workspace;
let client: ApiClient;
let runId: number;
let slideId: number;

const chunk = (from: number, n: number, side: number, classIndex = 0): PatchPrediction[] =>
  Array.from({ length: n }, (_, k) => ({
    imageId: slideId,
    box: { x: (from + k) * side, y: 0, w: side, h: side },
    classIndex,
    probabilities: classIndex ? [0.3, 0.7] : [0.7, 0.3],
    entropy: 0.61,
  }));
const stored = async () => client.call('predictions:list', { runId, imageId: slideId });
const jobStatus = async (id: number) => (await client.call('jobs:list', {})).find((j) => j.id === id)!.status;

beforeAll(async () => {
  const dir = tempDir();
  workspace = new Workspace({ spawnWorker: worker.spawner });
  client = createInProcessClient(workspace);
  await client.call('project:create', { path: join(dir, 'classify.cytotune') });
  const a = await client.call('classes:create', { name: 'A' });
  const b = await client.call('classes:create', { name: 'B' });
  await client.call('import:run', { paths: [slidePath] });
  slideId = (await client.call('images:list', {}))[0].id;
  for (let i = 0; i < 2; i++)
    for (const c of [a, b])
      await client.call('annotations:create', { imageId: slideId, classId: c.id, box: { x: 300 * i, y: 300 * c.id, w: 224, h: 224 } });
  const model = await client.call('models:add', { path: writeTinyCheckpoint(dir) });
  runId = (await client.call('runs:start', { modelId: model.id, method: 'linear', classIds: [a.id, b.id] })).id;
  const train = await worker.nthStart(1);
  worker.result(train.jobId, trainResult(train.job.spec as TrainJobSpec, 4));
  await waitFor(async () => (await client.call('runs:get', { runId })).status === 'completed');
}, 60_000);
afterAll(async () => workspace?.close());

describe('classification results (scripted worker)', () => {
  it('stores each streamed chunk as it comes, and the result completes the job', async () => {
    const job = await client.call('classify:start', { runId, imageIds: [slideId] });
    const started = await worker.nthStart(2);
    const side = (started.job.spec as ClassifyJobSpec).patchSize;
    worker.predictions(started.jobId, chunk(0, 7, side));
    expect(await stored()).toHaveLength(7);
    worker.predictions(started.jobId, chunk(7, 5, side));
    expect(await stored()).toHaveLength(12);
    worker.result(started.jobId, {
      kind: 'classify',
      result: {
        predictions: chunk(12, 1, side),
        count: 13,
        seconds: 2,
        grids: [{ imageId: slideId, gridPatches: 130, tissuePatches: 13 }],
      },
    });
    await waitFor(async () => (await jobStatus(job.id)) === 'completed');
    const all = await stored();
    expect(all.map((p) => p.box.x)).toEqual(Array.from({ length: 13 }, (_, i) => i * side));
  });

  it("a new classification's first chunk replaces the earlier predictions; a cancelled one keeps its own", async () => {
    const job = await client.call('classify:start', { runId, imageIds: [slideId] });
    const started = await worker.nthStart(3);
    const side = (started.job.spec as ClassifyJobSpec).patchSize;
    worker.predictions(started.jobId, chunk(0, 4, side, 1));
    const now = await stored();
    expect(now).toHaveLength(4);
    expect(new Set(now.map((p) => p.probabilities[1]))).toEqual(new Set([0.7]));
    worker.predictions(started.jobId, chunk(4, 2, side, 1));
    await client.call('jobs:cancel', { id: job.id });
    await waitFor(async () => (await jobStatus(job.id)) === 'cancelled');
    expect(await stored()).toHaveLength(6);
  });
});
