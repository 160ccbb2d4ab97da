import type { Db } from '../database';
import type { PredictionReview } from '../../../shared/domain';

// Review-queue decisions, one per prediction (migration 8): what was decided, by whom, and the
// label an acceptance or a correction made.

interface ReviewRow {
  prediction_id: number;
  decision: PredictionReview['decision'];
  annotation_id: number | null;
  actor: string;
  at: string;
  /** The decision's label: its id when it still exists, and when it was deleted (or undone). */
  label_id: number | null;
  label_deleted_at: string | null;
}

const toReview = (r: ReviewRow): PredictionReview => ({
  decision: r.decision,
  annotationId: r.annotation_id,
  actor: r.actor,
  at: r.at,
});

/** A decision still stands: a skip, or a label that is still there. */
const stands = (r: ReviewRow) => r.decision === 'skipped' || (r.label_id !== null && r.label_deleted_at === null);

const SELECT = `SELECT r.*, a.id AS label_id, a.deleted_at AS label_deleted_at FROM prediction_reviews r
  LEFT JOIN annotations a ON a.id = r.annotation_id`;

export class ReviewsRepository {
  constructor(private readonly db: Db) {}

  /** The decision on one prediction as recorded, whether or not its label still exists. */
  get(predictionId: number): PredictionReview | undefined {
    const row = this.db.prepare(`${SELECT} WHERE r.prediction_id = ?`).get(predictionId) as ReviewRow | undefined;
    return row && toReview(row);
  }

  set(predictionId: number, review: PredictionReview): void {
    this.db
      .prepare(`INSERT OR REPLACE INTO prediction_reviews (prediction_id, decision, annotation_id, actor, at) VALUES (?, ?, ?, ?, ?)`)
      .run(predictionId, review.decision, review.annotationId, review.actor, review.at);
  }

  /** The decisions that still stand on a run's predictions (of one image): a deleted label reopens its prediction. */
  standing(runId: number, imageId?: number): Map<number, PredictionReview> {
    const rows = (
      imageId === undefined
        ? this.db.prepare(`${SELECT} JOIN predictions p ON p.id = r.prediction_id WHERE p.run_id = ?`).all(runId)
        : this.db
            .prepare(`${SELECT} JOIN predictions p ON p.id = r.prediction_id WHERE p.run_id = ? AND p.image_id = ?`)
            .all(runId, imageId)
    ) as ReviewRow[];
    return new Map(rows.filter(stands).map((r) => [r.prediction_id, toReview(r)]));
  }
}
