// Messages between main's job manager and the ML worker process. Discriminated unions;
// errors are values with a kind. Progress is throttled by the worker (about every 250 ms).

export type JobKind = 'train' | 'classify' | 'experiment';

export interface WorkerProgress {
  step: number;
  total: number;
  phase?: string;
  loss?: number;
  lr?: number;
  accuracy?: number;
  imagesPerSecond?: number;
  etaSeconds?: number;
}

export interface WorkerError {
  /** 'cancelled' when asked to stop; 'invalid-input', 'checkpoint', 'data', 'internal', ... otherwise. */
  kind: string;
  message: string;
}

export type ToWorker = { type: 'start'; jobId: string; kind: JobKind; spec: unknown } | { type: 'cancel'; jobId: string };

export type FromWorker =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; jobId: string; progress: WorkerProgress }
  | { type: 'log'; jobId: string; level: 'info' | 'warn'; message: string }
  | { type: 'result'; jobId: string; result: unknown }
  | { type: 'error'; jobId: string; error: WorkerError };

/** Lets through the first and last updates and at most one every `intervalMs` between. */
export function progressThrottle(intervalMs = 250): (p: WorkerProgress) => boolean {
  let last = -Infinity;
  return (p) => {
    const now = Date.now();
    if (p.step === 0 || p.step >= p.total || now - last >= intervalMs) {
      last = now;
      return true;
    }
    return false;
  };
}
