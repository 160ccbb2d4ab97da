import type { Db } from '../database';
import type { JobKind, JobResults, JobSpecs, JobStart, WorkerProgress } from '../../../shared/jobs';
import type { RunStatus } from '../../../shared/domain';

interface JobFields {
  id: number;
  runId: number | null;
  status: RunStatus;
  progress: WorkerProgress | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A job as stored: its kind, the spec of that kind and, for kinds whose result is small
 * (experiments), the result of that kind; predictions go to their own table.
 */
export type JobRecord = { [K in JobKind]: JobFields & { kind: K; spec: JobSpecs[K]; result: JobResults[K] | null } }[JobKind];

interface JobRow {
  id: number;
  kind: JobKind;
  run_id: number | null;
  status: RunStatus;
  spec_json: string;
  progress_json: string | null;
  error: string | null;
  result_json: string | null;
  created_at: string;
  updated_at: string;
}

// JSON from the database: the row was written by insert() from a JobStart of its kind, and by
// setResult with a result of that kind, so the parsed values keep the kind's pairing.
const toJob = (r: JobRow): JobRecord =>
  ({
    id: r.id,
    kind: r.kind,
    spec: JSON.parse(r.spec_json),
    result: r.result_json ? JSON.parse(r.result_json) : null,
    runId: r.run_id,
    status: r.status,
    progress: r.progress_json ? JSON.parse(r.progress_json) : null,
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }) as JobRecord;

export class JobsRepository {
  constructor(private readonly db: Db) {}

  insert(job: JobStart, runId: number | null): JobRecord {
    const now = new Date().toISOString();
    const info = this.db
      .prepare(`INSERT INTO jobs (kind, run_id, status, spec_json, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?)`)
      .run(job.kind, runId, JSON.stringify(job.spec), now, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): JobRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
    return row && toJob(row);
  }

  list(limit = 100): JobRecord[] {
    return (this.db.prepare(`SELECT * FROM jobs ORDER BY id DESC LIMIT ?`).all(limit) as JobRow[]).map(toJob);
  }

  /** Each job's number among the jobs of its kind, from 1 in the order they were made (id -> number). */
  numbers(): Map<number, number> {
    const rows = this.db.prepare(`SELECT id, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY id) AS n FROM jobs`).all() as {
      id: number;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  setStatus(id: number, status: RunStatus, error: string | null = null): void {
    this.db.prepare(`UPDATE jobs SET status = ?, error = ?, updated_at = ? WHERE id = ?`).run(status, error, new Date().toISOString(), id);
  }

  setResult<K extends JobKind>(id: number, result: JobResults[K]): void {
    this.db
      .prepare(`UPDATE jobs SET result_json = ?, updated_at = ? WHERE id = ?`)
      .run(JSON.stringify(result), new Date().toISOString(), id);
  }

  setProgress(id: number, progress: WorkerProgress): void {
    this.db
      .prepare(`UPDATE jobs SET progress_json = ?, updated_at = ? WHERE id = ?`)
      .run(JSON.stringify(progress), new Date().toISOString(), id);
  }

  /** Jobs left queued or running by a previous session that ended without finishing them. */
  markInterrupted(): number {
    return this.db
      .prepare(
        `UPDATE jobs SET status = 'failed', error = 'CytoTune stopped while this job ran; resume it to continue.', updated_at = ? WHERE status IN ('queued', 'running')`,
      )
      .run(new Date().toISOString()).changes;
  }
}
