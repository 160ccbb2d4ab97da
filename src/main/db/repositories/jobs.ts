import type { Db } from '../database';
import type { JobKind, WorkerProgress } from '../../../shared/jobs';
import type { RunStatus } from '../../../shared/domain';

export interface JobRecord {
  id: number;
  kind: JobKind;
  runId: number | null;
  status: RunStatus;
  spec: Record<string, unknown>;
  progress: WorkerProgress | null;
  error: string | null;
  /** Kept for jobs whose result is small (experiments); predictions go to their own table. */
  result: unknown;
  createdAt: string;
  updatedAt: string;
}

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

const toJob = (r: JobRow): JobRecord => ({
  id: r.id,
  kind: r.kind,
  runId: r.run_id,
  status: r.status,
  spec: JSON.parse(r.spec_json),
  progress: r.progress_json ? JSON.parse(r.progress_json) : null,
  error: r.error,
  result: r.result_json ? JSON.parse(r.result_json) : null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class JobsRepository {
  constructor(private readonly db: Db) {}

  insert(kind: JobKind, runId: number | null, spec: Record<string, unknown>): JobRecord {
    const now = new Date().toISOString();
    const info = this.db
      .prepare(`INSERT INTO jobs (kind, run_id, status, spec_json, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?)`)
      .run(kind, runId, JSON.stringify(spec), now, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): JobRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
    return row && toJob(row);
  }

  list(limit = 100): JobRecord[] {
    return (this.db.prepare(`SELECT * FROM jobs ORDER BY id DESC LIMIT ?`).all(limit) as JobRow[]).map(toJob);
  }

  setStatus(id: number, status: RunStatus, error: string | null = null): void {
    this.db.prepare(`UPDATE jobs SET status = ?, error = ?, updated_at = ? WHERE id = ?`).run(status, error, new Date().toISOString(), id);
  }

  setResult(id: number, result: unknown): void {
    this.db.prepare(`UPDATE jobs SET result_json = ?, updated_at = ? WHERE id = ?`).run(JSON.stringify(result), new Date().toISOString(), id);
  }

  setProgress(id: number, progress: WorkerProgress): void {
    this.db.prepare(`UPDATE jobs SET progress_json = ?, updated_at = ? WHERE id = ?`).run(JSON.stringify(progress), new Date().toISOString(), id);
  }

  /** Jobs left queued or running by a previous session that ended without finishing them. */
  markInterrupted(): number {
    return this.db
      .prepare(`UPDATE jobs SET status = 'failed', error = 'CytoTune stopped while this job ran; resume it to continue.', updated_at = ? WHERE status IN ('queued', 'running')`)
      .run(new Date().toISOString()).changes;
  }
}
