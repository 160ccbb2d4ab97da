// `cytotune serve`: the workstation in a browser (browser mode), on 127.0.0.1 only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace } from '../../main/api/workspace';
import { startServer } from '../../main/server/httpServer';
import { installProcessGuard } from '../../main/server/processGuard';
import { repoRoot } from '../../main/paths';
import { defineCommand } from '../command';
import { systemNotes } from '../systemNotes';

export const command = defineCommand({
  name: 'serve',
  summary: 'browser mode: the workstation on 127.0.0.1',
  usage:
    'usage: cytotune serve [--project FILE] [--port N] [--renderer DIR]\n' +
    '--port 0 (default) picks a free port; --renderer serves another build of the UI (default out/renderer).',
  options: {
    project: { type: 'string' },
    port: { type: 'int', min: 0, max: 65535 },
    renderer: { type: 'string' },
  },
  async main({ values: v }, io) {
    const rendererDir = v.renderer ?? join(repoRoot, 'out', 'renderer');
    if (!existsSync(join(rendererDir, 'index.html'))) {
      io.err(`warning: the UI is not built (${rendererDir}); run \`npm run build:renderer\` first. The API still works.`);
    }
    for (const note of systemNotes()) io.err(`note: ${note}`);
    // From here on an error nobody caught is logged and the server keeps serving.
    installProcessGuard((line) => io.err(line));
    const workspace = new Workspace({ projectPath: v.project });
    for (const warning of workspace.currentProject?.warnings ?? []) io.err(`warning: ${warning}`);
    const server = await startServer({ workspace, rendererDir, port: v.port ?? 0 });
    io.out(`CytoTune is running in browser mode: open ${server.url}`);
    const stop = async () => {
      await server.close();
      workspace.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await new Promise(() => {}); // serve until stopped
    return 0;
  },
});
