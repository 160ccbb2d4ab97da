// Opens a project database: one SQLite file per project, WAL, foreign keys on, migrated
// to the latest schema. Only repositories (./repositories) run SQL against it.
//
// Only CytoTune projects open: the file is looked at read-only first (SQLite's header, its
// application_id and, for projects from before application_id was set, their tables), and any
// other file (another application's database, a zero-byte file, a note) is refused and left
// byte-identical. A read-only open never migrates and never changes the journal mode.
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { latestVersion, migrationSql, migrations } from './migrations';
import { ApiError } from '../../shared/api';
import { storageFailure } from './storageErrors';

export type Db = Database.Database;

/** SQLite's application_id of a CytoTune project ('CyTu'), stamped by migration 6. */
export const CYTOTUNE_APPLICATION_ID = 0x43795475;

export interface OpenOptions {
  /** Create the file when missing (otherwise a missing file is an error). An existing file is never replaced. */
  create?: boolean;
  /** Stop at this schema version (tests of migrations). */
  targetVersion?: number;
  /** Open read-only: no migration, no journal-mode change, every write fails. */
  readOnly?: boolean;
}

/** Tables every CytoTune project has had since schema 1 (how projects before application_id are known). */
const PROJECT_TABLES = ['classes', 'images', 'annotations', 'audit_log'];
const SQLITE_MAGIC = 'SQLite format 3\0';

const notAProject = (path: string, why: string) =>
  new ApiError('invalid-input', `Cannot open ${path}: it is not a CytoTune project (${why}). The file was left unchanged.`);

/** Reads the first 100 bytes (SQLite's header) without opening the file for writing. */
function readHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(100);
    const n = readSync(fd, header, 0, 100, 0);
    return header.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses anything at `path` that is not a CytoTune project, writing nothing. A project from
 * before application_id (0 there) is known by its schema version and its tables.
 */
export function assertProjectFile(path: string): void {
  let size: number;
  try {
    const s = statSync(path);
    if (!s.isFile()) throw notAProject(path, 'not a regular file');
    size = s.size;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('io', `Cannot open ${path}: ${(err as Error).message}`);
  }
  if (size === 0) throw notAProject(path, 'an empty file');
  let header: Buffer;
  try {
    header = readHeader(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ApiError('io', `Cannot open ${path}: ${code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  if (header.length < 100 || header.subarray(0, 16).toString('latin1') !== SQLITE_MAGIC) throw notAProject(path, 'not an SQLite database');
  const appId = header.readUInt32BE(68);
  if (appId === CYTOTUNE_APPLICATION_ID) return;
  if (appId !== 0) throw notAProject(path, `an SQLite database of another application, application_id ${appId}`);
  // application_id 0: a project from before migration 6, or another application's database.
  // The header may lag behind a WAL journal, so ask SQLite itself, read-only.
  let probe: Db | null = null;
  try {
    probe = new Database(path, { readonly: true, fileMustExist: true });
    const id = probe.pragma('application_id', { simple: true }) as number;
    if (id === CYTOTUNE_APPLICATION_ID) return;
    const version = probe.pragma('user_version', { simple: true }) as number;
    const tables = new Set(probe.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[]);
    if (id === 0 && version >= 1 && PROJECT_TABLES.every((t) => tables.has(t))) return;
    throw notAProject(path, tables.size === 0 ? 'an empty SQLite database' : 'an SQLite database of another application');
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const failure = storageFailure(err);
    if (failure?.kind === 'damaged') throw new ApiError('io', `Cannot open ${path}: the file is damaged (${(err as Error).message}).`);
    throw new ApiError('io', `Cannot open ${path}: ${(err as Error).message}`);
  } finally {
    probe?.close();
  }
}

export function openDatabase(path: string, options: OpenOptions = {}): Db {
  const exists = existsSync(path);
  if (!options.create && !exists) {
    throw new ApiError('not-found', `No project file at ${path}. Create a project first (cytotune init --project ${path}).`);
  }
  if (exists) assertProjectFile(path);
  if (options.readOnly) return openReadOnly(path);
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
    const failure = storageFailure(err);
    if (failure?.kind === 'disk-full') throw new ApiError('io', `Cannot upgrade ${path}: ${failure.message}`);
    throw err;
  }
  return db;
}

function openReadOnly(path: string): Db {
  let db: Db;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    schemaVersion(db); // reads the file: a WAL journal that cannot be used fails here
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_READONLY')) {
      throw new ApiError(
        'io',
        `Cannot open ${path} read-only: it was not closed cleanly, and its journal needs a folder CytoTune may write. Copy it to a writable folder to open it.`,
      );
    }
    throw new ApiError('io', `Cannot open ${path} read-only: ${(err as Error).message}`);
  }
  const version = schemaVersion(db);
  if (version !== latestVersion) {
    db.close();
    throw new ApiError(
      'conflict',
      version > latestVersion
        ? `This project was written by a newer CytoTune (schema ${version}, this version knows ${latestVersion}). Update CytoTune to open it.`
        : `${path} is read-only and was written by an older CytoTune (schema ${version}): copy it to a writable folder so this version can upgrade it.`,
    );
  }
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** SQLite's quick_check: null when the file is sound, else what is wrong (the first lines). */
export function quickCheck(db: Db): string | null {
  try {
    const rows = db.pragma('quick_check(5)', { simple: false }) as { quick_check: string }[];
    const problems = rows.flatMap((r) => r.quick_check.split('\n')).filter((r) => r !== 'ok' && !r.startsWith('*** in database'));
    return problems.length ? problems.slice(0, 5).join('; ') : null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Applies each pending migration in its own (immediate) transaction, stamping user_version. */
export function migrate(db: Db, target: number = latestVersion): void {
  const current = schemaVersion(db);
  if (current > latestVersion) {
    throw new ApiError(
      'conflict',
      `This project was written by a newer CytoTune (schema ${current}, this version knows ${latestVersion}). Update CytoTune to open it.`,
    );
  }
  const dialect = (db as { dialect?: string }).dialect === 'postgres' ? 'postgres' : 'sqlite';
  for (const m of migrations) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      db.exec(migrationSql(m, dialect));
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
