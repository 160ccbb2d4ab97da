// The libuv thread pool's size for CytoTune's processes. sharp runs libvips decode, resize and
// JPEG encode (tiles, thumbnails, training images) in the libuv pool; Node's default of 4
// threads leaves the other cores of a lab PC idle while tile requests queue. libuv reads
// UV_THREADPOOL_SIZE once, when the pool starts (the first fs/crypto/zlib/sharp call), so it
// must be in the environment before that: set here at start-up, never over a user's value.
//
// Measured on Node 20 (test/unit/main/threadPoolSize.test.ts checks it): loading an ES module
// entry already starts the pool, so setting the variable in an ESM entry's body is too late for
// that process; it does take effect in a CommonJS entry (bin/cytotune.cjs) and in every child
// process started afterwards (scripts/start.js passes it to Electron and to browser mode).
// Plain JavaScript (with threadPoolSize.d.mts for TypeScript) because bin/ and scripts/ use it
// before anything is built.
import { availableParallelism } from 'node:os';

/**
 * The value to put in UV_THREADPOOL_SIZE, or null when the user has set it: one thread per core,
 * never below libuv's default 4 (file reads wait in the same pool: a 2-core PC keeps its 4) and
 * never above libuv's limit 1024.
 */
export function threadPoolSize(env = process.env, cores = availableParallelism()) {
  if (env.UV_THREADPOOL_SIZE) return null;
  return String(Math.min(1024, Math.max(4, cores)));
}

/** Sets UV_THREADPOOL_SIZE to the core count where unset; returns the size now in force. */
export function ensureThreadPoolSize(env = process.env) {
  const size = threadPoolSize(env);
  if (size !== null) env.UV_THREADPOOL_SIZE = size;
  return Number(env.UV_THREADPOOL_SIZE);
}
