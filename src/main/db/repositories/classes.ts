import type { Db } from '../database';
import type { ClassRecord } from '../../../shared/domain';

interface ClassRow {
  id: number;
  parent_id: number | null;
  name: string;
  color: string;
  shortcut: string | null;
  position: number;
}

const toRecord = (r: ClassRow): ClassRecord => ({
  id: r.id,
  parentId: r.parent_id,
  name: r.name,
  color: r.color,
  shortcut: r.shortcut,
  position: r.position,
});

export class ClassesRepository {
  constructor(private readonly db: Db) {}

  all(): ClassRecord[] {
    return (this.db.prepare(`SELECT * FROM classes ORDER BY position, id`).all() as ClassRow[]).map(toRecord);
  }

  get(id: number): ClassRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM classes WHERE id = ?`).get(id) as ClassRow | undefined;
    return row && toRecord(row);
  }

  findByName(name: string, parentId: number | null): ClassRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM classes WHERE name = ? AND COALESCE(parent_id, 0) = COALESCE(?, 0)`).get(name, parentId) as
      ClassRow | undefined;
    return row && toRecord(row);
  }

  findByShortcut(shortcut: string): ClassRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM classes WHERE shortcut = ?`).get(shortcut) as ClassRow | undefined;
    return row && toRecord(row);
  }

  nextPosition(parentId: number | null): number {
    const row = this.db
      .prepare(`SELECT COALESCE(MAX(position), -1) + 1 AS p FROM classes WHERE COALESCE(parent_id, 0) = COALESCE(?, 0)`)
      .get(parentId) as { p: number };
    return row.p;
  }

  insert(c: Omit<ClassRecord, 'id'>): ClassRecord {
    const info = this.db
      .prepare(`INSERT INTO classes (parent_id, name, color, shortcut, position) VALUES (?, ?, ?, ?, ?)`)
      .run(c.parentId, c.name, c.color, c.shortcut, c.position);
    return { ...c, id: Number(info.lastInsertRowid) };
  }

  update(c: ClassRecord): void {
    this.db
      .prepare(`UPDATE classes SET parent_id = ?, name = ?, color = ?, shortcut = ?, position = ? WHERE id = ?`)
      .run(c.parentId, c.name, c.color, c.shortcut, c.position, c.id);
  }

  delete(id: number): void {
    this.db.prepare(`DELETE FROM classes WHERE id = ?`).run(id);
  }

  /** Live annotation count per class id. */
  labelCounts(): Map<number, number> {
    const rows = this.db.prepare(`SELECT class_id, COUNT(*) AS n FROM annotations WHERE deleted_at IS NULL GROUP BY class_id`).all() as {
      class_id: number;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.class_id, r.n]));
  }

  /** What refers to a class: live labels, deleted (undoable) labels and predictions. */
  usage(id: number): { liveLabels: number; deletedLabels: number; predictions: number } {
    const labels = this.db
      .prepare(
        `SELECT COALESCE(SUM(deleted_at IS NULL), 0) AS live, COALESCE(SUM(deleted_at IS NOT NULL), 0) AS deleted FROM annotations WHERE class_id = ?`,
      )
      .get(id) as { live: number; deleted: number };
    const predictions = (this.db.prepare(`SELECT COUNT(*) AS n FROM predictions WHERE class_id = ?`).get(id) as { n: number }).n;
    return { liveLabels: labels.live, deletedLabels: labels.deleted, predictions };
  }

  isUsed(id: number): boolean {
    return (
      !!this.db.prepare(`SELECT 1 FROM annotations WHERE class_id = ? LIMIT 1`).get(id) ||
      !!this.db.prepare(`SELECT 1 FROM predictions WHERE class_id = ? LIMIT 1`).get(id)
    );
  }
}
