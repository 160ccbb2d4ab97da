import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Workspace } from '../../main/api/workspace';
import { startServer } from '../../main/server/httpServer';
import { repoRoot } from '../../main/paths';
import { parseArgs, UsageError } from '../args';
import type { Io } from '../io';

export async function runServe(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, { values: ['project', 'port', 'renderer'] });
  const portText = args.flags.get('port')?.[0];
  const port = portText === undefined ? 0 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a number 0-65535, not ${portText}`);
  const rendererDir = args.flags.get('renderer')?.[0] ?? join(repoRoot, 'out', 'renderer');
  if (!existsSync(join(rendererDir, 'index.html'))) {
    io.err(`warning: the UI is not built (${rendererDir}); run \`npm run build:renderer\` first. The API still works.`);
  }
  const workspace = new Workspace({ projectPath: args.flags.get('project')?.[0] });
  const server = await startServer({ workspace, rendererDir, port });
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
}
