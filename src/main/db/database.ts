// Opens a project database: one SQLite file per project, WAL, foreign keys on, migrated
// to the latest schema. Only repositories (./repositories) run SQL against it.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { latestVersion, migrations } from './migrations';
import { ApiError } from '../../shared/api';

export type Db = Database.Database;

export interface OpenOptions {
  /** Create the file when missing (otherwise a missing file is an error). */
  create?: boolean;
  /** Stop at this schema version (tests of migrations). */
  targetVersion?: number;
}

export function openDatabase(path: string, options: OpenOptions = {}): Db {
  if (!options.create && !existsSync(path)) {
    throw new ApiError('not-found', `No project file at ${path}. Create a project first (cytotune init --project ${path}).`);
  }
  let db: Db;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // NORMAL is durable in WAL mode against application crashes; only a power loss can
    // lose the last transactions, never corrupt the file.
    db.pragma('synchronous = NORMAL');
  } catch (err) {
    throw new ApiError('io', `Cannot open ${path} as a CytoTune project: ${(err as Error).message}`);
  }
  try {
    migrate(db, options.targetVersion ?? latestVersion);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies each pending migration in its own transaction, stamping user_version. */
export function migrate(db: Db, target: number = latestVersion): void {
  const current = schemaVersion(db);
  if (current > latestVersion) {
    throw new ApiError(
      'conflict',
      `This project was written by a newer CytoTune (schema ${current}, this version knows ${latestVersion}). Update CytoTune to open it.`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
