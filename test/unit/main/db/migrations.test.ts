import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CYTOTUNE_APPLICATION_ID, openDatabase, schemaVersion } from '../../../../src/main/db/database';
import { latestVersion, migrations, OUT_OF_BOUNDS_LABELS } from '../../../../src/main/db/migrations';
import { tempDir } from '../../../support/paths';

// Rows a database holds at each version, written with that version's SQL, so each upgrade
// is checked against real data of the version before it.
const seedAt: Record<number, (db: Database.Database) => void> = {
  1: (db) => {
    db.exec(
      `INSERT INTO classes (id, parent_id, name, color, shortcut, position) VALUES (1, NULL, 'NILM', '#1f77b4', '1', 0), (2, 1, 'superficial', '#ff7f0e', NULL, 0)`,
    );
    db.exec(
      `INSERT INTO images (id, kind, path, sha256, width, height, mpp, added_at) VALUES (1, 'image', '/x/a.png', 'aa', 40, 40, NULL, '2026-01-01')`,
    );
    db.exec(
      `INSERT INTO annotations (image_id, class_id, x, y, w, h, source, author, created_at, updated_at) VALUES (1, 2, 0, 0, 40, 40, 'import', 'ana', '2026-01-01', '2026-01-01')`,
    );
    db.exec(`INSERT INTO audit_log (at, actor, action, entity, entity_id) VALUES ('2026-01-01', 'ana', 'image.import', 'image', 1)`);
  },
  2: (db) => {
    db.exec(
      `INSERT INTO models (id, path, sha256, family, config_json, added_at) VALUES (1, '/m.safetensors', 'mm', 'openai-clip', '{}', '2026-01-02')`,
    );
    db.exec(
      `INSERT INTO runs (id, model_id, config_json, seed, status, created_at, updated_at) VALUES (1, 1, '{"method":"lora"}', 1, 'completed', '2026-01-02', '2026-01-02')`,
    );
    db.exec(`INSERT INTO run_metrics (run_id, step, loss) VALUES (1, 10, 0.5)`);
    db.exec(
      `INSERT INTO predictions (run_id, image_id, x, y, w, h, class_id, probabilities_json, entropy) VALUES (1, 1, 0, 0, 40, 40, 2, '[0.1,0.9]', 0.32)`,
    );
  },
  3: (db) => {
    db.exec(`UPDATE settings SET value_json = '256' WHERE key = 'patchSize'`);
    db.prepare(`INSERT INTO thumbnails (image_id, jpeg) VALUES (1, ?)`).run(Buffer.from([0xff, 0xd8, 0xff]));
  },
  4: (db) => {
    db.exec(
      `INSERT INTO jobs (kind, run_id, status, spec_json, created_at, updated_at) VALUES ('train', 1, 'completed', '{"x":1}', '2026-01-03', '2026-01-03')`,
    );
  },
  5: (db) => {
    db.exec(
      `INSERT INTO jobs (kind, run_id, status, spec_json, created_at, updated_at, result_json) VALUES ('experiment', NULL, 'completed', '{}', '2026-01-04', '2026-01-04', '{}')`,
    );
  },
  6: (db) => {
    db.exec(
      `INSERT INTO annotations (image_id, class_id, x, y, w, h, source, author, created_at, updated_at) VALUES (1, 1, -100, -100, 224, 224, 'manual', 'ana', '2026-01-05', '2026-01-05')`,
    );
  },
  7: (db) => {
    db.exec(`INSERT INTO slide_reviews (image_id, status, note) VALUES (1, 'reviewed', 'seen')`);
  },
  8: (db) => {
    db.exec(
      `INSERT INTO prediction_reviews (prediction_id, decision, annotation_id, actor, at) VALUES (1, 'accepted', 1, 'ana', '2026-01-06')`,
    );
  },
};

function createAtVersion(version: number): string {
  const path = join(tempDir(), 'old.cytotune');
  const db = openDatabase(path, { create: true, targetVersion: version });
  for (let v = 1; v <= version; v++) seedAt[v]?.(db);
  expect(schemaVersion(db)).toBe(version);
  db.close();
  return path;
}

