// Hardening item 8, browser mode and export: the token leaves the address bar (a redirect that
// sets the cookie) and never travels in Referer; a malformed percent-encoding is a 400, an
// oversized body a 413 (not a reset); ids are decimal only (0x2df names no image); CSV cells
// cannot start a formula; an adapter export never overwrites a file unless asked, and only
// into an existing folder, under its own extension; names are checked and compared sensibly.
import { request } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWeightsFile } from '../../../src/ml/adapters/safetensorsIo';
import { herlevDir, tempDir } from '../../support/paths';
import { overHttp, type Harness } from '../../support/servers';

let h: Harness;
let imageId: number;
beforeAll(async () => {
  h = await overHttp();
  await h.client.call('project:create', { path: join(tempDir(), 'edges.cytotune') });
  await h.client.call('import:run', { paths: [join(herlevDir, 'normal_columnar')] });
  imageId = (await h.client.call('images:list', {}))[0].id;
});
afterAll(async () => h.close());

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: h.server!.port,
        path,
        method: options.method ?? 'GET',
        headers: { host: `127.0.0.1:${h.server!.port}`, 'x-cytotune-token': h.server!.token, ...options.headers },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: data, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the access token', () => {
  it('leaves the address bar: the page with ?token= redirects to itself without it, setting the cookie', async () => {
    const first = await raw(`/?token=${h.server!.token}`, { headers: { 'x-cytotune-token': '' } });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    expect(String(first.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const cookie = String(first.headers['set-cookie']).split(';')[0];
    const page = await raw('/', { headers: { 'x-cytotune-token': '', cookie } });
    expect(page.status).not.toBe(401);
  });

  it('never travels in Referer: every response says no-referrer', async () => {
    for (const path of ['/', '/api/project:current', `/thumbnails/${imageId}.jpg`, '/nope']) {
      const res = await raw(path, { method: path.startsWith('/api/') ? 'POST' : 'GET' });
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
    }
  });
});

describe('malformed requests', () => {
  it('a malformed percent-encoding is a 400 without a stack, in the API and for files', async () => {
    const api = await raw('/api/project%E0%A4%A', { method: 'POST', body: '{}' });
    expect(api.status).toBe(400);
    expect(JSON.parse(api.body)).toMatchObject({ ok: false, error: { kind: 'invalid-input' } });
    const file = await raw('/assets/%E0%A4%A.js');
    expect(file.status).toBe(400);
    expect(file.body).not.toMatch(/URIError|at /);
  });

  it('an 11 MB body is answered 413, whether announced or streamed', async () => {
    const big = Buffer.alloc(11 * 1024 * 1024, 0x20);
    const announced = await raw('/api/project:current', { method: 'POST', body: big });
    expect(announced.status).toBe(413);
    const streamed = await raw('/api/project:current', { method: 'POST', body: big, headers: { 'transfer-encoding': 'chunked' } });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toMatchObject({ ok: false, error: { kind: 'invalid-input' } });
    // The server still answers.
    expect((await raw('/api/project:current', { method: 'POST', body: '{}' })).status).toBe(200);
  });

  it('hex, exponent and zero-padded ids name no image', async () => {
    expect((await raw(`/slides/${imageId}.dzi`)).status).toBe(200);
    for (const id of [`0x${imageId.toString(16)}`, `${imageId}e0`, `0${imageId}`, ` ${imageId}`]) {
      expect((await raw(`/slides/${encodeURIComponent(id)}.dzi`)).status, id).toBe(404);
    }
    expect((await raw(`/thumbnails/0${imageId}.jpg`)).status).toBe(404);
  });
});

describe('export', () => {
  it('CSV cells cannot start a formula; numbers stay numbers', async () => {
    const cls = await h.client.call('classes:create', { name: '=HYPERLINK("http://evil.example","x")' });
    await h.client.call('annotations:create', { imageId, classId: cls.id, box: { x: -5, y: 1, w: 20, h: 20 } });
    const csv = (await h.client.call('export:labels', { format: 'csv' })).text;
    const row = csv.split('\r\n').find((l) => l.includes('HYPERLINK'))!;
    expect(row).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(row).toContain(',-5,1,20,20,');
    for (const cell of row.split(',')) expect(cell).not.toMatch(/^[=+@]/);
  });

  it('an adapter export refuses to overwrite unless asked, and writes only into an existing folder', async () => {
    // A finished run as the workstation records it: its folder holds config.json and head.safetensors.
    const runDir = join(tempDir(), 'run-1');
    mkdirSync(runDir);
    writeFileSync(join(runDir, 'config.json'), JSON.stringify({ format: 'cytotune-run/1', checkpointSha256: 'ab'.repeat(32) }));
    await writeWeightsFile(join(runDir, 'head.safetensors'), [{ name: 'w', shape: [2], data: new Float32Array([1, 2]) }], { kind: 'head' });
    const db = h.workspace.currentProject!.db;
    const runId = Number(
      db
        .prepare(
          `INSERT INTO runs (model_id, config_json, seed, status, adapter_path, created_at, updated_at) VALUES (NULL, '{}', 1, 'completed', ?, 'now', 'now')`,
        )
        .run(runDir).lastInsertRowid,
    );
    const out = join(tempDir(), 'mine.cytotune-adapter');
    writeFileSync(out, 'precious');
    await expect(h.client.call('runs:exportAdapter', { runId, path: out })).rejects.toMatchObject({ kind: 'conflict' });
    expect(readFileSync(out, 'utf8')).toBe('precious');
    await expect(h.client.call('runs:exportAdapter', { runId, path: out, overwrite: true })).resolves.toEqual({ path: out });
    expect(readFileSync(out).subarray(8, 9).toString()).toBe('{'); // a safetensors file now

    await expect(
      h.client.call('runs:exportAdapter', { runId, path: join(tempDir(), 'no', 'such', 'x.cytotune-adapter') }),
    ).rejects.toMatchObject({
      kind: 'not-found',
    });
    const notes = join(tempDir(), 'notes.txt');
    await expect(h.client.call('runs:exportAdapter', { runId, path: notes, overwrite: true })).rejects.toMatchObject({
      kind: 'invalid-input',
    });
    expect(existsSync(notes)).toBe(false);
  });
});

describe('names', () => {
  it('refuses NUL, bidi overrides and zero-width characters; stores NFC; finds case and width twins', async () => {
    for (const bad of ['HS\u0000IL', 'HSIL\u202Egnp.exe', 'HSIL\u200B', '\u2066x\u2069']) {
      await expect(h.client.call('classes:create', { name: bad }), JSON.stringify(bad)).rejects.toMatchObject({ kind: 'invalid-input' });
    }
    const created = await h.client.call('classes:create', { name: 'Cafe\u0301 HSIL' });
    expect(created.name).toBe('Café HSIL');
    for (const twin of ['café hsil', 'ＣＡＦÉ ＨＳＩＬ', 'Café HSIL']) {
      await expect(h.client.call('classes:create', { name: twin }), twin).rejects.toMatchObject({ kind: 'conflict' });
    }
    await expect(h.client.call('project:open', { path: '/tmp/a\u0000b.cytotune' })).rejects.toMatchObject({ kind: 'invalid-input' });
  });
});
