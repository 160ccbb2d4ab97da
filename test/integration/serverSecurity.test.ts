// Browser mode must not be callable by anything but the page it served: token required,
// Host and Origin checked (DNS rebinding, cross-site pages), no file outside the UI served.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { overHttp, type Harness } from '../support/servers';

let h: Harness;
beforeAll(async () => {
  h = await overHttp();
});
afterAll(async () => h.close());

function raw(
  path: string,
  headers: Record<string, string>,
  method = 'POST',
  body = '{}',
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: h.server!.port, path, method, headers }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: data, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

const host = () => `127.0.0.1:${h.server!.port}`;

describe('browser-mode server', () => {
  it('answers API calls that carry the token', async () => {
    const res = await raw('/api/project:current', { host: host(), 'x-cytotune-token': h.server!.token });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true, value: null });
  });

  it('refuses requests without the token or with a wrong one', async () => {
    expect((await raw('/api/project:current', { host: host() })).status).toBe(401);
    expect((await raw('/api/project:current', { host: host(), 'x-cytotune-token': 'guess' })).status).toBe(401);
    expect((await raw('/', { host: host() }, 'GET')).status).toBe(401);
  });

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    const res = await raw('/api/project:current', { host: `evil.example:${h.server!.port}`, 'x-cytotune-token': h.server!.token });
    expect(res.status).toBe(403);
  });

  it('refuses a page of another origin even with the token', async () => {
    const res = await raw('/api/project:current', { host: host(), origin: 'http://evil.example', 'x-cytotune-token': h.server!.token });
    expect(res.status).toBe(403);
  });

  it('sets an HttpOnly SameSite=Strict cookie when the page is opened with the token, and serves the UI under a CSP', async () => {
    // The page reloads itself without the token (hardening item 8), authorised by the cookie.
    const res = await raw(`/?token=${h.server!.token}`, { host: host() }, 'GET');
    expect(res.status).toBe(303);
    expect(String(res.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const cookie = String(res.headers['set-cookie']).split(';')[0];
    const page = await raw(String(res.headers.location), { host: host(), cookie }, 'GET');
    expect(String(page.headers['content-security-policy'])).toMatch(/script-src 'self'/);
    expect((await raw('/api/project:current', { host: host(), cookie })).status).toBe(200);
  });

  it('never serves files outside the built UI', async () => {
    const auth = { host: host(), 'x-cytotune-token': h.server!.token };
    for (const path of ['/../../package.json', '/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json']) {
      const res = await raw(path, auth, 'GET');
      expect(res.body).not.toContain('"name": "cytotune"');
    }
  });

  it('refuses unknown channels and malformed bodies with typed errors', async () => {
    const auth = { host: host(), 'x-cytotune-token': h.server!.token };
    expect(JSON.parse((await raw('/api/fs:delete', auth)).body).error.kind).toBe('invalid-input');
    expect(JSON.parse((await raw('/api/project:open', auth, 'POST', '{nope')).body).error.kind).toBe('invalid-input');
  });

  it('opens the event stream only with the token and the right Host', async () => {
    const open = (url: string, headers: Record<string, string> = {}) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('open', () => (ws.close(), resolve('open')));
        ws.on('error', () => resolve('refused'));
      });
    const base = `ws://127.0.0.1:${h.server!.port}/events`;
    expect(await open(`${base}?token=${h.server!.token}`)).toBe('open');
    expect(await open(base)).toBe('refused');
    expect(await open(`${base}?token=${h.server!.token}`, { origin: 'http://evil.example' })).toBe('refused');
  });
});
