// The batch buffers of batch classification and who fills them: `slots` preallocated
// [batchSize, 3, S, S] float32 buffers (SharedArrayBuffers), filled either by worker threads,
// each its contiguous share of a batch, or, with threads 0, in the job's own thread. Reading
// (sharp, libuv pool), cropping, the bicubic resize and normalising then run beside the engine's
// threads instead of between its batches.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../../slides/workerThread';
import type { PipelineOptions } from '../data/imagePipeline';
import type { PatchItem } from '../../shared/jobs';
import { PatchPreparer } from './patchPrep';

export type PrepRequest = { type: 'fill'; id: number; slot: number; first: number; items: PatchItem[] } | { type: 'close' };
export type PrepReply = { type: 'filled'; id: number } | { type: 'failed'; id: number; message: string; kind?: string };

export interface PatchPrep {
  /** slots[k]: [batchSize, 3, S, S] NCHW; fill(k, items) writes items[i] as image i. */
  readonly slots: readonly Float32Array[];
  /** Worker threads filling the slots; 0 when the job's thread does. */
  readonly threads: number;
  /**
   * Whether the slots are SharedArrayBuffers (threads > 0). ONNX Runtime's node binding refuses
   * those as input ("Invalid argument"): such a slot is copied into an ordinary buffer first.
   */
  readonly shared: boolean;
  fill(slot: number, items: readonly PatchItem[]): Promise<void>;
  close(): Promise<void>;
}

export interface PatchPrepOptions {
  pipeline: PipelineOptions;
  batchSize: number;
  slots: number;
  /** 0: preprocess in this thread. */
  threads: number;
  /** Thread entry (default prepThreadEntry()); null or missing: this thread preprocesses. */
  entry?: string | null;
}

/** The thread entry next to this module (.ts under tsx, .js in a build), or null. */
export function prepThreadEntry(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [here, join(here, '..')])
    for (const name of ['prepThread.ts', 'prepThread.js']) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

/** [start, end) of each of k threads' share of n items: contiguous, sizes differing by at most 1. */
export function shares(n: number, k: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0, start = 0; t < k; t++) {
    const end = start + Math.floor(n / k) + (t < n % k ? 1 : 0);
    if (end > start) out.push([start, end]);
    start = end;
  }
  return out;
}

export function createPatchPrep(o: PatchPrepOptions): PatchPrep {
  const values = o.batchSize * 3 * o.pipeline.size * o.pipeline.size;
  const entry = o.entry === undefined ? prepThreadEntry() : o.entry;
  if (o.threads <= 0 || !entry) {
    const views = Array.from({ length: o.slots }, () => new Float32Array(values));
    const preparer = new PatchPreparer(o.pipeline);
    return {
      slots: views,
      threads: 0,
      shared: false,
      fill: (slot, items) => preparer.prepare(items, views[slot], 0),
      close: () => preparer.close(),
    };
  }
  const buffers = Array.from({ length: o.slots }, () => new SharedArrayBuffer(values * Float32Array.BYTES_PER_ELEMENT));
  return new ThreadPrep(
    entry,
    o,
    buffers,
    buffers.map((b) => new Float32Array(b)),
  );
}

class ThreadPrep implements PatchPrep {
  readonly shared = true;
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(
    entry: string,
    o: PatchPrepOptions,
    buffers: SharedArrayBuffer[],
    readonly slots: Float32Array[],
  ) {
    const workerData = { pipeline: o.pipeline, slots: buffers };
    this.workers = Array.from({ length: o.threads }, () => {
      const w = spawn(entry, workerData);
      w.on('message', (m: PrepReply) => this.settle(m));
      // A thread that dies fails what it was doing and every later fill.
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => code !== 0 && this.fail(new Error(`a preprocessing thread exited with code ${code}`)));
      return w;
    });
  }

  get threads(): number {
    return this.workers.length;
  }

  fill(slot: number, items: readonly PatchItem[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const parts = shares(items.length, this.workers.length).map(([start, end], t) => {
      const id = this.nextId++;
      const done = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
      const request: PrepRequest = { type: 'fill', id, slot, first: start, items: items.slice(start, end) };
      this.workers[t].postMessage(request);
      return done;
    });
    return Promise.all(parts).then(() => undefined);
  }

  private settle(m: PrepReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'filled') p.resolve();
    else p.reject(Object.assign(new Error(m.message), m.kind ? { kind: m.kind } : {}));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the preprocessing threads are closed');
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve());
            w.postMessage({ type: 'close' } satisfies PrepRequest);
            // A thread stuck in a read must not hold the job: stop it after a grace period.
            setTimeout(() => void w.terminate(), 2000).unref();
          }),
      ),
    );
  }
}

/** A thread on `entry`; a .ts entry (tsx, tests and dev) first registers tsx in that thread. */
function spawn(entry: string, workerData: unknown): Worker {
  return startWorkerThread(entry, { workerData });
}
