#!/usr/bin/env node
// The installed `cytotune` command (package.json "bin"). CommonJS on purpose: on Node 20 loading
// an ES module entry already starts the libuv thread pool, and libuv reads UV_THREADPOOL_SIZE
// only then. This file sets it (to the core count, unless the user set it) before anything is
// loaded asynchronously (require of an ES module is synchronous: Node >= 20.19), then runs
// bin/cytotune.js. Why the pool size matters: src/main/threadPoolSize.mjs.
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS here on purpose (see above)
require('../src/main/threadPoolSize.mjs').ensureThreadPoolSize();
import('./cytotune.js').catch((err) => {
  process.stderr.write(`cytotune: ${err?.stack ?? err}\n`);
  process.exit(1);
});
