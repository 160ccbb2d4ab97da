// Child process of diskFull.test.ts: a browser-mode server with the process guard installed,
// hit by an uncaught exception and an unhandled rejection, then asked whether it still answers.
import { join } from 'node:path';
import { Workspace } from '../../../src/main/api/workspace';
import { startServer } from '../../../src/main/server/httpServer';
import { installProcessGuard } from '../../../src/main/server/processGuard';

const dir = process.argv[2];
installProcessGuard();
const workspace = new Workspace({ projectPath: join(dir, 'guard.cytotune') });
const server = await startServer({ workspace, rendererDir: join(dir, 'no-ui') });
setTimeout(() => {
  throw new Error('boom in a timer');
}, 10);
setTimeout(() => void Promise.reject(new Error('boom in a promise')), 20);
setTimeout(async () => {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/project:current`, {
    method: 'POST',
    headers: { 'x-cytotune-token': server.token },
  });
  process.stdout.write(`answered after the errors: ${res.status}\n`);
}, 300);
