// The Electron shell: one window over the same Workspace the browser mode serves. Only this
// folder imports 'electron'. The renderer is sandboxed, isolated, without Node, under a
// strict CSP, cannot navigate away or open windows, and reaches main only through the
// allow-listed channels of the preload.
import './threadPool'; // first: before anything uses the libuv pool
import { app, BrowserWindow, ipcMain, protocol, session, shell } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Workspace } from '../main/api/workspace';
import { createMediaRoutes } from '../main/media/mediaRoutes';
import { utilityWorkerSpawner } from './utilityWorker';
import { contentSecurityPolicy } from '../main/server/security';
import { installProcessGuard } from '../main/server/processGuard';
import { rendererEntryUrl, isTrustedRendererUrl } from './trustedUrls';

protocol.registerSchemesAsPrivileged([{ scheme: 'cytotune', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const here = dirname(fileURLToPath(import.meta.url));
// An error nobody caught is logged; the window and its project stay open.
installProcessGuard();
const workspace = new Workspace({ projectPath: process.env.CYTOTUNE_PROJECT, spawnWorker: utilityWorkerSpawner(join(here, 'worker.js')) });
let window: BrowserWindow | null = null;

function createWindow(): void {
  window = new BrowserWindow({
    width: 1440,
    height: 920,
    title: 'CytoTune',
    icon: join(here, '../../resources/icon.svg'),
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  void window.loadURL(rendererEntryUrl(process.env.ELECTRON_RENDERER_URL, pathToFileURL(join(here, '../renderer/index.html')).href));
  window.on('closed', () => (window = null));
}

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  // Tiles, patches and thumbnails by database id, never by file path: cytotune://slides/3.dzi
  // is answered exactly as /slides/3.dzi is in browser mode.
  const media = createMediaRoutes(workspace);
  protocol.handle('cytotune', async (request) => {
    const url = new URL(request.url);
    const answer = await media(`/${url.host}${url.pathname}`, request.signal);
    if (!answer) return new Response('Not found', { status: 404 });
    const body = typeof answer.body === 'string' ? answer.body : new Uint8Array(answer.body);
    return new Response(body, {
      status: answer.status,
      headers: { 'Content-Type': answer.contentType, 'Cache-Control': answer.cacheControl },
    });
  });

  ipcMain.handle('api:call', (event, channel: unknown, input: unknown) => {
    if (!isTrustedRendererUrl(event.senderFrame?.url ?? '', process.env.ELECTRON_RENDERER_URL)) {
      return { ok: false, error: { kind: 'invalid-input', message: 'untrusted sender' } };
    }
    return workspace.handle(channel, input);
  });
  workspace.onAny((name, payload) => window?.webContents.send('api:event', name, payload));

  createWindow();
  app.on('activate', () => BrowserWindow.getAllWindows().length === 0 && createWindow());
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!isTrustedRendererUrl(url, process.env.ELECTRON_RENDERER_URL)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    // Links to documentation open in the user's browser, never inside the app.
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
});

app.on('window-all-closed', () => {
  workspace.close();
  if (process.platform !== 'darwin') app.quit();
});
