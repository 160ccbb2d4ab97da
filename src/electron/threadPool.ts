// Imported first by main.ts: UV_THREADPOOL_SIZE to the core count unless the user set it, before
// the rest of the app loads (sharp encodes tiles in the libuv pool; src/main/threadPoolSize.mjs).
// The ML utility process inherits it; when started by `npm start` Electron already has it.
import { ensureThreadPoolSize } from '../main/threadPoolSize.mjs';

ensureThreadPoolSize();
