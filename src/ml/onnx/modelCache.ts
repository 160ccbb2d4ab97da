// Exported ONNX graphs on disk, keyed by what determines them (base checkpoint sha256, adapter
// and head hashes, encoder config, exporter version), so a second run skips the export and
// even the tfjs weight load. Files are written to a temporary name and renamed (a reader never
// sees half a graph); the least recently used are removed above a size budget.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ByteSink, ProtoMessage } from './protobuf';

/** CYTOTUNE_ONNX_CACHE, else the platform's user cache folder + cytotune/onnx. */
export function defaultOnnxCacheDir(): string {
  const env = process.env;
  if (env.CYTOTUNE_ONNX_CACHE) return env.CYTOTUNE_ONNX_CACHE;
  const base =
    process.platform === 'win32'
      ? (env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'))
      : process.platform === 'darwin'
        ? join(homedir(), 'Library', 'Caches')
        : (env.XDG_CACHE_HOME ?? join(homedir(), '.cache'));
  return join(base, 'cytotune', 'onnx');
}

/** sha256 of a canonical JSON rendering of `parts` (object keys sorted). */
export function cacheKey(parts: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canon(parts)))
    .digest('hex');
}

export function cachedModelPath(dir: string, key: string, label: string): string {
  return join(dir, `${label.replace(/[^a-z0-9-]/gi, '_')}-${key.slice(0, 32)}.onnx`);
}

/** Existing cached graph (its access time refreshed for LRU), or null. */
export function lookupCached(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return null;
    const now = new Date();
    utimesSync(path, now, now);
    return path;
  } catch {
    return null;
  }
}

/** Streams `model` to `path` through a temporary file; returns the bytes written. */
export function writeModelFile(path: string, model: ProtoMessage): number {
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w');
  let written = 0;
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let used = 0;
    const flush = () => {
      if (used) writeSync(fd, buf, 0, used);
      used = 0;
    };
    const sink: ByteSink = {
      write: (chunk) => {
        written += chunk.byteLength;
        if (chunk.byteLength > buf.length / 2) {
          flush();
          for (let off = 0; off < chunk.byteLength;) off += writeSync(fd, chunk, off, Math.min(chunk.byteLength - off, 1 << 30));
          return;
        }
        if (used + chunk.byteLength > buf.length) flush();
        buf.set(chunk, used);
        used += chunk.byteLength;
      },
    };
    model.writeTo(sink);
    flush();
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  if (written !== model.byteLength()) throw new Error(`ONNX export wrote ${written} of ${model.byteLength()} bytes`);
  renameSync(tmp, path);
  return written;
}

/** Budget for the cache folder: CYTOTUNE_ONNX_CACHE_MAX_GB (default 16 GB). */
function cacheBudgetBytes(): number {
  const gb = Number(process.env.CYTOTUNE_ONNX_CACHE_MAX_GB ?? 16);
  return (Number.isFinite(gb) && gb > 0 ? gb : 16) * 1e9;
}

/** Removes least recently used graphs (never `keep`) until the folder fits the budget. */
export function pruneCache(dir: string, keep: string, budget = cacheBudgetBytes()): string[] {
  let entries: { path: string; size: number; mtime: number }[];
  try {
    entries = readdirSync(dir)
      .filter((f) => f.endsWith('.onnx'))
      .map((f) => {
        const s = statSync(join(dir, f));
        return { path: join(dir, f), size: s.size, mtime: s.mtimeMs };
      });
  } catch {
    return [];
  }
  let total = entries.reduce((a, e) => a + e.size, 0);
  const removed: string[] = [];
  for (const e of entries.sort((a, b) => a.mtime - b.mtime)) {
    if (total <= budget) break;
    if (e.path === keep) continue;
    rmSync(e.path, { force: true });
    total -= e.size;
    removed.push(e.path);
  }
  return removed;
}
