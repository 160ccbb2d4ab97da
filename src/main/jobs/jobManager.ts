// The job manager: a queue of compute jobs run one at a time in the ML worker process.
// It persists each job's state and progress, streams progress events, cancels within one
// step, and notices a worker that dies: the job fails with the reason and the tail of the
// worker's error output, the app keeps working, and the next job starts a new worker.
import type { FromWorker, JobKind, JobOutcome, JobResults, JobStart, WorkerError, WorkerProgress } from '../../shared/jobs';
import type { JobsRepository, JobRecord } from '../db/repositories/jobs';
import type { Project } from '../project/project';
import { nodeWorkerSpawner, type WorkerHandle, type WorkerSpawner } from './workerProcess';

/** What each kind of job does around the worker: persist its progress and its result. */
export interface JobKindHooks<K extends JobKind> {
  onProgress?(project: Project, job: JobRecord, progress: WorkerProgress): void;
  onResult(project: Project, job: JobRecord, result: JobResults[K]): void;
  onEnd?(project: Project, job: JobRecord, status: 'failed' | 'cancelled', error: string): void;
  /** Detect jobs: a finished tile's cells with the checkpoint past it. */
  onCells?(project: Project, job: JobRecord, tile: Extract<FromWorker, { type: 'cells' }>): void;
}

export interface JobEvent {
  job: JobRecord;
  progress?: WorkerProgress;
}

interface Running {
  job: JobRecord;
  done: () => void;
}

export class JobManager {
  private readonly jobs: JobsRepository;
  private readonly queue: JobRecord[] = [];
  private worker: WorkerHandle | null = null;
  private workerReady: Promise<void> | null = null;
  private running: Running | null = null;
  private readonly finished = new Map<number, (job: JobRecord) => void>();
  private disposed = false;

  constructor(
    private readonly project: Project,
    private readonly hooks: { [K in JobKind]: JobKindHooks<K> },
    private readonly emit: (event: JobEvent) => void,
    private readonly spawn: WorkerSpawner = nodeWorkerSpawner,
  ) {
    this.jobs = project.jobs;
    this.jobs.markInterrupted();
  }

  submit(start: JobStart, runId: number | null): JobRecord {
    const job = this.jobs.insert(start, runId);
    this.queue.push(job);
    this.emit({ job });
    void this.pump();
    return job;
  }

  /** Resolves when the job ends (completed, failed or cancelled), with its final record. */
  whenDone(jobId: number): Promise<JobRecord> {
    const job = this.jobs.get(jobId);
    if (job && !['queued', 'running'].includes(job.status)) return Promise.resolve(job);
    return new Promise((resolve) => this.finished.set(jobId, resolve));
  }

  cancel(jobId: number): boolean {
    const queued = this.queue.findIndex((j) => j.id === jobId);
    if (queued >= 0) {
      const [job] = this.queue.splice(queued, 1);
      this.end(job, 'cancelled', 'Cancelled before it started.');
      return true;
    }
    if (this.running?.job.id === jobId) {
      this.worker?.send({ type: 'cancel', jobId: String(jobId) });
      return true;
    }
    return false;
  }

  list(): JobRecord[] {
    return this.jobs.list();
  }

  get workerPid(): number | undefined {
    return this.worker?.pid;
  }

  /** Ends every job (the project is closing) and stops the worker; its exit is then ignored. */
  dispose(): void {
    this.disposed = true;
    for (const job of this.queue.splice(0)) this.end(job, 'cancelled', 'CytoTune closed the project.');
    if (this.running) this.end(this.running.job, 'cancelled', 'CytoTune closed the project; resume the run to continue.');
    this.running = null;
    this.worker?.kill();
    this.worker = null;
  }

