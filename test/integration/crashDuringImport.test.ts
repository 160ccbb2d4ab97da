// Killing the server in the middle of an import must leave a database that opens, passes
// integrity_check, and holds every image whose import had completed, each one whole.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ImportProgress } from '../../src/shared/api';
import { createHttpClient } from '../../src/shared/httpClient';
import { herlevDir, repoRoot, tempDir } from '../support/paths';

describe('crash during import', () => {
  it('SIGKILL of the server mid-import leaves a consistent project with every completed image', async () => {
    const projectPath = join(tempDir(), 'crash.cytotune');
    const server = spawn(process.execPath, [join(repoRoot, 'bin/cytotune.js'), 'serve', '--project', projectPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await new Promise<URL>((resolve, reject) => {
      server.stdout.on('data', (d: Buffer) => {
        const m = /open (http\S+)/.exec(d.toString());
        if (m) resolve(new URL(m[1]));
      });
      server.on('exit', (code) => reject(new Error(`server exited early (${code})`)));
    });
    const client = createHttpClient({
      baseUrl: url.origin,
      token: url.searchParams.get('token')!,
      openSocket: (u) => new WebSocket(u) as never,
    });
    let lastReported = 0;
    const killedAt = new Promise<number>((resolve) => {
      client.on('import:progress', (p: ImportProgress) => {
        lastReported = p.added;
        if (p.added >= 150 && server.exitCode === null && !server.killed) {
          server.kill('SIGKILL');
          resolve(p.added);
        }
      });
    });
    await client.eventsReady();
    const importing = client.call('import:run', { paths: [herlevDir] }).catch((e: Error) => e);
    const added = await killedAt;
    await new Promise((r) => server.once('exit', r));
    expect(await importing).toBeInstanceOf(Error); // the call died with the server
    client.close();

    const db = new Database(projectPath);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const images = db.prepare(`SELECT COUNT(*) FROM images`).pluck().get() as number;
    expect(images).toBeGreaterThanOrEqual(Math.max(added, lastReported));
    expect(images).toBeLessThan(734);
    // Every image that is there is whole: thumbnail, whole-image label and audit entry.
    const incomplete = db
      .prepare(
        `SELECT COUNT(*) FROM images i WHERE NOT EXISTS (SELECT 1 FROM thumbnails t WHERE t.image_id = i.id)
           OR NOT EXISTS (SELECT 1 FROM annotations a WHERE a.image_id = i.id)
           OR NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.entity = 'image' AND l.entity_id = i.id)`,
      )
      .pluck()
      .get();
    expect(incomplete).toBe(0);
    db.close();
  });
});
