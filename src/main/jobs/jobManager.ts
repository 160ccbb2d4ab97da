// The job manager: a queue of compute jobs run one at a time in the ML worker process.
// It persists each job's state and progress, streams progress events, cancels within one
// step, and notices a worker that dies: the job fails with the reason and the tail of the
// worker's error output, the app keeps working, and the next job starts a new worker.
import type {
  FromWorker,
  JobKind,
  JobOutcome,
  JobResults,
  JobStart,
  PatchPrediction,
  WorkerError,
  WorkerProgress,
} from '../../shared/jobs';
import type { JobsRepository, JobRecord } from '../db/repositories/jobs';
import type { Project } from '../project/project';
import { nodeWorkerSpawner, type WorkerHandle, type WorkerSpawner } from './workerProcess';
import { asApiError, failureOf } from '../db/storageErrors';

/** What each kind of job does around the worker: persist its progress and its result. */
export interface JobKindHooks<K extends JobKind> {
  onProgress?(project: Project, job: JobRecord, progress: WorkerProgress): void;
  onResult(project: Project, job: JobRecord, result: JobResults[K]): void;
  onEnd?(project: Project, job: JobRecord, status: 'failed' | 'cancelled', error: string): void;
  /** The job leaves the queue and starts in the worker (a training run is then running). */
  onStart?(project: Project, job: JobRecord): void;
  /** Detect jobs: a finished tile's cells with the checkpoint past it. */
  onCells?(project: Project, job: JobRecord, tile: Extract<FromWorker, { type: 'cells' }>): void;
  /** Classify jobs: the next chunk of predictions (a failure to store it stops the job). */
  onPredictions?(project: Project, job: JobRecord, predictions: PatchPrediction[]): void;
}

export interface JobEvent {
  job: JobRecord;
  progress?: WorkerProgress;
}

interface Running {
  job: JobRecord;
  done: () => void;
}

/** What ComputeService and the workspace use of a job queue: this in-process one, or a lab's (lab/labJobs.ts). */
export interface JobQueue {
  submit(start: JobStart, runId: number | null): JobRecord;
  whenDone(jobId: number): Promise<JobRecord>;
  cancel(jobId: number): boolean;
  list(): JobRecord[];
  readonly workerPid: number | undefined;
  dispose(): void;
}

/** The hooks of every job kind (jobHooks.ts defines them once, for the workstation and a lab's workers). */
export type JobHooks = { [K in JobKind]: JobKindHooks<K> };

export class JobManager implements JobQueue {
  private readonly jobs: JobsRepository;
  private readonly queue: JobRecord[] = [];
  private worker: WorkerHandle | null = null;
  private workerReady: Promise<void> | null = null;
  private running: Running | null = null;
  private readonly finished = new Map<number, (job: JobRecord) => void>();
  private disposed = false;
  /** The running job that failed here (a write failed) while the worker is asked to stop it. */
  private stopping: { jobId: number; message: string } | null = null;

  constructor(
    private readonly project: Project,
    private readonly hooks: JobHooks,
    private readonly emit: (event: JobEvent) => void,
    private readonly spawn: WorkerSpawner = nodeWorkerSpawner,
    /** A lab worker runs jobs others queued: it must not fail the jobs of every other worker as interrupted. */
    options: { recoverInterrupted?: boolean } = {},
  ) {
    this.jobs = project.jobs;
    if (options.recoverInterrupted ?? true) this.jobs.markInterrupted();
  }

  /** Runs a job already stored (queued by a lab server); resolves when it ends. */
  runStored(job: JobRecord): Promise<JobRecord> {
    this.queue.push(job);
    const done = this.whenDone(job.id);
    void this.pump();
    return done;
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
    const mine = this.queue.some((j) => j.id === jobId) || this.running?.job.id === jobId;
    if (job && !mine && !['queued', 'running'].includes(job.status)) return Promise.resolve(job);
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
    // A job whose end is stored already (dispose() called from its final event) keeps that end.
    if (this.running && !this.endStored(this.running.job.id))
      this.end(this.running.job, 'cancelled', 'CytoTune closed the project; resume the run to continue.');
    this.running = null;
    this.worker?.kill();
    this.worker = null;
  }

  private endStored(jobId: number): boolean {
    try {
      const status = this.jobs.get(jobId)?.status;
      return status === 'completed' || status === 'failed' || status === 'cancelled';
    } catch {
      return false; // unreadable (a closing or full disk): end it as cancelled, in memory at least
    }
  }

