// Polls `cond` every 100 ms until it holds, or fails after `ms`: for jobs that run in the
// worker process, whose end the tests observe through the API.
export async function waitFor(cond: () => Promise<boolean> | boolean, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