describe('migrations', () => {
  it('are numbered 1..N without gaps and every version has seed data in this test', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    for (const m of migrations) expect(seedAt[m.version], `seed for version ${m.version}`).toBeTypeOf('function');
  });

  for (let from = 1; from < latestVersion; from++) {
    it(`upgrade a database created at version ${from} to ${latestVersion} with its data intact`, () => {
      const path = createAtVersion(from);
      const db = openDatabase(path);
      expect(schemaVersion(db)).toBe(latestVersion);
      expect(db.prepare(`SELECT name FROM classes ORDER BY id`).pluck().all()).toEqual(['NILM', 'superficial']);
      expect(db.prepare(`SELECT parent_id FROM classes WHERE id = 2`).pluck().get()).toBe(1);
      expect(db.prepare(`SELECT class_id FROM annotations ORDER BY id`).pluck().all()).toEqual(from >= 6 ? [2, 1] : [2]);
      expect(db.prepare(`SELECT COUNT(*) FROM audit_log`).pluck().get()).toBe(1);
      if (from >= 2) expect(db.prepare(`SELECT loss FROM run_metrics`).pluck().get()).toBe(0.5);
      if (from >= 3) expect(db.prepare(`SELECT value_json FROM settings WHERE key = 'patchSize'`).pluck().get()).toBe('256');
      // What later migrations add works on the upgraded file.
      expect(db.prepare(`SELECT value_json FROM settings WHERE key = 'shotTarget'`).pluck().get()).toBe('16');
      expect(db.prepare(`SELECT COUNT(*) FROM jobs`).pluck().get()).toBe(from >= 5 ? 2 : from >= 4 ? 1 : 0);
      expect(db.pragma('application_id', { simple: true })).toBe(CYTOTUNE_APPLICATION_ID);
      if (from >= 4) expect(db.prepare(`SELECT spec_json FROM jobs`).pluck().get()).toBe('{"x":1}');
      // jobs now accepts experiment and detect jobs and keeps their results.
      db.exec(
        `INSERT INTO jobs (kind, status, spec_json, created_at, updated_at, result_json) VALUES ('experiment', 'queued', '{}', 'now', 'now', '{"a":1}'), ('detect', 'queued', '{}', 'now', 'now', NULL)`,
      );
      // Cells hang off detection runs; older predictions are grid patches (no cell).
      db.exec(
        `INSERT INTO detection_runs (image_id, detector_version, params_json, level, status, created_at, updated_at) VALUES (1, 'v', '{}', 0, 'queued', 'now', 'now')`,
      );
      if (from >= 2) expect(db.prepare(`SELECT cell_id FROM predictions ORDER BY id LIMIT 1`).pluck().get()).toBeNull();
      // Review decisions refer to a prediction and the label it made; deleting the label keeps the decision.
      if (from >= 2) {
        db.exec(
          `INSERT INTO prediction_reviews (prediction_id, decision, annotation_id, actor, at) VALUES (1, 'corrected', 1, 'ana', 'now')`,
        );
        expect(db.prepare(`SELECT decision FROM prediction_reviews`).pluck().all()).toEqual(['corrected']);
      }
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      db.close();
    });
  }

  it('opens a database at the latest version without changing it', () => {
    const path = createAtVersion(latestVersion);
    const db = openDatabase(path);
    expect(db.prepare(`SELECT value_json FROM settings WHERE key = 'patchSize'`).pluck().get()).toBe('256');
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });

  it('refuses a project written by a newer CytoTune, and leaves it untouched', () => {
    const path = createAtVersion(latestVersion);
    const raw = new Database(path);
    raw.pragma(`user_version = ${latestVersion + 1}`);
    raw.close();
    expect(() => openDatabase(path)).toThrow(/newer CytoTune/);
    const again = new Database(path);
    expect(again.pragma('user_version', { simple: true })).toBe(latestVersion + 1);
    again.close();
  });

  it('refuses a file that is not a database with a message naming it', () => {
    const path = join(tempDir(), 'fake.cytotune');
    writeFileSync(path, 'this is not sqlite, it is a note'.repeat(100));
    expect(() => openDatabase(path)).toThrow(/Cannot open .*fake\.cytotune/);
  });

  it('migration 6 bounds label boxes by their image and keeps (and reports) rows that break it', () => {
    const path = createAtVersion(5);
    const raw = new Database(path);
    raw.exec(
      `INSERT INTO annotations (image_id, class_id, x, y, w, h, source, author, created_at, updated_at) VALUES (1, 1, -1e15, 0, 1e300, 16000, 'manual', 'ana', 'then', 'then')`,
    );
    raw.close();
    const db = openDatabase(path);
    expect(db.prepare(OUT_OF_BOUNDS_LABELS).all()).toEqual([expect.objectContaining({ id: 2, x: -1e15, w: 1e300 })]);
    const insert = (x: number, y: number, w: number, h: number) =>
      db
        .prepare(
          `INSERT INTO annotations (image_id, class_id, x, y, w, h, source, author, created_at, updated_at) VALUES (1, 1, ?, ?, ?, ?, 'manual', 'ana', 'now', 'now')`,
        )
        .run(x, y, w, h);
    // The 40 x 40 image of the seed: a 224 px patch around a click near its corner is fine ...
    expect(() => insert(-92, -92, 224, 224)).not.toThrow();
    // ... boxes that miss it, or ask for more than any patch may, are refused by the database.
    for (const box of [
      [-1e15, 0, 10, 10],
      [0, 0, 1e300, 10],
      [0, 0, 16000, 16000],
      [40, 0, 10, 10],
      [0, 0, 0.5, 10],
    ])
      expect(() => insert(box[0], box[1], box[2], box[3]), JSON.stringify(box)).toThrow(/label box outside its image/);
    // An old row stays editable where its box is not touched (relabel, soft delete).
    expect(() => db.exec(`UPDATE annotations SET class_id = 2, deleted_at = 'now' WHERE id = 2`)).not.toThrow();
    expect(() => db.exec(`UPDATE annotations SET x = -2e15 WHERE id = 2`)).toThrow(/label box outside its image/);
    db.close();
  });

  it('keeps the audit log append-only', () => {
    const db = openDatabase(createAtVersion(latestVersion));
    expect(() => db.exec(`UPDATE audit_log SET actor = 'mallory'`)).toThrow(/append-only/);
    expect(() => db.exec(`DELETE FROM audit_log`)).toThrow(/append-only/);
    db.close();
  });
});