  private ensureWorker(): Promise<void> {
    if (this.worker && this.workerReady) return this.workerReady;
    let ready!: () => void;
    this.workerReady = new Promise((resolve) => (ready = resolve));
    this.worker = this.spawn({
      onMessage: (m) => {
        if (this.disposed) return;
        if (m.type === 'ready') ready();
        else this.receive(m);
      },
      onExit: (reason, stderrTail) => {
        if (this.disposed) return;
        this.worker = null;
        this.workerReady = null;
        ready(); // unblock a start that was waiting; the running job fails below
        const current = this.running;
        if (current) {
          const tail = stderrTail ? `\n${stderrTail.split('\n').slice(-12).join('\n')}` : '';
          const stopping = this.stopping?.jobId === current.job.id ? this.stopping.message : null;
          this.stopping = null;
          this.end(current.job, 'failed', stopping ?? `The ML worker process ${reason}.${tail}`);
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
      this.jobs.setStatus(job.id, 'running');
      // The record as it now is: every progress event of the job carries its status, running.
      const started = this.jobs.get(job.id)!;
      // Cleared as the job ends, not a microtask later: a dispose() in between (on the final
      // event, or when whenDone resolves) must not see a finished job as still running.
      this.running = {
        job: started,
        done: () => {
          if (this.running?.job.id === started.id) this.running = null;
          done();
        },
      };
      try {
        this.hooks[job.kind].onStart?.(this.project, started);
      } catch (err) {
        console.error(`[cytotune] job ${job.id} start hook failed:`, (err as Error).message);
      }
      this.emit({ job: started });
      void this.ensureWorker().then(() => {
        if (!this.worker) return; // died while starting: onExit failed the job
        this.worker.send({ type: 'start', jobId: String(job.id), job: startOf(job) });
      });
    });
    void this.pump();
  }

  /**
   * Storing what the worker reports may fail (a full disk, a busy file): the job then fails with
   * a message to act on once the worker has stopped it, and main goes on serving. Never throws.
   */
  private receive(m: Exclude<FromWorker, { type: 'ready' }>): void {
    try {
      this.onWorkerMessage(m);
    } catch (err) {
      const current = this.running;
      if (!current || String(current.job.id) !== m.jobId) {
        console.error('[cytotune] could not store a message of the ML worker:', (err as Error).message);
        return;
      }
      if (this.stopping?.jobId === current.job.id) return;
      this.stopping = { jobId: current.job.id, message: storageMessage(current.job, err, 'stopped') };
      this.worker?.send({ type: 'cancel', jobId: String(current.job.id) });
    }
  }

  private onWorkerMessage(m: Exclude<FromWorker, { type: 'ready' }>): void {
    const current = this.running;
    if (!current || String(current.job.id) !== m.jobId) return;
    const { job } = current;
    if (this.stopping?.jobId === job.id) {
      // The job failed here already (a write failed): nothing more is stored; its end is the failure.
      if (m.type === 'result' || m.type === 'error') {
        const { message } = this.stopping;
        this.stopping = null;
        this.end(job, 'failed', message);
        current.done();
      }
      return;
    }
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
    } else if (m.type === 'predictions') {
      // Thrown on a failed write: receive() then stops the job with a message to act on.
      this.hooks[job.kind].onPredictions?.(this.project, job, m.predictions);
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
        this.end(job, 'failed', storageMessage(job, err, 'finished'));
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
      case 'speed':
        return this.hooks.speed.onResult(this.project, job, outcome.result);
    }
  }

  /** Ends a job; when even that cannot be stored (a full disk) it ends in memory and in the events, and the next start marks it interrupted. */
  private end(job: JobRecord, status: 'failed' | 'cancelled', error: string): void {
    let stored = true;
    try {
      this.jobs.setStatus(job.id, status, error);
    } catch (err) {
      stored = false;
      console.error(`[cytotune] could not store the end of job ${job.id}:`, (err as Error).message);
    }
    try {
      this.hooks[job.kind].onEnd?.(this.project, job, status, error);
    } catch (err) {
      console.error(`[cytotune] could not store the end of job ${job.id}'s run:`, (err as Error).message);
    } finally {
      this.finish(job, stored ? undefined : { status, error });
    }
  }

  private finish(job: JobRecord, unsaved?: { status: 'failed' | 'cancelled'; error: string }): void {
    const final = { ...(this.jobs.get(job.id) ?? job), ...unsaved } as JobRecord;
    this.emit({ job: final });
    this.finished.get(job.id)?.(final);
    this.finished.delete(job.id);
  }
}

/** Why a job failed when storing its progress or result failed: a full disk says so, in words. */
function storageMessage(job: JobRecord, err: unknown, when: 'stopped' | 'finished'): string {
  const what = job.kind === 'train' ? 'run' : 'job';
  const failure = failureOf(err);
  if (failure === 'disk-full') {
    return when === 'stopped'
      ? `The disk is full: the ${what} was stopped because its progress could not be saved. Free some space, then ${job.kind === 'train' ? 'resume it' : 'start it again'}.`
      : `The disk is full: the ${what} finished but its result could not be saved. Free some space, then ${job.kind === 'train' ? 'resume it' : 'start it again'}.`;
  }
  if (failure) return `${asStorageMessage(err)} The ${what} was ${when === 'stopped' ? 'stopped' : 'not saved'}.`;
  return `Could not store the ${when === 'stopped' ? 'progress' : 'result'}: ${(err as Error)?.message ?? String(err)}`;
}

function asStorageMessage(err: unknown): string {
  const api = asApiError(err);
  return api instanceof Error ? api.message : String(err);
}

/** The kind and spec of a stored job, as the worker receives them (the switch keeps them paired). */
function startOf(job: JobRecord): JobStart {
  switch (job.kind) {
    case 'train':
      return { kind: job.kind, spec: job.spec };
    case 'classify':
      return { kind: job.kind, spec: job.spec };
    case 'experiment':
      return { kind: job.kind, spec: job.spec };
    case 'detect':
      return { kind: job.kind, spec: job.spec };
    case 'speed':
      return { kind: job.kind, spec: job.spec };
  }
}

function describe(error: WorkerError): string {
  return error.kind === 'internal' ? `Unexpected error in the ML worker: ${error.message}` : error.message;
}
