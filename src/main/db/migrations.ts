// Numbered schema migrations. Migration N brings a database from user_version N-1 to N.
// Never edit a migration that has shipped: add a new one. Each is tested by upgrading a
// database created at the previous version with data in it (test/unit/db/migrations.test.ts).

export interface Migration {
  version: number;
  description: string;
  sql: string;
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
  },
];

export const latestVersion = migrations[migrations.length - 1].version;
