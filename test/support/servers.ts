import { join } from 'node:path';
import WebSocket from 'ws';
import type { ApiClient } from '../../src/shared/api';
import { createHttpClient } from '../../src/shared/httpClient';
import { createInProcessClient } from '../../src/main/api/inProcessClient';
import { Workspace } from '../../src/main/api/workspace';
import { startServer, type RunningServer } from '../../src/main/server/httpServer';
import { repoRoot } from './paths';

export interface Harness {
  name: string;
  client: ApiClient;
  workspace: Workspace;
  server?: RunningServer;
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function inProcess(): Harness {
  const workspace = new Workspace();
  return {
    name: 'in-process core',
    client: createInProcessClient(workspace),
    workspace,
    ready: async () => {},
    close: async () => workspace.close(),
  };
}

export async function overHttp(projectPath?: string): Promise<Harness> {
  const workspace = new Workspace({ projectPath });
  const server = await startServer({ workspace, rendererDir: join(repoRoot, 'out/renderer') });
  const client = createHttpClient({
    baseUrl: `http://127.0.0.1:${server.port}`,
    token: server.token,
    openSocket: (url) => new WebSocket(url) as never,
  });
  return {
    name: 'HTTP + WebSocket',
    client,
    workspace,
    server,
    ready: () => client.eventsReady(),
    close: async () => {
      client.close();
      await server.close();
      workspace.close();
    },
  };
}
