import type { Db } from '../database';
import type { ModelRecord, Prediction, RunMetric, RunRecord, RunStatus } from '../../../shared/domain';

// Models, runs, their per-step metrics and predictions: the records of the ML side.

const parse = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));

export class ModelsRepository {
  constructor(private readonly db: Db) {}

  list(): ModelRecord[] {
    const rows = this.db.prepare(`SELECT * FROM models ORDER BY id`).all() as {
      id: number;
      path: string;
      sha256: string;
      family: string;
      config_json: string;
      added_at: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      path: r.path,
      sha256: r.sha256,
      family: r.family,
      config: JSON.parse(r.config_json),
      addedAt: r.added_at,
    }));
  }

  insert(m: Omit<ModelRecord, 'id' | 'addedAt'>): ModelRecord {
    const addedAt = new Date().toISOString();
    const info = this.db
      .prepare(`INSERT INTO models (path, sha256, family, config_json, added_at) VALUES (?, ?, ?, ?, ?)`)
      .run(m.path, m.sha256, m.family, JSON.stringify(m.config), addedAt);
    return { ...m, id: Number(info.lastInsertRowid), addedAt };
  }
}

interface RunRow {
  id: number;
  model_id: number | null;
  config_json: string;
  seed: number;
  status: RunStatus;
  metrics_json: string | null;
  adapter_path: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

const toRun = (r: RunRow): RunRecord => ({
  id: r.id,
  modelId: r.model_id,
  config: JSON.parse(r.config_json),
  seed: r.seed,
  status: r.status,
  metrics: parse(r.metrics_json),
  adapterPath: r.adapter_path,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class RunsRepository {
  constructor(private readonly db: Db) {}

  list(): RunRecord[] {
    return (this.db.prepare(`SELECT * FROM runs ORDER BY id DESC`).all() as RunRow[]).map(toRun);
  }

  get(id: number): RunRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  insert(r: { modelId: number | null; config: Record<string, unknown>; seed: number }): RunRecord {
    const now = new Date().toISOString();
    const info = this.db
      .prepare(`INSERT INTO runs (model_id, config_json, seed, status, created_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?)`)
      .run(r.modelId, JSON.stringify(r.config), r.seed, now, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  /**
   * Sets a run's status. An error belongs to a failed or cancelled run: a run queued again,
   * running or completed loses the error of its previous attempt.
   */
  setStatus(id: number, status: RunStatus, fields: { metrics?: unknown; adapterPath?: string; error?: string } = {}): void {
    const ended = status === 'failed' || status === 'cancelled';
    this.db
      .prepare(
        `UPDATE runs SET status = ?, metrics_json = COALESCE(?, metrics_json), adapter_path = COALESCE(?, adapter_path),
         error = CASE WHEN ? THEN COALESCE(?, error) ELSE ? END, updated_at = ? WHERE id = ?`,
      )
      .run(
        status,
        fields.metrics === undefined ? null : JSON.stringify(fields.metrics),
        fields.adapterPath ?? null,
        ended ? 1 : 0,
        fields.error ?? null,
        fields.error ?? null,
        new Date().toISOString(),
        id,
      );
  }

  /** Predictions per run on one image, newest run first. */
  predictionCountsForImage(imageId: number): { runId: number; predictions: number }[] {
    return this.db
      .prepare(`SELECT run_id AS runId, COUNT(*) AS predictions FROM predictions WHERE image_id = ? GROUP BY run_id ORDER BY run_id DESC`)
      .all(imageId) as { runId: number; predictions: number }[];
  }

  /** Drops the metric rows from `step` on: a resume from an earlier checkpoint redoes those steps. */
  deleteMetricsFrom(runId: number, step: number): void {
    this.db.prepare(`DELETE FROM run_metrics WHERE run_id = ? AND step >= ?`).run(runId, step);
  }

  addMetric(m: RunMetric): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO run_metrics (run_id, step, loss, lr, accuracy, images_per_second) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(m.runId, m.step, m.loss, m.lr, m.accuracy, m.imagesPerSecond);
  }

  metrics(runId: number): RunMetric[] {
    const rows = this.db.prepare(`SELECT * FROM run_metrics WHERE run_id = ? ORDER BY step`).all(runId) as {
      run_id: number;
      step: number;
      loss: number | null;
      lr: number | null;
      accuracy: number | null;
      images_per_second: number | null;
    }[];
    return rows.map((r) => ({
      runId: r.run_id,
      step: r.step,
      loss: r.loss,
      lr: r.lr,
      accuracy: r.accuracy,
      imagesPerSecond: r.images_per_second,
    }));
  }

  insertPrediction(p: Omit<Prediction, 'id'>): void {
    this.insertPredictions([p]);
  }

  /** Many predictions with one statement (callers wrap a chunk in one transaction). */
  insertPredictions(ps: readonly Omit<Prediction, 'id'>[]): void {
    const insert = this.db.prepare(
      `INSERT INTO predictions (run_id, image_id, x, y, w, h, class_id, probabilities_json, entropy, cell_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const p of ps)
      insert.run(p.runId, p.imageId, p.box.x, p.box.y, p.box.w, p.box.h, p.classId, JSON.stringify(p.probabilities), p.entropy, p.cellId);
  }

  deletePredictions(runId: number, imageId: number): void {
    this.db.prepare(`DELETE FROM predictions WHERE run_id = ? AND image_id = ?`).run(runId, imageId);
  }

  getPrediction(id: number): Prediction | undefined {
    return this.predictionsWhere(`id = ?`, [id])[0];
  }

  /** The least certain predictions first (the review queue). */
  mostUncertain(runId: number, limit: number, imageId?: number): Prediction[] {
    return imageId === undefined
      ? this.predictionsWhere(`run_id = ? ORDER BY entropy DESC, id LIMIT ?`, [runId, limit])
      : this.predictionsWhere(`run_id = ? AND image_id = ? ORDER BY entropy DESC, id LIMIT ?`, [runId, imageId, limit]);
  }

  predictions(runId: number, imageId?: number): Prediction[] {
    return imageId === undefined
      ? this.predictionsWhere(`run_id = ? ORDER BY id`, [runId])
      : this.predictionsWhere(`run_id = ? AND image_id = ? ORDER BY id`, [runId, imageId]);
  }

  private predictionsWhere(where: string, params: unknown[]): Prediction[] {
    const rows = this.db.prepare(`SELECT * FROM predictions WHERE ${where}`).all(...params) as {
      id: number;
      run_id: number;
      image_id: number;
      x: number;
      y: number;
      w: number;
      h: number;
      class_id: number;
      probabilities_json: string;
      entropy: number;
      cell_id: number | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      imageId: r.image_id,
      box: { x: r.x, y: r.y, w: r.w, h: r.h },
      classId: r.class_id,
      probabilities: JSON.parse(r.probabilities_json),
      entropy: r.entropy,
      cellId: r.cell_id,
    }));
  }
}