  private ensureWorker(): Promise<void> {
    if (this.worker && this.workerReady) return this.workerReady;
    let ready!: () => void;
    this.workerReady = new Promise((resolve) => (ready = resolve));
    this.worker = this.spawn({
      onMessage: (m) => {
        if (this.disposed) return;
        if (m.type === 'ready') ready();
        else this.onWorkerMessage(m);
      },
      onExit: (reason, stderrTail) => {
        if (this.disposed) return;
        this.worker = null;
        this.workerReady = null;
        ready(); // unblock a start that was waiting; the running job fails below
        const current = this.running;
        if (current) {
          const tail = stderrTail ? `\n${stderrTail.split('\n').slice(-12).join('\n')}` : '';
          this.end(current.job, 'failed', `The ML worker process ${reason}.${tail}`);
          current.done();
        }
      },
    });
    return this.workerReady;
  }

  private async pump(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    await new Promise<void>((done) => {
      this.running = { job, done };
      this.jobs.setStatus(job.id, 'running');
      this.emit({ job: this.jobs.get(job.id)! });
      void this.ensureWorker().then(() => {
        if (!this.worker) return; // died while starting: onExit failed the job
        this.worker.send({ type: 'start', jobId: String(job.id), job: { kind: job.kind, spec: job.spec } as JobStart });
      });
    });
    this.running = null;
    void this.pump();
  }

  private onWorkerMessage(m: Exclude<FromWorker, { type: 'ready' }>): void {
    const current = this.running;
    if (!current || String(current.job.id) !== m.jobId) return;
    const { job } = current;
    if (m.type === 'cells') {
      try {
        this.hooks[job.kind].onCells?.(this.project, job, m);
      } catch (err) {
        // Storing failed (a full disk, say): stop the job rather than lose cells in silence.
        this.jobs.setProgress(job.id, {
          step: m.checkpoint.nextTile - 1,
          total: m.checkpoint.tilesTotal,
          phase: `could not store cells: ${(err as Error).message}`,
        });
        this.cancel(job.id);
      }
    } else if (m.type === 'progress') {
      this.jobs.setProgress(job.id, m.progress);
      this.hooks[job.kind].onProgress?.(this.project, job, m.progress);
      this.emit({ job, progress: m.progress });
    } else if (m.type === 'result') {
      try {
        this.storeResult(job, m.outcome);
        this.jobs.setStatus(job.id, 'completed');
        this.finish(job);
      } catch (err) {
        this.end(job, 'failed', `Could not store the result: ${(err as Error).message}`);
      }
      current.done();
    } else if (m.type === 'error') {
      this.end(job, m.error.kind === 'cancelled' ? 'cancelled' : 'failed', describe(m.error));
      current.done();
    }
  }

  /** The hook of the outcome's kind; the switch lets the result's type follow its kind. */
  private storeResult(job: JobRecord, outcome: JobOutcome): void {
    if (outcome.kind !== job.kind) throw new Error(`the worker answered a ${job.kind} job with a ${outcome.kind} result`);
    switch (outcome.kind) {
      case 'train':
        return this.hooks.train.onResult(this.project, job, outcome.result);
      case 'classify':
        return this.hooks.classify.onResult(this.project, job, outcome.result);
      case 'experiment':
        return this.hooks.experiment.onResult(this.project, job, outcome.result);
      case 'detect':
        return this.hooks.detect.onResult(this.project, job, outcome.result);
    }
  }

  private end(job: JobRecord, status: 'failed' | 'cancelled', error: string): void {
    this.jobs.setStatus(job.id, status, error);
    try {
      this.hooks[job.kind].onEnd?.(this.project, job, status, error);
    } finally {
      this.finish(job);
    }
  }

  private finish(job: JobRecord): void {
    const final = this.jobs.get(job.id)!;
    this.emit({ job: final });
    this.finished.get(job.id)?.(final);
    this.finished.delete(job.id);
  }
}

function describe(error: WorkerError): string {
  return error.kind === 'internal' ? `Unexpected error in the ML worker: ${error.message}` : error.message;
}
