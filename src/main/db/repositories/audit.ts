import type { Db } from '../database';
import type { AuditEntry } from '../../../shared/domain';

export interface AuditRecord {
  action: string;
  entity: string;
  entityId: number | null;
  before?: unknown;
  after?: unknown;
}

/** The append-only log of every change: who, what, when. Written inside the change's own transaction. */
export class AuditRepository {
  private readonly insert;
  constructor(
    private readonly db: Db,
    /** Who acts now (a lab server serves several users, one per request). */
    private readonly actor: () => string,
  ) {
    this.insert = db.prepare(
      `INSERT INTO audit_log (at, actor, action, entity, entity_id, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  record(entry: AuditRecord): void {
    this.insert.run(
      new Date().toISOString(),
      this.actor(),
      entry.action,
      entry.entity,
      entry.entityId,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
    );
  }

  list(limit = 200): AuditEntry[] {
    const rows = this.db.prepare(`SELECT * FROM audit_log ORDER BY id DESC LIMIT ?`).all(limit) as AuditRow[];
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      entity: r.entity,
      entityId: r.entity_id,
      before: r.before_json === null ? null : JSON.parse(r.before_json),
      after: r.after_json === null ? null : JSON.parse(r.after_json),
    }));
  }
}

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entity_id: number | null;
  before_json: string | null;
  after_json: string | null;
}
