// The lab as a lab runs it: `cytotune lab ...` and `cytotune worker ...` as child processes of the
// test (so a test can kill -9 them), on a throwaway PostgreSQL cluster (postgres.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createHttpClient, type HttpApiClient } from '../../src/shared/httpClient';
import { repoRoot } from './paths';

const bin = join(repoRoot, 'bin/cytotune.js');

/** Runs a cytotune command to its end; its stdout, or a thrown error with its stderr. */
export function cytotune(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`cytotune ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A long-running cytotune process; `ready` resolves when a stdout line matches `readyLine`. */
export function startCytotune(
  args: string[],
  readyLine: RegExp,
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; ready: Promise<string>; output: () => string } {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => readyLine.test(l));
      if (line) resolve(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code, signal) => reject(new Error(`cytotune ${args[0]} exited (${code ?? signal}) before it was ready:\n${out}`)));
  });
  return { child, ready, output: () => out };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A workstation of the lab: the browser mode's HTTP/WebSocket client with a user's token. */
export const workstation = (port: number, token: string): HttpApiClient =>
  createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, token, openSocket: (url) => new WebSocket(url) as never });

/** kill -9, and the moment it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}
