// How long the event loop stalls while async work runs: a fast interval timer notes the longest
// gap between its ticks. Work that stays off the loop (native threads, worker threads) leaves the
// gaps near the interval; work on the loop shows up as one gap as long as itself.

export async function longestStall<T>(work: () => Promise<T>, intervalMs = 2): Promise<{ result: T; longestGap: number; took: number }> {
  let last = performance.now();
  let longestGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, intervalMs);
  const t0 = performance.now();
  try {
    const result = await work();
    return { result, longestGap, took: performance.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}
