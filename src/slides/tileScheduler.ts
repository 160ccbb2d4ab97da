// When tile renders run. The work itself (libvips decode, resize, JPEG encode) happens in the
// libuv thread pool through sharp's async API; this queue decides what goes there:
//   - at most `concurrency` renders at once (about one per core: more only queue inside the
//     pool, where nothing can take them back);
//   - requests before speculation: a render the viewer asked for always starts before one we
//     guessed it would ask for next (neighbours of a requested tile);
//   - a request whose client went away (HTTP disconnect, OpenSeadragon dropping a tile it no
//     longer needs) leaves the queue at once; its render is dropped if nobody else waits;
//   - requests for the same key share one render, and a request for a speculated tile
//     promotes it to request priority.
// A render that already started runs to the end: its tile still lands in the cache.

import { availableParallelism } from 'node:os';

/** Renders at once: one per core and one to overlap JavaScript with the pool, never more than the pool has threads. */
export function defaultConcurrency(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism() + 1, pool));
}

export class TileAbortedError extends Error {
  readonly kind = 'aborted';
  constructor() {
    super('tile request abandoned by the client');
  }
}

export interface TileSchedulerOptions {
  /** Renders at once (>= 1). */
  concurrency: number;
  /** Speculative renders kept waiting; the oldest are dropped beyond it (default 128). */
  maxSpeculative?: number;
}

export interface TileSchedulerStats {
  running: number;
  queued: number;
  speculativeQueued: number;
  started: number;
  /** Jobs that left the queue unstarted: abandoned by every requester, or stale speculation. */
  dropped: number;
}

interface Job {
  key: string;
  task: () => Promise<unknown>;
  speculative: boolean;
  running: boolean;
  waiters: number;
  done: Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class TileScheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly demand: Job[] = [];
  private readonly guesses: Job[] = [];
  private running = 0;
  private started = 0;
  private dropped = 0;
  private readonly maxSpeculative: number;

  constructor(private readonly options: TileSchedulerOptions) {
    if (!(options.concurrency >= 1)) throw new RangeError(`concurrency must be >= 1, got ${options.concurrency}`);
    this.maxSpeculative = options.maxSpeculative ?? 128;
  }

  /** Run (or join) the render `key`. Rejects with TileAbortedError as soon as `signal` aborts. */
  run<T>(key: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new TileAbortedError());
    let job = this.jobs.get(key);
    if (!job) {
      job = this.create(key, task, false);
      this.demand.push(job);
    } else if (job.speculative) {
      job.speculative = false;
      if (!job.running) {
        this.guesses.splice(this.guesses.indexOf(job), 1);
        this.demand.push(job);
      }
    }
    const j = job;
    j.waiters++;
    const result = new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        j.waiters--;
        if (j.waiters === 0 && !j.running && !j.speculative) this.drop(j, this.demand);
        reject(new TileAbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      j.done.then(
        (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
    this.pump();
    return result;
  }

  /**
   * Queue a guessed render unless `key` is queued or running; false when it was not queued.
   * Beyond `maxSpeculative` the oldest guesses are dropped, or with `ifRoom` this one is not queued.
   */
  speculate(key: string, task: () => Promise<unknown>, options: { ifRoom?: boolean } = {}): boolean {
    if (this.jobs.has(key) || (options.ifRoom && this.guesses.length >= this.maxSpeculative)) return false;
    this.guesses.push(this.create(key, task, true));
    while (this.guesses.length > this.maxSpeculative) this.drop(this.guesses[0], this.guesses);
    this.pump();
    return true;
  }

  has(key: string): boolean {
    return this.jobs.has(key);
  }

  /** Drop every job not yet started (service closing); their requesters get TileAbortedError. */
  cancelQueued(): void {
    for (const q of [this.demand, this.guesses]) while (q.length) this.drop(q[0], q);
  }

  stats(): TileSchedulerStats {
    return {
      running: this.running,
      queued: this.demand.length,
      speculativeQueued: this.guesses.length,
      started: this.started,
      dropped: this.dropped,
    };
  }

  private create(key: string, task: () => Promise<unknown>, speculative: boolean): Job {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A guess nobody asked for may fail unobserved (an address outside a relinked slide).
    done.catch(() => undefined);
    const job: Job = { key, task, speculative, running: false, waiters: 0, done, resolve, reject };
    this.jobs.set(key, job);
    return job;
  }

  private drop(job: Job, queue: Job[]): void {
    const i = queue.indexOf(job);
    if (i >= 0) queue.splice(i, 1);
    if (this.jobs.get(job.key) === job) this.jobs.delete(job.key);
    this.dropped++;
    job.reject(new TileAbortedError());
  }

  private pump(): void {
    while (this.running < this.options.concurrency) {
      const job = this.demand.shift() ?? this.guesses.shift();
      if (!job) return;
      job.running = true;
      this.running++;
      this.started++;
      void Promise.resolve()
        .then(job.task)
        .then(job.resolve, job.reject)
        .finally(() => {
          this.running--;
          if (this.jobs.get(job.key) === job) this.jobs.delete(job.key);
          this.pump();
        });
    }
  }
}
