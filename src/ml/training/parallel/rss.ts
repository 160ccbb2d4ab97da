// Peak resident memory of this process, for benchmarks and worker reports.
import { readFileSync } from 'node:fs';

/** Peak resident set size (Linux VmHWM, bytes); falls back to the current RSS where /proc is absent. */
export function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss;
}
