// Browser mode: the same API contract over HTTP (calls) and WebSocket (events), bound to
// 127.0.0.1 only. Every request needs the random token (query on first load, then an
// HttpOnly SameSite=Strict cookie; header for programmatic clients), and a Host header
// naming this server, so neither another web page nor DNS rebinding can reach the API.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Workspace } from '../api/workspace';
import { contentSecurityPolicy } from './security';
import { createMediaRoutes } from '../media/mediaRoutes';

export interface ServerOptions {
  workspace: Workspace;
  /** Folder of the built renderer (index.html and assets). */
  rendererDir: string;
  port?: number;
  token?: string;
  /**
   * A lab server: each user has their own token, and this names the user a token belongs to
   * (null: no user), so every change is audited with its author. Without it one random token
   * opens the server (the workstation's browser mode).
   */
  authenticate?: (token: string) => string | null;
  /** The address to listen on (default 127.0.0.1; a lab server listens where workstations reach it). */
  host?: string;
  /** Host names (besides 127.0.0.1 and localhost) that workstations use in their address. */
  publicHosts?: string[];
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const cookieName = 'cytotune_token';
const maxBodyBytes = 10 * 1024 * 1024;
/** An oversized body is read and dropped up to this, so the client sees the 413; beyond, the connection is cut. */
const drainCapBytes = 64 * 1024 * 1024;
const mimeTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const rendererDir = resolve(options.rendererDir);
  const mediaRoutes = createMediaRoutes(options.workspace);
  let port = 0;
  const allowedHosts = () => new Set(['127.0.0.1', 'localhost', ...(options.publicHosts ?? [])].map((h) => `${h}:${port}`));

  /** Who a token opens the server for: a lab user's name, '' for the workstation's own token, or null. */
  const userOf = (candidate: string | undefined | null): string | null => {
    if (!candidate) return null;
    if (options.authenticate) return options.authenticate(candidate);
    const a = Buffer.from(candidate);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b) ? '' : null;
  };
  const identify = (req: IncomingMessage, url: URL): string | null =>
    userOf(req.headers['x-cytotune-token'] as string | undefined) ??
    userOf(url.searchParams.get('token')) ??
    userOf(readCookie(req, cookieName));
  const authorised = (req: IncomingMessage, url: URL): boolean => identify(req, url) !== null;
  const hostOk = (req: IncomingMessage): boolean => {
    if (!allowedHosts().has(req.headers.host ?? '')) return false;
    // Browsers send Origin on cross-origin requests and WebSockets; tools and same-origin GETs send none.
    const origin = req.headers.origin;
    return origin === undefined || [...allowedHosts()].some((h) => origin === `http://${h}`);
  };

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (!hostOk(req)) return send(res, 403, 'text/plain', 'Forbidden: unexpected Host or Origin header.');
      const user = identify(req, url);
      if (user === null) {
        return send(res, 401, 'text/plain', 'Unauthorised: open the URL printed by `cytotune serve` (it carries the access token).');
      }
      if (url.searchParams.has('token')) {
        res.setHeader('Set-Cookie', `${cookieName}=${url.searchParams.get('token')}; HttpOnly; SameSite=Strict; Path=/`);
        // The token leaves the address bar (and so history, bookmarks and screenshots): the page
        // reloads itself without it, authorised by the cookie from now on.
        if ((req.method === 'GET' || req.method === 'HEAD') && !url.pathname.startsWith('/api/')) {
          url.searchParams.delete('token');
          return send(res, 303, 'text/plain', 'See Other', { Location: url.pathname + url.search });
        }
      }
      if (url.pathname.startsWith('/api/')) return await handleApi(req, res, url.pathname.slice(5), user || undefined);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'Method not allowed');
      // A viewer that pans away closes the request: its queued tile render is dropped.
      const abandoned = new AbortController();
      res.on('close', () => res.writableFinished || abandoned.abort());
      const media = await mediaRoutes(url.pathname, abandoned.signal);
      if (media) return send(res, media.status, media.contentType, media.body, { 'Cache-Control': media.cacheControl });
      await serveStatic(url.pathname, res);
    } catch (err) {
      console.error('[cytotune] request failed:', err);
      if (!res.headersSent) send(res, 500, 'text/plain', 'Internal error');
      else res.end();
    }
  });

  async function handleApi(req: IncomingMessage, res: ServerResponse, channel: string, user: string | undefined) {
    if (req.method !== 'POST') return send(res, 405, 'text/plain', 'API calls are POST');
    const invalid = (status: number, message: string) => sendJson(res, status, { ok: false, error: { kind: 'invalid-input', message } });
    const name = safeDecode(channel);
    if (name === null) return invalid(400, 'The API channel in the address is not valid percent-encoding.');
    const announced = Number(req.headers['content-length'] ?? 0);
    if (announced > drainCapBytes) {
      res.once('finish', () => req.destroy());
      return sendJson(res, 413, { ok: false, error: { kind: 'invalid-input', message: `Request body too large (${announced} bytes).` } });
    }
    // An oversized body is read and dropped (up to the drain cap), so the client gets the answer instead of a reset.
    const text = await readBody(req);
    if (text === null) return invalid(413, `Request body too large (at most ${maxBodyBytes} bytes).`);
    let body: unknown;
    try {
      body = JSON.parse(text || '{}');
    } catch (err) {
      return invalid(400, `Request body is not JSON: ${(err as Error).message}`);
    }
    const result = await options.workspace.handle(name, body, user);
    sendJson(res, 200, result);
  }

  async function serveStatic(path: string, res: ServerResponse) {
    const decoded = safeDecode(path === '/' ? '/index.html' : path);
    if (decoded === null || decoded.includes('\0')) return send(res, 400, 'text/plain', 'Bad request: malformed address.');
    const relative = normalize(decoded).replace(/^([/\\])+/, '');
    const file = resolve(join(rendererDir, relative));
    if (!file.startsWith(rendererDir + sep)) return send(res, 404, 'text/plain', 'Not found');
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch {
      if (extname(file)) return send(res, 404, 'text/plain', 'Not found');
      // Client-side routes fall back to the app shell.
      try {
        content = await readFile(join(rendererDir, 'index.html'));
      } catch {
        return send(res, 503, 'text/plain', `The UI is not built (no ${rendererDir}/index.html). Run \`npm run build:renderer\`.`);
      }
      return send(res, 200, mimeTypes['.html'], content, { 'Content-Security-Policy': contentSecurityPolicy });
    }
    const type = mimeTypes[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const headers: Record<string, string> = type.startsWith('text/html') ? { 'Content-Security-Policy': contentSecurityPolicy } : {};
    send(res, 200, type, content, headers);
  }

  // Events: one WebSocket per client; the same token and Host checks at the upgrade.
  const wss = new WebSocketServer({ noServer: true });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/events' || !hostOk(req) || !authorised(req, url)) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
    });
  });
  const unsubscribe = options.workspace.onAny((event, payload) => {
    const message = JSON.stringify({ event, payload });
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(message);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      unsubscribe();
      for (const ws of clients) ws.terminate();
      await new Promise<void>((ok) => wss.close(() => ok()));
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** A body that ends within maxBodyBytes as text; past that null, once the rest is drained (up to a cap, then the connection is dropped). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= maxBodyBytes) chunks.push(c);
      else if (size > drainCapBytes) {
        ok(null);
        req.destroy();
      }
    });
    req.on('end', () => ok(size > maxBodyBytes ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) {
  // No page of ours hands its address (which once carried the token) to anything it links to.
  res.writeHead(status, { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown) {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), { 'Cache-Control': 'no-store' });
}
