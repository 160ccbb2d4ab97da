// Child process of test/integration/mainLoadsNoMl.test.ts: starts the browser-mode server on a
// new project, exercises the API a workstation uses at start (project, classes, images, models,
// runs, jobs), then prints every module the process loaded as JSON on stdout.
import { join } from 'node:path';
import { Workspace } from '../../src/main/api/workspace';
import { startServer } from '../../src/main/server/httpServer';
import { createHttpClient } from '../../src/shared/httpClient';

const [projectPath, rendererDir, checkpoint] = process.argv.slice(2);
const workspace = new Workspace({ projectPath });
const server = await startServer({ workspace, rendererDir });
const client = createHttpClient({ baseUrl: `http://127.0.0.1:${server.port}`, token: server.token, openSocket: () => ({}) as never });
for (const channel of ['project:info', 'classes:list', 'images:list', 'models:list', 'runs:list', 'jobs:list'] as const) {
  await client.call(channel, {} as never).catch(() => undefined);
}
// Inspecting a checkpoint reads its tensor names and shapes: still no ML runtime.
// (the tiny fixture needs an explicit head count, so inspection answers with that error: fine here)
await client.call('models:inspect', { path: checkpoint }).catch(() => undefined);
// Let the recorder's last messages arrive.
await new Promise((r) => setTimeout(r, 200));
await server.close();
workspace.close();
const loaded = (globalThis as { __loadedModules?: string[] }).__loadedModules ?? [];
process.stdout.write(JSON.stringify({ loaded, renderer: join(rendererDir) }));
