// A lab project's job queue: pg-boss on the lab's PostgreSQL. The lab server queues a job (its
// jobs row, its run row and pg-boss's job row in one transaction), the GPU workers
// (labWorker.ts) take it, and what they store is announced with NOTIFY on one channel that the
// lab server LISTENs to and forwards to every workstation watching (job:progress).
import PgBoss from 'pg-boss';
import pg from 'pg';
import type { JobKind, JobStart } from '../../shared/jobs';
import type { JobRecord } from '../db/repositories/jobs';
import type { Project } from '../project/project';
import type { JobEvent, JobQueue } from '../jobs/jobManager';
import { isPgDb, type PgDb } from '../db/pg/pgDb';

export const JOB_CHANNEL = 'cytotune_jobs';
export const BOSS_SCHEMA = 'pgboss';
export const JOB_KINDS: readonly JobKind[] = ['train', 'classify', 'detect', 'experiment'];
export const queueOf = (kind: JobKind) => `cytotune-${kind}`;

/** What a pg-boss job carries: which project's jobs row to run. */
export interface QueuedJob {
  project: string;
  jobId: number;
}

/** What NOTIFY carries on JOB_CHANNEL: a job's change (from a worker) or a cancel (to the workers). */
export type JobNotice = { project: string; jobId: number; progress?: JobEvent['progress'] } | { project: string; cancel: number };

const FINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Installs pg-boss's tables and CytoTune's queues (lab init). A worker that dies is noticed by
 * the others (labWorker.ts), which fail its job so pg-boss retries it; pg-boss's own expiry is
 * only a backstop, so it is long enough for any training (23 h, under pg-boss's 24 h limit).
 */
export async function installQueues(url: string): Promise<void> {
  const boss = new PgBoss({ connectionString: url, schema: BOSS_SCHEMA, supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  try {
    for (const kind of JOB_KINDS) {
      if (await boss.getQueue(queueOf(kind))) continue;
      await boss.createQueue(queueOf(kind), { name: queueOf(kind), retryLimit: 5, retryDelay: 0, expireInHours: 23 });
    }
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
}

/** The PostgreSQL connection of a lab project (its Db is a PgDb). */
export function pgDbOf(project: Project): PgDb {
  const db: unknown = project.db;
  if (!isPgDb(db)) throw new Error(`${project.path} is not a lab project`);
  return db;
}

/** A notice on JOB_CHANNEL, sent on the project's connection (so after the change it follows commits). */
export function notify(project: Project, notice: JobNotice): void {
  pgDbOf(project).raw(`SELECT pg_notify($1, $2)`, [JOB_CHANNEL, JSON.stringify(notice)]);
}

/** LISTENs on JOB_CHANNEL, reconnecting after the lab database restarts. */
export function listen(url: string, onNotice: (notice: JobNotice) => void): { close(): Promise<void> } {
  let client: pg.Client | null = null;
  let closed = false;
  const connect = async () => {
    while (!closed) {
      const c = new pg.Client({ connectionString: url, application_name: 'cytotune listen' });
      try {
        c.on('notification', (n) => n.payload && onNotice(JSON.parse(n.payload) as JobNotice));
        c.on('error', () => {});
        c.on('end', () => {
          if (!closed) setTimeout(() => void connect(), 1000);
        });
        await c.connect();
        await c.query(`LISTEN ${JOB_CHANNEL}`);
        client = c;
        return;
      } catch {
        await c.end().catch(() => {});
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  void connect();
  return {
    close: async () => {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
}

/** The lab server's queue of one project: jobs go to the workers; their progress comes back by NOTIFY. */
export class LabJobQueue implements JobQueue {
  // Never started: it only issues its INSERT, through the project's connection.
  private readonly boss: PgBoss;
  private readonly listener: { close(): Promise<void> };
  private readonly waiters = new Map<number, ((job: JobRecord) => void)[]>();
  private readonly poll: NodeJS.Timeout;

  constructor(
    private readonly project: Project,
    private readonly name: string,
    url: string,
    private readonly emit: (event: JobEvent) => void,
  ) {
    this.boss = new PgBoss({ connectionString: url, schema: BOSS_SCHEMA });
    this.listener = listen(url, (notice) => {
      if (notice.project !== this.name || !('jobId' in notice)) return;
      const job = this.project.jobs.get(notice.jobId);
      if (!job) return;
      this.emit({ job, progress: notice.progress });
      if (FINAL.has(job.status)) this.settle(job);
    });
    // A notice lost while the listener reconnected: waiters still learn the end.
    this.poll = setInterval(() => {
      for (const id of this.waiters.keys()) {
        const job = this.project.jobs.get(id);
        if (job && FINAL.has(job.status)) this.settle(job);
      }
    }, 2000);
    this.poll.unref();
  }

  submit(start: JobStart, runId: number | null): JobRecord {
    const job = this.project.transaction(() => {
      const stored = this.project.jobs.insert(start, runId);
      const db = pgDbOf(this.project);
      // pg-boss issues its INSERT before its first await, so through this wrapper it runs on the
      // project's connection inside this transaction: the jobs row, the run row (startTraining's
      // transaction) and the queued job commit together or not at all.
      let issued = false;
      let failure: unknown = null;
      const wrapper = {
        executeSql: (text: string, values: unknown[]) => {
          issued = true;
          try {
            return Promise.resolve(db.raw(text, values));
          } catch (err) {
            failure = err;
            return Promise.reject(err);
          }
        },
      };
      const message: QueuedJob = { project: this.name, jobId: stored.id };
      this.boss.send(queueOf(start.kind), message, { db: wrapper }).catch(() => {});
      if (failure) throw failure;
      if (!issued) throw new Error('pg-boss did not queue the job synchronously (its send changed): the job was not stored');
      return stored;
    });
    this.emit({ job });
    return job;
  }

  whenDone(jobId: number): Promise<JobRecord> {
    const job = this.project.jobs.get(jobId);
    if (job && FINAL.has(job.status)) return Promise.resolve(job);
    return new Promise((resolve) => this.waiters.set(jobId, [...(this.waiters.get(jobId) ?? []), resolve]));
  }

  /** A queued job ends here (its worker will skip it); a running one is cancelled by its worker. */
  cancel(jobId: number): boolean {
    const job = this.project.jobs.get(jobId);
    if (!job || FINAL.has(job.status)) return false;
    if (job.status === 'queued') {
      this.project.transaction(() => {
        this.project.jobs.setStatus(jobId, 'cancelled', 'Cancelled before it started.');
        if (job.kind === 'train' && job.runId)
          this.project.runs.setStatus(job.runId, 'cancelled', { error: 'Cancelled before it started.' });
        notify(this.project, { project: this.name, jobId });
      });
    } else notify(this.project, { project: this.name, cancel: jobId });
    return true;
  }

  list(): JobRecord[] {
    return this.project.jobs.list();
  }

  get workerPid(): number | undefined {
    return undefined; // the workers are other processes, on other machines
  }

  dispose(): void {
    clearInterval(this.poll);
    void this.listener.close();
  }

  private settle(job: JobRecord): void {
    this.waiters.get(job.id)?.forEach((w) => w(job));
    this.waiters.delete(job.id);
  }
}
