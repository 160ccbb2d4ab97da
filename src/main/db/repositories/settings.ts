import type { Db } from '../database';
import type { ProjectSettings } from '../../../shared/domain';

const defaults: ProjectSettings = { patchSize: 224, shotTarget: 16 };

export class SettingsRepository {
  constructor(private readonly db: Db) {}

  get(): ProjectSettings {
    const rows = this.db.prepare(`SELECT key, value_json FROM settings`).all() as { key: string; value_json: string }[];
    const stored = Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value_json)]));
    return { ...defaults, ...stored } as ProjectSettings;
  }

  set(patch: Partial<ProjectSettings>): void {
    const upsert = this.db.prepare(
      `INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json`,
    );
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined) upsert.run(key, JSON.stringify(value));
    }
  }
}
