import type { Db } from '../database';
import type { Annotation, AnnotationSource } from '../../../shared/domain';
import type { Box } from '../../../shared/image';
import { OUT_OF_BOUNDS_LABELS } from '../migrations';

interface AnnotationRow {
  id: number;
  image_id: number;
  class_id: number;
  x: number;
  y: number;
  w: number;
  h: number;
  source: AnnotationSource;
  author: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

const toAnnotation = (r: AnnotationRow): Annotation => ({
  id: r.id,
  imageId: r.image_id,
  classId: r.class_id,
  box: { x: r.x, y: r.y, w: r.w, h: r.h },
  source: r.source,
  author: r.author,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
});

/** Annotations are soft-deleted (deleted_at) so that undo and the audit log can bring them back. */
export class AnnotationsRepository {
  constructor(private readonly db: Db) {}

  get(id: number): Annotation | undefined {
    const row = this.db.prepare(`SELECT * FROM annotations WHERE id = ?`).get(id) as AnnotationRow | undefined;
    return row && toAnnotation(row);
  }

  listForImage(imageId: number): Annotation[] {
    const rows = this.db
      .prepare(`SELECT * FROM annotations WHERE image_id = ? AND deleted_at IS NULL ORDER BY id`)
      .all(imageId) as AnnotationRow[];
    return rows.map(toAnnotation);
  }

  insert(a: { imageId: number; classId: number; box: Box; source: AnnotationSource; author: string }): Annotation {
    const now = new Date().toISOString();
    const info = this.db
      .prepare(
        `INSERT INTO annotations (image_id, class_id, x, y, w, h, source, author, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(a.imageId, a.classId, a.box.x, a.box.y, a.box.w, a.box.h, a.source, a.author, now, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  update(id: number, patch: { classId: number; box: Box }): Annotation {
    this.db
      .prepare(`UPDATE annotations SET class_id = ?, x = ?, y = ?, w = ?, h = ?, updated_at = ? WHERE id = ?`)
      .run(patch.classId, patch.box.x, patch.box.y, patch.box.w, patch.box.h, new Date().toISOString(), id);
    return this.get(id)!;
  }

  softDelete(id: number): void {
    const now = new Date().toISOString();
    this.db.prepare(`UPDATE annotations SET deleted_at = ?, updated_at = ? WHERE id = ?`).run(now, now, id);
  }

  restore(id: number): void {
    this.db.prepare(`UPDATE annotations SET deleted_at = NULL, updated_at = ? WHERE id = ?`).run(new Date().toISOString(), id);
  }

  /** Removes the deleted (soft-deleted) labels of a class, so the class itself can go; returns how many. */
  purgeDeletedOfClass(classId: number): number {
    return this.db.prepare(`DELETE FROM annotations WHERE class_id = ? AND deleted_at IS NOT NULL`).run(classId).changes;
  }

  /** Newest live annotations of a class, across images (the shots gallery). */
  listForClass(classId: number, limit: number): Annotation[] {
    const rows = this.db
      .prepare(`SELECT * FROM annotations WHERE class_id = ? AND deleted_at IS NULL ORDER BY id DESC LIMIT ?`)
      .all(classId, limit) as AnnotationRow[];
    return rows.map(toAnnotation);
  }

  /** Live labels whose box breaks the bounds rule (rows from before migration 6). */
  outOfBounds(): { id: number; imageId: number; classId: number; box: Box }[] {
    const rows = this.db.prepare(OUT_OF_BOUNDS_LABELS).all() as {
      id: number;
      image_id: number;
      class_id: number;
      x: number;
      y: number;
      w: number;
      h: number;
    }[];
    return rows.map((r) => ({ id: r.id, imageId: r.image_id, classId: r.class_id, box: { x: r.x, y: r.y, w: r.w, h: r.h } }));
  }

  liveCount(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM annotations WHERE deleted_at IS NULL`).get() as { n: number }).n;
  }
}
