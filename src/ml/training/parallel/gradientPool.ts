// Data-parallel gradients over N worker processes (tfjs-wasm cannot use threads in Node, and two
// processes give ~1.9x on two cores: bench/train-step.ts measures it).
// Each optimiser batch is cut into N contiguous shares; worker w computes the gradient sum of
// share w; the parent adds the N results in worker order (a fixed order, so a run does not depend
// on which worker finishes first) and the trainer applies AdamW once. Same seeded augmentation
// and dropout per image as one process, so results match it to float rounding.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWorker, GradRequest, ToWorker, WorkerInit } from './protocol';

export class ParallelTrainingError extends Error {
  constructor(
    readonly kind: 'training-worker-failed' | 'training-worker-out-of-memory' | string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The worker entry: next to this module (.ts under tsx, .js in a build), or CYTOTUNE_GRAD_WORKER.
 * A bundled build needs gradWorker as its own entry (electron.vite.config.ts main inputs); without
 * it the planner keeps training in one process and says why.
 */
export function gradWorkerEntry(): string | null {
  const fromEnv = process.env.CYTOTUNE_GRAD_WORKER;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const name of ['gradWorker.ts', 'gradWorker.js']) if (existsSync(join(here, name))) return join(here, name);
  return null;
}

/** [start, end) of each worker's share of n images: contiguous, sizes differing by at most 1, none empty. */
export function splitShares(n: number, workers: number): [number, number][] {
  const k = Math.max(1, Math.min(workers, n));
  const out: [number, number][] = [];
  let start = 0;
  for (let w = 0; w < k; w++) {
    const size = Math.floor(n / k) + (w < n % k ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}

export interface WorkerReport {
  pid: number;
  images: number;
  seconds: number;
  peakRssBytes: number;
}

export interface BatchGrads {
  lossSum: number;
  correct: number;
  /** Sum over workers, in worker order, one per trainable tensor. */
  grads: Float32Array[];
  workers: WorkerReport[];
}

type Pending = { resolve: (m: FromWorker) => void; reject: (e: Error) => void };

class WorkerProcess {
  private pending = new Map<number, Pending>();
  private stderr = '';
  private dead: ParallelTrainingError | null = null;
  readonly ready: Promise<void>;
  pid = 0;

  constructor(
    private readonly child: ChildProcess,
    init: WorkerInit,
  ) {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (t: string) => (this.stderr = (this.stderr + t).slice(-4000)));
    this.ready = new Promise((resolve, reject) => {
      this.pending.set(-1, { resolve: () => resolve(), reject });
    });
    child.on('message', (raw) => {
      const m = raw as FromWorker;
      if (m.type === 'up') return void this.send(init);
      const id = m.type === 'ready' ? -1 : m.type === 'grads' ? m.id : (m.id ?? -1);
      const p = this.pending.get(id) ?? (m.type === 'error' ? [...this.pending.values()][0] : undefined);
      if (!p) return;
      this.pending.delete(id);
      if (m.type === 'error') p.reject(new ParallelTrainingError(m.kind, m.message));
      else {
        if (m.type === 'ready') this.pid = m.pid;
        p.resolve(m);
      }
    });
    const died = (why: string) => {
      if (this.dead) return;
      const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
      const oom = /Aborted\(\)|out of memory|memory access out of bounds|Cannot enlarge memory|Array buffer allocation failed/i.test(
        this.stderr,
      );
      this.dead = oom
        ? new ParallelTrainingError(
            'training-worker-out-of-memory',
            `A training worker ran out of memory (wasm heap is 4 GiB per process): ${why}. Lower the micro-batch size or the number of processes. ${tail}`,
          )
        : new ParallelTrainingError('training-worker-failed', `A training worker stopped: ${why}. ${tail}`);
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
    };
    child.on('exit', (code, signal) => died(signal ? `killed by ${signal}` : `exited with code ${code}`));
    child.on('error', (err) => died(`could not start: ${err.message}`));
  }

  send(m: ToWorker): void {
    if (this.child.connected) this.child.send(m);
  }

  request(req: GradRequest): Promise<Extract<FromWorker, { type: 'grads' }>> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve: (m) => resolve(m as Extract<FromWorker, { type: 'grads' }>), reject });
      this.send(req);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export interface PoolOptions {
  processes: number;
  init: Omit<WorkerInit, 'type'>;
  /** Worker entry file (default gradWorkerEntry()). */
  entry?: string;
}

export class GradientPool {
  private nextId = 0;

  private constructor(private readonly workers: WorkerProcess[]) {}

  /** Starts the workers and waits until each has loaded its encoder; on failure none is left running. */
  static async start(opts: PoolOptions): Promise<GradientPool> {
    const entry = opts.entry ?? gradWorkerEntry();
    if (!entry)
      throw new ParallelTrainingError(
        'training-worker-failed',
        'the gradient worker script (src/ml/training/parallel/gradWorker) is not part of this build',
      );
    const init: WorkerInit = {
      type: 'init',
      blasThreads: Math.max(1, Math.floor(availableParallelism() / Math.max(1, opts.processes))),
      ...opts.init,
    };
    const workers = Array.from({ length: Math.max(1, opts.processes) }, () => {
      const child = fork(entry, [], {
        execArgv: entry.endsWith('.ts') ? ['--import', 'tsx'] : [],
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
        serialization: 'advanced',
        // Inside Electron process.execPath is Electron: make the child a plain Node.
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
      return new WorkerProcess(child, init);
    });
    const pool = new GradientPool(workers);
    try {
      await Promise.all(workers.map((w) => w.ready));
    } catch (err) {
      await pool.dispose();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  get pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  /**
   * Gradient of sum(losses of `images`) / batchSize. `images[i]` is image i's normalised [3, S, S]
   * pixels, `sampleIds[i]` its position in the optimiser batch (dropout masks are keyed by it).
   */
  async grads(
    step: number,
    batchSize: number,
    params: Float32Array[],
    images: Float32Array[],
    imageSize: number,
    labels: number[],
    sampleIds: number[],
  ): Promise<BatchGrads> {
    const per = 3 * imageSize * imageSize;
    const shares = splitShares(images.length, this.workers.length);
    const replies = await Promise.all(
      shares.map(([a, b], w) => {
        const pixels = new Float32Array((b - a) * per);
        for (let i = a; i < b; i++) pixels.set(images[i], (i - a) * per);
        return this.workers[w].request({
          type: 'grads',
          id: this.nextId++,
          step,
          batchSize,
          params,
          images: pixels,
          imageSize,
          labels: labels.slice(a, b),
          sampleIds: sampleIds.slice(a, b),
        });
      }),
    );
    // Fixed order: worker 0 + worker 1 + ... (float addition is not associative).
    const grads = replies[0].grads.map((g) => Float32Array.from(g));
    for (const r of replies.slice(1)) {
      r.grads.forEach((g, i) => {
        const acc = grads[i];
        for (let j = 0; j < acc.length; j++) acc[j] += g[j];
      });
    }
    return {
      lossSum: replies.reduce((s, r) => s + r.lossSum, 0),
      correct: replies.reduce((s, r) => s + r.correct, 0),
      grads,
      workers: replies.map((r, w) => ({
        pid: this.workers[w].pid,
        images: shares[w][1] - shares[w][0],
        seconds: r.seconds,
        peakRssBytes: r.peakRssBytes,
      })),
    };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
