// Hardening item 3: the disk fills while a run trains (a real SQLITE_FULL from the real engine:
// PRAGMA max_page_count on the server's own connection). The run fails with the disk-full
// message, the worker stops, the server keeps answering; with space again the run resumes.
// A process-level guard keeps `serve` alive through an uncaught error (checked in a child).
import { spawn } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../../src/shared/api';
import { herlevDir, repoRoot, tempDir } from '../../support/paths';
import { overHttp, type Harness } from '../../support/servers';
import { twoClassProject } from '../../support/trainingProject';
import { waitFor } from '../../support/waitFor';

let h: Harness;
let modelId: number;
let classIds: number[];
const events: JobProgress[] = [];

beforeAll(async () => {
  h = await overHttp();
  await h.ready();
  ({ classIds, modelId } = await twoClassProject(h.client, tempDir(), 'full.cytotune'));
  h.client.on('job:progress', (p) => events.push(p));
});
afterAll(async () => h.close());

describe('a full disk during training', () => {
  it('fails the run with the disk-full message; the server keeps answering; the run resumes with space again', async () => {
    // Long enough that the tiny model (1,000+ images/s when the machine is idle) is still training when its writes fail.
    const run = await h.client.call('runs:start', { modelId, method: 'lora', classIds, settings: { steps: 1_000_000, batchSize: 8 } });
    await waitFor(() => events.some((e) => e.runId === run.id && e.step >= 2));
    const db = h.workspace.currentProject!.db;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);

    await waitFor(async () => (await h.client.call('runs:get', { runId: run.id })).status === 'failed', 60_000);
    const failed = await h.client.call('runs:get', { runId: run.id });
    expect(failed.error).toMatch(/disk is full/i);
    expect(failed.error).not.toMatch(/SQLITE|at [\w.]+ \(/);
    const job = (await h.client.call('jobs:list', {})).find((j) => j.runId === run.id)!;
    expect(job).toMatchObject({ status: 'failed' });
    // The server still answers, and a write while the disk is full says so.
    expect((await h.client.call('project:info', {})).counts.annotations).toBe(16);
    const more = join(tempDir(), 'more');
    for (const f of readdirSync(join(herlevDir, 'carcinoma_in_situ')).sort().slice(0, 40)) {
      cpSync(join(herlevDir, 'carcinoma_in_situ', f), join(more, 'carcinoma_in_situ', f));
    }
    await expect(h.client.call('import:run', { paths: [more] })).rejects.toMatchObject({ kind: 'io', message: /^The disk is full/ });

    db.pragma('max_page_count = 1073741823');
    const mark = events.length;
    await h.client.call('runs:resume', { runId: run.id });
    await waitFor(() => events.slice(mark).some((e) => e.runId === run.id && e.step > 0));
    await h.client.call('runs:cancel', { runId: run.id });
    await waitFor(async () => (await h.client.call('runs:get', { runId: run.id })).status === 'cancelled', 60_000);
  }, 240_000);
});

describe('the process guard', () => {
  it('keeps a serve process answering after an uncaught exception and an unhandled rejection', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/integration/hardening/guardProbe.ts'), tempDir()], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await waitFor(() => /answered after the errors: 200/.test(out) || child.exitCode !== null, 60_000);
    expect(out).toMatch(/answered after the errors: 200/);
    expect(err).toMatch(/uncaught error.*boom in a timer/s);
    expect(err).toMatch(/unhandled rejection.*boom in a promise/s);
    child.kill('SIGTERM');
    await exited;
  }, 90_000);
});
