// `cytotune lab init|serve|user add`: a lab server, where several workstations share projects on
// one PostgreSQL database and GPU workers (`cytotune worker --lab URL`) take their jobs.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Lab, redact } from '../../main/lab/lab';
import { installQueues } from '../../main/lab/labJobs';
import { Workspace } from '../../main/api/workspace';
import { startServer } from '../../main/server/httpServer';
import { installProcessGuard } from '../../main/server/processGuard';
import { repoRoot } from '../../main/paths';
import { UsageError } from '../args';
import { defineCommand } from '../command';

export const command = defineCommand({
  name: 'lab',
  summary: 'a lab server: shared projects and a GPU job queue on PostgreSQL',
  usage: [
    'usage: cytotune lab init|serve|user add NAME --lab URL [--data DIR] [--slides DIR] [--project NAME] [--host ADDR] [--port N] [--public-host NAME]',
    '  cytotune lab init --lab URL --data DIR [--slides DIR]',
    '  cytotune lab user add NAME --lab URL',
    '  cytotune lab serve --lab URL --project NAME [--host ADDR] [--port N] [--public-host NAME]',
    'URL is a PostgreSQL connection string (postgresql://user@host/db); CYTOTUNE_LAB is the default.',
    'init creates the lab in that (existing, empty) database; --data is the folder (a share the GPU',
    'workers also see) where run files are written; --slides the root slides are read from.',
    "user add prints the new user's access token once: their workstation opens",
    'http://HOST:PORT/?token=TOKEN, and every change they make is audited under NAME.',
    'serve opens project NAME (created when missing) for every user; --host 0.0.0.0 listens on',
    'the lab network (default 127.0.0.1), --public-host names this machine as workstations address it.',
  ].join('\n'),
  options: {
    lab: { type: 'string' },
    data: { type: 'string' },
    slides: { type: 'string' },
    project: { type: 'string' },
    host: { type: 'string' },
    'public-host': { type: 'string' },
    port: { type: 'int', min: 0, max: 65535 },
  },
  positionals: { name: 'init | serve | user add NAME', min: 1, max: 3 },
  async main({ values: v, positionals }, io) {
    const url = v.lab ?? process.env.CYTOTUNE_LAB;
    if (!url) throw new UsageError('--lab URL is required (or set CYTOTUNE_LAB)');
    const [verb, ...rest] = positionals;
    if (verb === 'init') {
      if (!v.data) throw new UsageError('lab init needs --data DIR (where run files are written)');
      const dataDir = resolve(v.data);
      mkdirSync(dataDir, { recursive: true });
      if (v.slides && !existsSync(v.slides)) throw new UsageError(`--slides ${v.slides} does not exist`);
      Lab.init(url, { dataDir, slideRoot: v.slides ? resolve(v.slides) : null }).close();
      await installQueues(url);
      io.out(`Lab ready at ${redact(url)} (run files in ${dataDir}). Add users with \`cytotune lab user add NAME --lab URL\`.`);
      return 0;
    }
    if (verb === 'user') {
      if (rest[0] !== 'add' || !rest[1]) throw new UsageError('usage: cytotune lab user add NAME --lab URL');
      const lab = Lab.connect(url);
      try {
        const token = lab.addUser(rest[1]);
        io.out(token);
        io.err(`User ${rest[1]} added. Their access token is above (shown once): their workstation opens http://HOST:PORT/?token=TOKEN.`);
      } finally {
        lab.close();
      }
      return 0;
    }
    if (verb === 'serve') {
      if (!v.project) throw new UsageError('lab serve needs --project NAME');
      installProcessGuard((line) => io.err(line));
      const lab = Lab.connect(url);
      const workspace = new Workspace({ lab, projectPath: v.project });
      const server = await startServer({
        workspace,
        rendererDir: join(repoRoot, 'out', 'renderer'),
        port: v.port ?? 0,
        host: v.host,
        publicHosts: v['public-host'] ? [v['public-host']] : [],
        authenticate: (token) => lab.userForToken(token),
      });
      io.out(`CytoTune lab server on port ${server.port}: project ${v.project} for the users of ${redact(url)}`);
      const stop = async () => {
        await server.close();
        workspace.close();
        lab.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise(() => {}); // serve until stopped
    }
    throw new UsageError(`unknown lab command ${JSON.stringify(verb)}: init, serve or user add`);
  },
});
