// Progress lines of long commands (detect, classify) on stderr: at most one a second, with the
// time left extrapolated from the rate so far, and always the last one.
import { formatDuration } from './duration';
import type { Io } from './io';

/** A reporter of `done` of `total` steps; `what` is the rest of the line ("tile 3/40, 120 cells"). */
export function progressLine(io: Io, name: string): (done: number, total: number, what: string) => void {
  const t0 = performance.now();
  let last = -Infinity;
  return (done, total, what) => {
    const now = performance.now();
    if (now - last < 1000 && done < total) return;
    last = now;
    const elapsed = (now - t0) / 1000;
    const left = done > 0 ? (elapsed / done) * (total - done) : null;
    io.err(`${name}: ${what}${left !== null ? `, ${formatDuration(left)} left` : ''}`);
  };
}
