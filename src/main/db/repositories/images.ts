import type { Db } from '../database';
import type { ImageKind, ImageRecord, ImageSummary } from '../../../shared/domain';

interface ImageRow {
  id: number;
  kind: ImageKind;
  path: string;
  sha256: string;
  width: number;
  height: number;
  mpp: number | null;
  added_at: string;
}

const toRecord = (r: ImageRow): ImageRecord => ({
  id: r.id,
  kind: r.kind,
  path: r.path,
  sha256: r.sha256,
  width: r.width,
  height: r.height,
  mpp: r.mpp,
  addedAt: r.added_at,
});

/** The image grid's filter, with a class already widened to the ids of its subtree. */
export interface ImageQuery {
  classIds?: number[];
  kind?: ImageKind;
  labelled?: 'labelled' | 'unlabelled';
  /** Part of the file name (not of the folders above it), any case. */
  name?: string;
}

// The file name of a path in SQL: strip everything up to the last '/' (Windows '\\' folded first).
const FILE_NAME = `replace(replace(path, '\\', '/'), rtrim(replace(path, '\\', '/'), replace(replace(path, '\\', '/'), '/', '')), '')`;

function filterSql(f: ImageQuery): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const live = `SELECT 1 FROM annotations a WHERE a.image_id = images.id AND a.deleted_at IS NULL`;
  if (f.classIds) {
    clauses.push(`EXISTS (${live} AND a.class_id IN (${f.classIds.map(() => '?').join(', ') || 'NULL'}))`);
    params.push(...f.classIds);
  }
  if (f.kind) {
    clauses.push(`kind = ?`);
    params.push(f.kind);
  }
  if (f.labelled) clauses.push(`${f.labelled === 'unlabelled' ? 'NOT ' : ''}EXISTS (${live})`);
  if (f.name) {
    clauses.push(`instr(lower(${FILE_NAME}), lower(?)) > 0`);
    params.push(f.name);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export class ImagesRepository {
  constructor(private readonly db: Db) {}

  get(id: number): ImageRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM images WHERE id = ?`).get(id) as ImageRow | undefined;
    return row && toRecord(row);
  }

  findBySha256(sha256: string): ImageRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM images WHERE sha256 = ?`).get(sha256) as ImageRow | undefined;
    return row && toRecord(row);
  }

  insert(img: Omit<ImageRecord, 'id' | 'addedAt'>): ImageRecord {
    const addedAt = new Date().toISOString();
    const info = this.db
      .prepare(`INSERT INTO images (kind, path, sha256, width, height, mpp, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(img.kind, img.path, img.sha256, img.width, img.height, img.mpp, addedAt);
    return { ...img, id: Number(info.lastInsertRowid), addedAt };
  }

  list(offset = 0, limit = 500, filter: ImageQuery = {}): ImageSummary[] {
    const { where, params } = filterSql(filter);
    const rows = this.db.prepare(`SELECT * FROM images ${where} ORDER BY id LIMIT ? OFFSET ?`).all(...params, limit, offset) as ImageRow[];
    if (rows.length === 0) return [];
    const counts = this.db
      .prepare(
        `SELECT image_id, class_id, COUNT(*) AS n FROM annotations
         WHERE deleted_at IS NULL AND image_id BETWEEN ? AND ? GROUP BY image_id, class_id`,
      )
      .all(rows[0].id, rows[rows.length - 1].id) as { image_id: number; class_id: number; n: number }[];
    const byImage = new Map<number, Record<number, number>>();
    for (const c of counts) {
      const m = byImage.get(c.image_id) ?? {};
      m[c.class_id] = c.n;
      byImage.set(c.image_id, m);
    }
    return rows.map((r) => ({ ...toRecord(r), counts: byImage.get(r.id) ?? {} }));
  }

  /** Images that pass `filter`. */
  count(filter: ImageQuery = {}): number {
    const { where, params } = filterSql(filter);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM images ${where}`).get(...params) as { n: number }).n;
  }

  countsByKind(): Record<ImageKind, number> {
    const rows = this.db.prepare(`SELECT kind, COUNT(*) AS n FROM images GROUP BY kind`).all() as { kind: ImageKind; n: number }[];
    const out: Record<ImageKind, number> = { slide: 0, image: 0 };
    for (const r of rows) out[r.kind] = r.n;
    return out;
  }

  putThumbnail(imageId: number, jpeg: Uint8Array): void {
    this.db.prepare(`INSERT OR REPLACE INTO thumbnails (image_id, jpeg) VALUES (?, ?)`).run(imageId, jpeg);
  }

  thumbnail(imageId: number): Buffer | undefined {
    const row = this.db.prepare(`SELECT jpeg FROM thumbnails WHERE image_id = ?`).get(imageId) as { jpeg: Buffer } | undefined;
    return row?.jpeg;
  }
}
