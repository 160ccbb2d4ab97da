// Numbered schema migrations. Migration N brings a database from user_version N-1 to N.
// Never edit a migration that has shipped: add a new one. Each is tested by upgrading a
// database created at the previous version with data in it (test/unit/db/migrations.test.ts).

import { translateDdl } from './pg/dialect';

export interface Migration {
  version: number;
  description: string;
  sql: string;
  /**
   * The migration for a lab project (PostgreSQL), where its SQLite text does not translate
   * (triggers, PRAGMA, table rebuilds): given the mechanical translation (pg/dialect.ts), returns
   * what PostgreSQL runs. Absent: the translation as it is.
   */
  postgres?: (translated: string) => string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'classes, images, annotations, audit log',
    sql: `
      CREATE TABLE classes (
        id INTEGER PRIMARY KEY,
        parent_id INTEGER REFERENCES classes(id) ON DELETE RESTRICT,
        name TEXT NOT NULL,
        color TEXT NOT NULL,
        shortcut TEXT,
        position INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX classes_sibling_name ON classes(COALESCE(parent_id, 0), name);

      CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('slide', 'image')),
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        mpp REAL,
        added_at TEXT NOT NULL
      );

      CREATE TABLE annotations (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE RESTRICT,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('manual', 'import', 'accepted-prediction')),
        author TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_at TEXT
      );
      CREATE INDEX annotations_image ON annotations(image_id) WHERE deleted_at IS NULL;
      CREATE INDEX annotations_class ON annotations(class_id) WHERE deleted_at IS NULL;

      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        entity TEXT NOT NULL,
        entity_id INTEGER,
        before_json TEXT,
        after_json TEXT
      );
      -- Append-only: the log is evidence, so the database itself refuses edits.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
    postgres: (sql) =>
      sql
        .replace(
          /CREATE UNIQUE INDEX classes_sibling_name[^;]*;/,
          'CREATE UNIQUE INDEX classes_sibling_name ON classes ((COALESCE(parent_id, 0)), name);',
        )
        .replace(
          /-- Append-only[\s\S]*$/,
          // A function, not a string: a replacement string would read $$ as an escaped $.
          () => `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
           CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
           CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();`,
        ),
  },
  {
    version: 2,
    description: 'foundation models, training runs, per-step metrics, predictions',
    sql: `
      CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        family TEXT NOT NULL,
        config_json TEXT NOT NULL,
        added_at TEXT NOT NULL
      );
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
        config_json TEXT NOT NULL,
        seed INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'cancelled', 'failed', 'completed')),
        metrics_json TEXT,
        adapter_path TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE run_metrics (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        step INTEGER NOT NULL,
        loss REAL, lr REAL, accuracy REAL, images_per_second REAL,
        PRIMARY KEY (run_id, step)
      );
      CREATE TABLE predictions (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        class_id INTEGER NOT NULL REFERENCES classes(id),
        probabilities_json TEXT NOT NULL,
        entropy REAL NOT NULL
      );
      CREATE INDEX predictions_run_image ON predictions(run_id, image_id);
      CREATE INDEX predictions_entropy ON predictions(run_id, entropy DESC);
    `,
  },
  {
    version: 3,
    description: 'project settings and image thumbnails',
    sql: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value_json TEXT NOT NULL);
      INSERT INTO settings (key, value_json) VALUES ('patchSize', '224'), ('shotTarget', '16');
      CREATE TABLE thumbnails (
        image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
        jpeg BLOB NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'compute jobs (training, classification) and their state',
    sql: `
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('train', 'classify')),
        run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'cancelled', 'failed', 'completed')),
        spec_json TEXT NOT NULL,
        progress_json TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX jobs_status ON jobs(status);
    `,
  },
  {
    version: 5,
    description: 'experiment jobs (the paper grid run from the workstation)',
    // SQLite cannot change a CHECK constraint in place: rebuild the table with its rows.
    sql: `
      CREATE TABLE jobs_v5 (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('train', 'classify', 'experiment')),
        run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'cancelled', 'failed', 'completed')),
        spec_json TEXT NOT NULL,
        progress_json TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      INSERT INTO jobs_v5 SELECT id, kind, run_id, status, spec_json, progress_json, error, created_at, updated_at FROM jobs;
      DROP TABLE jobs;
      ALTER TABLE jobs_v5 RENAME TO jobs;
      CREATE INDEX jobs_status ON jobs(status);
      ALTER TABLE jobs ADD COLUMN result_json TEXT;
    `,
    postgres: () => `
      ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
      ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('train', 'classify', 'experiment'));
      ALTER TABLE jobs ADD COLUMN result_json TEXT;`,
  },
  {
    version: 6,
    description: 'application_id of a CytoTune project; label boxes bounded by their image',
    // The box rule of src/shared/labelBounds.ts (LABEL_MAX_SIDE 8192) as the database enforces it.
    // Rows that break it already are kept (Project reports them and training refuses them);
    // an update that leaves a box as it was (relabel, soft delete, undo) is allowed.
    sql: `
      PRAGMA application_id = ${0x43795475};
      CREATE TRIGGER annotations_box_insert BEFORE INSERT ON annotations
        WHEN EXISTS (SELECT 1 FROM images i WHERE i.id = NEW.image_id AND NOT (
          NEW.w >= 1 AND NEW.h >= 1
          AND NEW.w <= (CASE WHEN i.kind = 'image' THEN MAX(i.width, i.height, 8192) ELSE 8192 END)
          AND NEW.h <= (CASE WHEN i.kind = 'image' THEN MAX(i.width, i.height, 8192) ELSE 8192 END)
          AND NEW.x < i.width AND NEW.y < i.height AND NEW.x + NEW.w > 0 AND NEW.y + NEW.h > 0))
        BEGIN SELECT RAISE(ABORT, 'label box outside its image'); END;
      CREATE TRIGGER annotations_box_update BEFORE UPDATE OF image_id, x, y, w, h ON annotations
        WHEN (NEW.image_id IS NOT OLD.image_id OR NEW.x IS NOT OLD.x OR NEW.y IS NOT OLD.y OR NEW.w IS NOT OLD.w OR NEW.h IS NOT OLD.h)
          AND EXISTS (SELECT 1 FROM images i WHERE i.id = NEW.image_id AND NOT (
            NEW.w >= 1 AND NEW.h >= 1
            AND NEW.w <= (CASE WHEN i.kind = 'image' THEN MAX(i.width, i.height, 8192) ELSE 8192 END)
            AND NEW.h <= (CASE WHEN i.kind = 'image' THEN MAX(i.width, i.height, 8192) ELSE 8192 END)
            AND NEW.x < i.width AND NEW.y < i.height AND NEW.x + NEW.w > 0 AND NEW.y + NEW.h > 0))
        BEGIN SELECT RAISE(ABORT, 'label box outside its image'); END;
    `,
    // A lab project has no application_id (the lab's schema_version table names it); the rule is one trigger function.
    postgres: () => `
      CREATE FUNCTION annotations_box_check() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND NEW.image_id IS NOT DISTINCT FROM OLD.image_id AND NEW.x IS NOT DISTINCT FROM OLD.x
           AND NEW.y IS NOT DISTINCT FROM OLD.y AND NEW.w IS NOT DISTINCT FROM OLD.w AND NEW.h IS NOT DISTINCT FROM OLD.h THEN
          RETURN NEW;
        END IF;
        IF EXISTS (SELECT 1 FROM images i WHERE i.id = NEW.image_id AND NOT (
          NEW.w >= 1 AND NEW.h >= 1
          AND NEW.w <= (CASE WHEN i.kind = 'image' THEN GREATEST(i.width, i.height, 8192) ELSE 8192 END)
          AND NEW.h <= (CASE WHEN i.kind = 'image' THEN GREATEST(i.width, i.height, 8192) ELSE 8192 END)
          AND NEW.x < i.width AND NEW.y < i.height AND NEW.x + NEW.w > 0 AND NEW.y + NEW.h > 0)) THEN
          RAISE EXCEPTION 'label box outside its image';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER annotations_box BEFORE INSERT OR UPDATE OF image_id, x, y, w, h ON annotations
        FOR EACH ROW EXECUTE FUNCTION annotations_box_check();`,
  },
  {
    version: 7,
    description: 'cells: detection runs (detector version and parameters) and their cells, cell predictions, slide reviews',
    // A re-run of the detector with other parameters is a new detection run, comparable with the
    // first; cells arrive tile by tile with the run's checkpoint (repositories/cells.ts).
    sql: `
  -- Job kinds grow with the app (detect now): the kind is checked by the typed job protocol
  -- (shared/jobs.ts), not by a CHECK that would need a table rebuild for every new kind.
  CREATE TABLE jobs_v7 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'cancelled', 'failed', 'completed')),
    spec_json TEXT NOT NULL,
    progress_json TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    result_json TEXT
  );
  INSERT INTO jobs_v7 SELECT id, kind, run_id, status, spec_json, progress_json, error, created_at, updated_at, result_json FROM jobs;
  DROP TABLE jobs;
  ALTER TABLE jobs_v7 RENAME TO jobs;
  CREATE INDEX jobs_status ON jobs(status);
  CREATE TABLE detection_runs (
    id INTEGER PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    detector_version TEXT NOT NULL,
    params_json TEXT NOT NULL,
    level INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    checkpoint_json TEXT,
    cell_count INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX detection_runs_image ON detection_runs(image_id, id);
  CREATE TABLE cells (
    id INTEGER PRIMARY KEY,
    detection_run_id INTEGER NOT NULL REFERENCES detection_runs(id) ON DELETE CASCADE,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    tile INTEGER NOT NULL,
    x REAL NOT NULL, y REAL NOT NULL,
    box_x REAL NOT NULL, box_y REAL NOT NULL, box_w REAL NOT NULL, box_h REAL NOT NULL,
    outline_json TEXT,
    area_um2 REAL NOT NULL,
    mean_od REAL NOT NULL,
    circularity REAL NOT NULL
  );
  CREATE INDEX cells_run_xy ON cells(detection_run_id, x, y);
  ALTER TABLE predictions ADD COLUMN cell_id INTEGER REFERENCES cells(id) ON DELETE CASCADE;
  CREATE INDEX predictions_cell ON predictions(cell_id);
  CREATE TABLE slide_reviews (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('not-classified', 'classified', 'reviewed')),
    note TEXT NOT NULL DEFAULT '',
    reviewed_by TEXT,
    reviewed_at TEXT
  );
    `,
    // PostgreSQL changes a CHECK in place: the rebuild of jobs is one dropped constraint.
    postgres: (sql) => `ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;\n` + sql.slice(sql.indexOf('CREATE TABLE detection_runs')),
  },
  {
    version: 8,
    description: 'review queue decisions on predictions (accepted, corrected, skipped) and the label each made',
    // One decision per prediction: a reopened queue skips what was reviewed, and accepting again
    // relabels the label it made instead of adding a second one on the same box.
    sql: `
      CREATE TABLE prediction_reviews (
        prediction_id INTEGER PRIMARY KEY REFERENCES predictions(id) ON DELETE CASCADE,
        decision TEXT NOT NULL CHECK (decision IN ('accepted', 'corrected', 'skipped')),
        annotation_id INTEGER REFERENCES annotations(id) ON DELETE SET NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL
      );
      CREATE INDEX prediction_reviews_annotation ON prediction_reviews(annotation_id);
    `,
  },
];

/** The SQL of a live label whose box breaks migration 6's rule (rows from before it). */
export const OUT_OF_BOUNDS_LABELS = `
  SELECT a.id, a.image_id, a.class_id, a.x, a.y, a.w, a.h FROM annotations a JOIN images i ON i.id = a.image_id
  WHERE a.deleted_at IS NULL AND NOT (
    a.w >= 1 AND a.h >= 1
    AND a.w <= (CASE WHEN i.kind = 'image' THEN MAX(i.width, i.height, 8192) ELSE 8192 END)
    AND a.h <= (CASE WHEN i.kind = 'image' THEN MAX(i.width, i.height, 8192) ELSE 8192 END)
    AND a.x < i.width AND a.y < i.height AND a.x + a.w > 0 AND a.y + a.h > 0)
  ORDER BY a.id`;

/** The text migration `m` runs in a database of `dialect`. */
export function migrationSql(m: Migration, dialect: 'sqlite' | 'postgres'): string {
  if (dialect === 'sqlite') return m.sql;
  const translated = translateDdl(m.sql);
  return m.postgres ? m.postgres(translated) : translated;
}

export const latestVersion = migrations[migrations.length - 1].version;
