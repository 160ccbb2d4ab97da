// Detection runs and their cells (migration 7+ in db/migrations.ts): each run of the detector on an image is a
// row with its version and parameters, so a re-run with other parameters is a new, comparable
// result; its cells arrive tile by tile, each tile stored with the run's checkpoint in one
// transaction, so a crash or a cancel resumes exactly after the last stored tile.
import type { Db } from '../database';
import type {
  CellRecord,
  DetectedCell,
  DetectionCheckpoint,
  DetectionRun,
  DetectionStatus,
  SlideReviewStatus,
} from '../../../shared/cells';
import type { Box } from '../../../shared/image';

interface RunRow {
  id: number;
  image_id: number;
  detector_version: string;
  params_json: string;
  level: number;
  status: DetectionStatus;
  checkpoint_json: string | null;
  cell_count: number;
  error: string | null;
  created_at: string;
  updated_at: string;
}

interface CellRow {
  id: number;
  detection_run_id: number;
  image_id: number;
  x: number;
  y: number;
  box_x: number;
  box_y: number;
  box_w: number;
  box_h: number;
  outline_json: string | null;
  area_um2: number;
  mean_od: number;
  circularity: number;
}

const toRun = (r: RunRow): DetectionRun => ({
  id: r.id,
  imageId: r.image_id,
  detectorVersion: r.detector_version,
  params: JSON.parse(r.params_json),
  level: r.level,
  status: r.status,
  cellCount: r.cell_count,
  checkpoint: r.checkpoint_json ? JSON.parse(r.checkpoint_json) : null,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toCell = (r: CellRow): CellRecord => ({
  id: r.id,
  imageId: r.image_id,
  detectionRunId: r.detection_run_id,
  x: r.x,
  y: r.y,
  box: { x: r.box_x, y: r.box_y, w: r.box_w, h: r.box_h },
  ...(r.outline_json ? { outline: JSON.parse(r.outline_json) } : {}),
  areaUm2: r.area_um2,
  meanOd: r.mean_od,
  circularity: r.circularity,
});

export class CellsRepository {
  constructor(private readonly db: Db) {}

  createRun(imageId: number, detectorVersion: string, params: Record<string, unknown>, level: number): DetectionRun {
    const now = new Date().toISOString();
    const info = this.db
      .prepare(
        `INSERT INTO detection_runs (image_id, detector_version, params_json, level, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`,
      )
      .run(imageId, detectorVersion, JSON.stringify(params), level, now, now);
    return this.run(Number(info.lastInsertRowid))!;
  }

  run(id: number): DetectionRun | undefined {
    const row = this.db.prepare(`SELECT * FROM detection_runs WHERE id = ?`).get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  runsForImage(imageId: number): DetectionRun[] {
    return (this.db.prepare(`SELECT * FROM detection_runs WHERE image_id = ? ORDER BY id DESC`).all(imageId) as RunRow[]).map(toRun);
  }

  /** The newest completed detection of an image: the cells the viewer, sorter and classifier use. */
  latestCompleted(imageId: number): DetectionRun | undefined {
    const row = this.db
      .prepare(`SELECT * FROM detection_runs WHERE image_id = ? AND status = 'completed' ORDER BY id DESC LIMIT 1`)
      .get(imageId) as RunRow | undefined;
    return row && toRun(row);
  }

  setStatus(id: number, status: DetectionStatus, error: string | null = null): void {
    this.db
      .prepare(`UPDATE detection_runs SET status = ?, error = ?, updated_at = ? WHERE id = ?`)
      .run(status, error, new Date().toISOString(), id);
  }

  /** One finished tile: its cells and the checkpoint past it, together (call inside a transaction). */
  addTile(runId: number, imageId: number, tile: number, cells: readonly DetectedCell[], checkpoint: DetectionCheckpoint): void {
    const insert = this.db.prepare(
      `INSERT INTO cells (detection_run_id, image_id, tile, x, y, box_x, box_y, box_w, box_h, outline_json, area_um2, mean_od, circularity)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const c of cells) {
      insert.run(
        runId,
        imageId,
        tile,
        c.x,
        c.y,
        c.box.x,
        c.box.y,
        c.box.w,
        c.box.h,
        c.outline ? JSON.stringify(c.outline) : null,
        c.areaUm2,
        c.meanOd,
        c.circularity,
      );
    }
    this.db
      .prepare(
        `UPDATE detection_runs SET checkpoint_json = ?, cell_count = cell_count + ?, status = 'running', updated_at = ? WHERE id = ?`,
      )
      .run(JSON.stringify(checkpoint), cells.length, new Date().toISOString(), runId);
  }

  /** Cells of a run, optionally only those whose centre lies in a level-0 region. */
  cells(runId: number, region?: Box, limit = 200_000): CellRecord[] {
    const rows = region
      ? this.db
          .prepare(`SELECT * FROM cells WHERE detection_run_id = ? AND x >= ? AND x < ? AND y >= ? AND y < ? ORDER BY id LIMIT ?`)
          .all(runId, region.x, region.x + region.w, region.y, region.y + region.h, limit)
      : this.db.prepare(`SELECT * FROM cells WHERE detection_run_id = ? ORDER BY id LIMIT ?`).all(runId, limit);
    return (rows as CellRow[]).map(toCell);
  }

  cell(id: number): CellRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM cells WHERE id = ?`).get(id) as CellRow | undefined;
    return row && toCell(row);
  }

  /** Runs left queued or running by a session that ended: they resume from their checkpoint. */
  interrupted(): DetectionRun[] {
    return (this.db.prepare(`SELECT * FROM detection_runs WHERE status IN ('queued', 'running') ORDER BY id`).all() as RunRow[]).map(toRun);
  }

  review(imageId: number): { status: SlideReviewStatus; note: string; reviewedBy: string | null; reviewedAt: string | null } | undefined {
    const row = this.db.prepare(`SELECT status, note, reviewed_by, reviewed_at FROM slide_reviews WHERE image_id = ?`).get(imageId) as
      { status: SlideReviewStatus; note: string; reviewed_by: string | null; reviewed_at: string | null } | undefined;
    return row && { status: row.status, note: row.note, reviewedBy: row.reviewed_by, reviewedAt: row.reviewed_at };
  }

  setReview(imageId: number, status: SlideReviewStatus, note: string, reviewer: string): void {
    this.db
      .prepare(
        `INSERT INTO slide_reviews (image_id, status, note, reviewed_by, reviewed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(image_id) DO UPDATE SET status = excluded.status, note = excluded.note, reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at`,
      )
      .run(imageId, status, note, reviewer, new Date().toISOString());
  }
}
