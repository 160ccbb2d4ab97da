// Opens a checkpoint and reads every float tensor, reporting the outcome, the time it took and
// how much the process grew; any exception other than a CheckpointError is rethrown (a bug).
import { CheckpointError, type CheckpointErrorKind } from '../../src/ml/checkpoint/errors';
import type { ReadLimits } from '../../src/ml/checkpoint/limits';
import { openCheckpoint } from '../../src/ml/checkpoint/openCheckpoint';
import { FLOAT_DTYPES } from '../../src/ml/checkpoint/types';

export interface Probe {
  outcome: 'ok' | CheckpointErrorKind;
  message: string;
  names: string[];
  seconds: number;
  /**
   * Peak resident memory during the call above the resident memory before it. Node keeps only the
   * process-lifetime peak, so a call that stays under an earlier peak reports its final growth
   * instead: a blow-up of the kind these tests guard against (gigabytes) always sets a new peak.
   */
  peakGrowthMB: number;
}

export function probe(path: string, limits: Partial<ReadLimits> = {}): Probe {
  const rss0 = process.memoryUsage().rss;
  const peak0 = process.resourceUsage().maxRSS * 1024;
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
  const peak1 = process.resourceUsage().maxRSS * 1024;
  const peak = peak1 > peak0 ? peak1 : process.memoryUsage().rss;
  return { outcome, message, names, seconds, peakGrowthMB: (peak - rss0) / 2 ** 20 };
}
