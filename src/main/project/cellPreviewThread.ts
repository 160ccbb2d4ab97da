// cells:preview off the main thread: one worker_threads Worker (cellPreviewWorker.ts), started on
// the first preview and kept for the next ones, does the read and the detection; main only checks
// the request and waits. The worker is unref'd (it never keeps a process alive); if it dies, the
// previews it held fail with the reason and the next one starts a fresh worker.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../../slides/workerThread';
import { ApiError } from '../../shared/api';
import type { CellPreview } from '../../shared/cells';
import type { DetectionParams } from '../../slides/cells';
import { repoRoot } from '../paths';

/** One preview: the slide, the level and the clipped level-0 region [x0, x1) x [y0, y1). */
export interface PreviewJob {
  id: number;
  path: string;
  level: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  params: DetectionParams;
}

export type PreviewReply =
  { id: number; ok: true; preview: CellPreview } | { id: number; ok: false; kind: 'invalid-input' | 'io' | 'internal'; message: string };

type Pending = { resolve: (p: CellPreview) => void; reject: (err: Error) => void };

/**
 * The built worker next to the built main bundle (out/main/), else the source through tsx's loader,
 * registered inside the thread by a small bootstrap (Node 20 does not apply `--import` to workers).
 */
function newWorker(): Worker {
  const built = join(dirname(fileURLToPath(import.meta.url)), 'cellPreviewWorker.js');
  return startWorkerThread(existsSync(built) ? built : join(repoRoot, 'src/main/project/cellPreviewWorker.ts'));
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

function failAll(reason: string): void {
  for (const p of pending.values()) p.reject(new ApiError('internal', `The cell preview stopped: ${reason}. Try again.`));
  pending.clear();
}

function start(): Worker {
  const w = newWorker();
  w.unref();
  w.on('message', (reply: PreviewReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.preview);
    else p.reject(new ApiError(reply.kind, reply.message));
  });
  w.on('error', (err) => {
    if (worker === w) worker = null;
    failAll(err.message);
  });
  w.on('exit', (code) => {
    if (worker === w) worker = null;
    failAll(`its thread exited with code ${code}`);
  });
  return w;
}

export function previewInThread(job: Omit<PreviewJob, 'id'>): Promise<CellPreview> {
  worker ??= start();
  const id = nextId++;
  const w = worker;
  return new Promise<CellPreview>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ ...job, id } satisfies PreviewJob);
  });
}
