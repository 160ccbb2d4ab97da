// A lab project's database with the shape of better-sqlite3's Database, so the same repositories
// and migrations run on PostgreSQL: prepare(sql).get/all/run, transaction(fn) (nested ones are
// savepoints, as in better-sqlite3), exec, and the pragmas CytoTune reads (user_version is the
// project schema's `schema_version` row). A project is one PostgreSQL schema of the lab database
// (search_path), on its own connection (syncClient.ts).
import type { Db } from '../database';
import { PgError, SyncPgClient } from './syncClient';
import { translateStatement, type TableInfo } from './dialect';

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

class PgStatement {
  private plucked = false;
  constructor(
    private readonly db: PgDb,
    private readonly sql: string,
  ) {}

  pluck(on = true): this {
    this.plucked = on;
    return this;
  }

  get(...params: unknown[]): unknown {
    const row = this.db.query(this.sql, params).rows[0];
    return row === undefined ? undefined : this.plucked ? Object.values(row)[0] : row;
  }

  all(...params: unknown[]): unknown[] {
    const { rows } = this.db.query(this.sql, params);
    return this.plucked ? rows.map((r) => Object.values(r)[0]) : rows;
  }

  run(...params: unknown[]): RunResult {
    const { rows, rowCount } = this.db.query(this.sql, params);
    const id = rows[0]?.id;
    return { changes: rowCount, lastInsertRowid: typeof id === 'number' ? id : 0 };
  }
}

export class PgDb {
  /** Which SQL dialect migrations pick (database.ts). */
  readonly dialect = 'postgres' as const;
  private readonly client: SyncPgClient;
  private tables: TableInfo | null = null;
  private readonly translated = new Map<string, string>();
  private depth = 0;
  open = true;

  constructor(
    url: string,
    readonly schema: string,
  ) {
    this.client = new SyncPgClient(url, 60_000, `cytotune ${schema}`);
    this.client.query(`SET search_path TO ${quoteIdent(schema)}`);
  }

  /** Runs one repository statement (SQLite text, `?` parameters) with PostgreSQL. */
  query(sql: string, params: readonly unknown[]) {
    let text = this.translated.get(sql);
    if (text === undefined) {
      text = translateStatement(sql, this.tableInfo());
      this.translated.set(sql, text);
    }
    return this.client.query(text, params.map(toParam));
  }

  /** PostgreSQL's own SQL (`$n` parameters), untranslated, on this project's connection and transaction. */
  raw(sql: string, params: readonly unknown[] = []) {
    return this.client.query(sql, params);
  }

  prepare(sql: string): PgStatement {
    return new PgStatement(this, sql);
  }

  /** A script of statements, as written (migrations give their PostgreSQL dialect). */
  exec(sql: string): this {
    this.client.query(sql);
    this.tables = null; // DDL may have added tables
    return this;
  }

  /** better-sqlite3's transaction(fn): BEGIN/COMMIT, a savepoint when nested, ROLLBACK on a throw. */
  transaction<A extends unknown[], T>(fn: (...args: A) => T) {
    const run = (...args: A): T => {
      const nested = this.depth > 0;
      const savepoint = `sp${this.depth}`;
      this.client.query(nested ? `SAVEPOINT ${savepoint}` : 'BEGIN');
      this.depth++;
      try {
        const result = fn(...args);
        this.depth--;
        this.client.query(nested ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT');
        return result;
      } catch (err) {
        this.depth--;
        try {
          this.client.query(nested ? `ROLLBACK TO SAVEPOINT ${savepoint}` : 'ROLLBACK');
        } catch {
          /* the connection is gone: PostgreSQL rolled back */
        }
        throw err;
      }
    };
    // PostgreSQL takes row locks as it writes, so IMMEDIATE/EXCLUSIVE mean the same as a plain BEGIN here.
    return Object.assign(run, { immediate: run, deferred: run, exclusive: run });
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** The pragmas CytoTune uses: user_version (the schema version), and no-ops for SQLite's file settings. */
  pragma(source: string, options: { simple?: boolean } = {}): unknown {
    const set = /^user_version\s*=\s*(\d+)$/.exec(source.trim());
    if (set) {
      this.client.query(`UPDATE schema_version SET version = ${Number(set[1])}`);
      return [];
    }
    if (source.trim() === 'user_version') {
      const version = this.client.query(`SELECT version FROM schema_version`).rows[0]?.version as number;
      return options.simple ? version : [{ user_version: version }];
    }
    if (/^quick_check/.test(source)) return options.simple ? 'ok' : [{ quick_check: 'ok' }];
    if (/^(journal_mode|foreign_keys|busy_timeout|synchronous)\b/.test(source)) return options.simple ? undefined : [];
    throw new PgError(`PRAGMA ${source} has no meaning in a lab project.`, 'PRAGMA');
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.client.close();
  }

  /** As better-sqlite3's Database for the repositories (the subset above is all they call). */
  asDb(): Db {
    return this as unknown as Db;
  }

  private tableInfo(): TableInfo {
    if (this.tables) return this.tables;
    const identity = this.client.query(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'`,
    );
    const keys = this.client.query(
      `SELECT c.relname AS table_name, a.attname AS column_name FROM pg_index i
         JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
       WHERE i.indisprimary AND n.nspname = current_schema() ORDER BY c.relname, array_position(i.indkey::smallint[], a.attnum)`,
    );
    const primaryKeys = new Map<string, string[]>();
    for (const r of keys.rows) {
      const t = r.table_name as string;
      primaryKeys.set(t, [...(primaryKeys.get(t) ?? []), r.column_name as string]);
    }
    this.tables = { identity: new Set(identity.rows.map((r) => r.table_name as string)), primaryKeys };
    return this.tables;
  }
}

/** better-sqlite3 binds booleans as 0/1 (it refuses them); pg would send 'true'. Keep SQLite's meaning. */
const toParam = (v: unknown) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Whether `db` is a lab project's database. */
export const isPgDb = (db: unknown): db is PgDb => db instanceof PgDb;
