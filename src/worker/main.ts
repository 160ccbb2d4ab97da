// Entry of the ML worker process. Runs one job at a time as main asks; a job reports
// throttled progress, can be cancelled between steps, and ends with a result or an error
// value. A crash here never takes the app down: main notices the exit and fails the run.
import { progressThrottle, type FromWorker, type WorkerError } from '../shared/jobs';
import { runJob, type JobContext } from './jobs/registry';
import { processPort } from './port';

const port = processPort();
interface RunningJob {
  controller: AbortController;
  /** Every step reported, before throttling: where a cancel found the job. */
  lastStep: number;
  cancelledAtStep: number | null;
}
const running = new Map<string, RunningJob>();

port.onMessage(async (message) => {
  if (message.type === 'cancel') {
    const job = running.get(message.jobId);
    if (job) {
      job.cancelledAtStep = job.lastStep;
      job.controller.abort();
    }
    return;
  }
  const { jobId } = message;
  const controller = new AbortController();
  const job: RunningJob = { controller, lastStep: 0, cancelledAtStep: null };
  running.set(jobId, job);
  const pass = progressThrottle();
  const context: JobContext = {
    signal: controller.signal,
    progress: (progress) => {
      job.lastStep = progress.step;
      if (pass(progress)) port.send({ type: 'progress', jobId, progress });
    },
    log: (messageText, level = 'info') => port.send({ type: 'log', jobId, level, message: messageText }),
    cells: (tile, cells, checkpoint) => port.send({ type: 'cells', jobId, tile, cells, checkpoint }),
    predictions: (predictions) => port.send({ type: 'predictions', jobId, predictions }),
  };
  let reply: FromWorker;
  try {
    reply = { type: 'result', jobId, outcome: await runJob(message.job, context) };
  } catch (err) {
    const e = err as Error & { kind?: string };
    const error: WorkerError = controller.signal.aborted
      ? { kind: 'cancelled', message: `Cancelled at step ${job.lastStep} (asked at step ${job.cancelledAtStep}).` }
      : { kind: e.kind ?? 'internal', message: e.message ?? String(err) };
    if (error.kind === 'internal') process.stderr.write(`${e.stack ?? e}\n`);
    reply = { type: 'error', jobId, error };
  } finally {
    running.delete(jobId);
  }
  port.send(reply);
});

port.send({ type: 'ready', pid: process.pid });
