// `cytotune worker --lab URL`: a machine (the GPU one) that takes a lab's train, classify,
// detect and experiment jobs from pg-boss and runs each in its own ML worker process, storing
// what it reports into the lab project with the same hooks as a workstation (jobs/jobHooks.ts)
// and announcing every change by NOTIFY. Workers beat every few seconds; one whose beat stops
// (kill -9, a power cut) has its job failed in pg-boss by another worker, so pg-boss hands it
// out again and the next worker resumes it from the run's last checkpoint.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import PgBoss from 'pg-boss';
import type { JobRecord } from '../db/repositories/jobs';
import type { Project } from '../project/project';
import { JobManager } from '../jobs/jobManager';
import { jobHooks } from '../jobs/jobHooks';
import type { WorkerSpawner } from '../jobs/workerProcess';
import { RUN_FILES } from '../../ml/training/runDir';
import { Lab } from './lab';
import { BOSS_SCHEMA, JOB_KINDS, listen, notify, queueOf, type QueuedJob } from './labJobs';

export interface LabWorkerOptions {
  url: string;
  /** How this worker appears in the lab (default host-pid). */
  name?: string;
  /** Where this machine sees the lab's slide root (when it mounts the share elsewhere). */
  slides?: string;
  spawn?: WorkerSpawner;
  log?: (line: string) => void;
  heartbeatSeconds?: number;
  /** A worker silent this long is dead: its job is retried elsewhere. */
  deadAfterSeconds?: number;
}

export interface RunningLabWorker {
  name: string;
  stop(): Promise<void>;
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);

export async function startLabWorker(options: LabWorkerOptions): Promise<RunningLabWorker> {
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const log = options.log ?? (() => {});
  const lab = Lab.connect(options.url);
  const projects = new Map<string, { project: Project; jobs: JobManager }>();
  let running: { project: string; jobId: number; jobs: JobManager } | null = null;
  let busy: Promise<void> = Promise.resolve();

  const open = (projectName: string) => {
    let entry = projects.get(projectName);
    if (!entry) {
      const project = lab.openProject(projectName, { actor: `worker ${name}` });
      const jobs = new JobManager(
        project,
        jobHooks(),
        ({ job, progress }) => notify(project, { project: projectName, jobId: job.id, progress }),
        options.spawn,
        { recoverInterrupted: false },
      );
      entry = { project, jobs };
      projects.set(projectName, entry);
    }
    return entry;
  };

  /** The job as this machine runs it: resumed from its checkpoint when one is there, slides at this machine's path. */
  const localJob = (job: JobRecord): JobRecord => {
    let spec: unknown = job.spec;
    if (job.kind === 'train' && existsSync(join(job.spec.runDir, RUN_FILES.checkpoint))) spec = { ...job.spec, resume: true };
    const root = lab.settings.slideRoot;
    if (root && options.slides && root !== options.slides) spec = JSON.parse(JSON.stringify(spec).split(root).join(options.slides));
    return { ...job, spec } as JobRecord;
  };

  const handle = async (bossJob: PgBoss.Job<QueuedJob>) => {
    const { project: projectName, jobId } = bossJob.data;
    const { project, jobs } = open(projectName);
    const job = project.jobs.get(jobId);
    if (!job || FINAL.has(job.status)) return; // cancelled while queued, or finished by a worker thought dead
    lab.trackJob(name, bossJob.id, bossJob.name, projectName, jobId);
    log(`worker ${name}: ${job.kind} job ${jobId} of ${projectName}${job.status === 'running' ? ' (retried: its worker stopped)' : ''}`);
    running = { project: projectName, jobId, jobs };
    try {
      const final = await jobs.runStored(localJob(job));
      log(`worker ${name}: job ${jobId} ${final.status}${final.error ? `: ${final.error}` : ''}`);
    } finally {
      running = null;
      lab.untrackJob(bossJob.id);
    }
  };

  const boss = new PgBoss({ connectionString: options.url, schema: BOSS_SCHEMA, schedule: false });
  boss.on('error', (err) => log(`worker ${name}: queue error: ${err.message}`));
  await boss.start();
  lab.heartbeat(name);
  const beat = setInterval(
    () => {
      try {
        lab.heartbeat(name);
        for (const dead of lab.claimJobsOfDeadWorkers(options.deadAfterSeconds ?? 10)) {
          log(`worker ${name}: worker ${dead.worker} stopped; job ${dead.jobId} of ${dead.project} goes back to the queue`);
          void boss
            .fail(dead.queue, dead.bossId, { reason: `worker ${dead.worker} stopped answering` })
            .catch((err: Error) => log(err.message));
        }
      } catch (err) {
        log(`worker ${name}: heartbeat failed: ${(err as Error).message}`);
      }
    },
    (options.heartbeatSeconds ?? 2) * 1000,
  );
  const cancels = listen(options.url, (notice) => {
    if ('cancel' in notice && running && running.project === notice.project && running.jobId === notice.cancel)
      running.jobs.cancel(notice.cancel);
  });
  // One job at a time on this machine (one GPU): each queue's handler waits for the one before.
  for (const kind of JOB_KINDS) {
    await boss.work<QueuedJob>(queueOf(kind), { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
      const turn = busy.then(() => handle(job));
      busy = turn.catch(() => {});
      await turn;
    });
  }
  log(`worker ${name} ready`);
  return {
    name,
    stop: async () => {
      clearInterval(beat);
      await boss.stop({ graceful: false, wait: true });
      await cancels.close();
      for (const { project, jobs } of projects.values()) {
        jobs.dispose();
        project.close();
      }
      lab.close();
    },
  };
}
