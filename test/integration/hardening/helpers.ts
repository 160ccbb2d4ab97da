// Helpers of the hardening tests: the real `cytotune` command in a child process (optionally
// as an unprivileged user, so file permissions mean something when the suite runs as root),
// hashes of files, and hostile images written byte by byte.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths';

export const cli = join(repoRoot, 'bin/cytotune.js');

/** The uid/gid a child runs as so that permissions apply: 'nobody' when the suite runs as root. */
export const unprivileged = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { asUser?: boolean; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // A fresh HOME: tsx keeps its cache under the user's temp folder, which 'nobody' may not own.
      env: { ...process.env, CYTOTUNE_CLI: 'tsx', ...(options.asUser ? { HOME: '/tmp' } : {}) },
      ...(options.asUser ? unprivileged : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `cytotune serve` in a child process, resolved once it printed its URL. */
export async function startServe(
  args: string[],
): Promise<{ child: ChildProcess; url: URL; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [cli, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CYTOTUNE_CLI: 'tsx' },
  });
  let output = '';
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /open (http\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(new URL(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}):\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface ApiReply<T = unknown> {
  ok: boolean;
  value?: T;
  error?: { kind: string; message: string };
}

/** POST one API call to a running server; resolves with the ApiResult. */
export async function apiCall<T = unknown>(url: URL, channel: string, input: unknown = {}): Promise<ApiReply<T>> {
  const res = await fetch(`${url.origin}/api/${channel}`, {
    method: 'POST',
    headers: { 'x-cytotune-token': url.searchParams.get('token')!, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  return (await res.json()) as ApiReply<T>;
}

export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Lets the unprivileged user read (not write) a file or folder the suite created. */
export function readOnlyFor(path: string, mode: number): void {
  chmodSync(path, mode);
  if (process.getuid?.() === 0) chownSync(path, 0, 0);
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A valid 1-bit greyscale PNG of width x height black pixels: 16000 x 16000 is about 31 KB on
 * disk and 768 MB decoded to RGB (the decompression bomb of the issue).
 */
export function writePngBomb(path: string, width: number, height: number): void {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const row = 1 + Math.ceil(width / 8); // filter byte + packed pixels
  const idat = deflateSync(Buffer.alloc(row * height), { level: 9 });
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  writeFileSync(path, png);
}

/** A 120-byte SVG asking to be rendered at 16000 x 16000, under an image name. */
export function writeSvgBomb(path: string): void {
  writeFileSync(
    path,
    '<svg xmlns="http://www.w3.org/2000/svg" width="16000" height="16000"><rect width="16000" height="16000" fill="red"/></svg>',
  );
}
