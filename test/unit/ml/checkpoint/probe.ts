// Opens a checkpoint and reads every float tensor, reporting the outcome, the time it took and
// how much the process grew; any exception other than a CheckpointError is rethrown (a bug).
import { CheckpointError, type CheckpointErrorKind } from '../../../../src/worker/checkpoint/errors';
import type { ReadLimits } from '../../../../src/worker/checkpoint/limits';
import { openCheckpoint } from '../../../../src/worker/checkpoint/openCheckpoint';
import { FLOAT_DTYPES } from '../../../../src/worker/checkpoint/types';

export interface Probe {
  outcome: 'ok' | CheckpointErrorKind;
  message: string;
  names: string[];
  seconds: number;
  /** Peak resident memory during the call above the resident memory before it (conservative). */
  peakGrowthMB: number;
}

export function probe(path: string, limits: Partial<ReadLimits> = {}): Probe {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let outcome: Probe['outcome'] = 'ok';
  let message = '';
  let names: string[] = [];
  try {
    const c = openCheckpoint(path, limits);
    try {
      names = [...c.tensors.keys()];
      for (const [name, info] of c.tensors) if (FLOAT_DTYPES.has(info.dtype)) c.read(name);
    } finally {
      c.close();
    }
  } catch (err) {
    if (!(err instanceof CheckpointError)) throw err;
    outcome = err.kind;
    message = err.message;
  }
  const seconds = (performance.now() - t0) / 1000;
  const peak = Math.max(process.resourceUsage().maxRSS * 1024, process.memoryUsage().rss);
  return { outcome, message, names, seconds, peakGrowthMB: (peak - rss0) / 2 ** 20 };
}
