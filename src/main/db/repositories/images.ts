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

  list(offset = 0, limit = 500): ImageSummary[] {
    const rows = this.db.prepare(`SELECT * FROM images ORDER BY id LIMIT ? OFFSET ?`).all(limit, offset) as ImageRow[];
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
