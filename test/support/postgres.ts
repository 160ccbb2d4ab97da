// A throwaway PostgreSQL cluster for the lab tests: initdb into a temp folder, the server on a
// unix socket in that folder only (no TCP port to collide on), stopped and removed after. As
// root (CI), initdb refuses to run, so the cluster runs as the `postgres` user Debian's package
// creates. The tests skip, saying why, only where the PostgreSQL programs are not installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface PgCluster {
  /** Connection string of database `name` (default: the maintenance database). */
  url(name?: string): string;
  /** A fresh empty database; returns its connection string. */
  createDatabase(prefix?: string): Promise<string>;
  stop(): void;
}

/** The folder of Debian's PostgreSQL programs, or null when they are not installed. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

export const postgresMissing: string | null = postgresBin()
  ? null
  : 'PostgreSQL is not installed (scripts/system-packages.txt lists postgresql; .ci/run installs it)';

const asRoot = process.getuid?.() === 0;

function runAsOwner(program: string, args: string[]): void {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
}

let counter = 0;

/** Starts a cluster (a few seconds); call stop() in afterAll. */
export function startPostgres(): PgCluster {
  const bin = postgresBin();
  if (!bin) throw new Error(postgresMissing!);
  // Short: the socket path (dir/.s.PGSQL.port) must fit in 107 bytes.
  const dir = mkdtempSync('/tmp/ctpg-');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = 5432;
  runAsOwner(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'cytotune', '--locale=C', '-E', 'UTF8', '--no-sync']);
  runAsOwner(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-k ${dir} -p ${port} -c listen_addresses='' -c max_connections=200 -c fsync=off`,
    'start',
  ]);
  const url = (name = 'postgres') => `postgresql://cytotune@/${name}?host=${encodeURIComponent(dir)}&port=${port}`;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      runAsOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.once('exit', stop);
  return {
    url,
    stop,
    async createDatabase(prefix = 'lab') {
      const name = `${prefix}_${process.pid}_${++counter}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
  };
}
