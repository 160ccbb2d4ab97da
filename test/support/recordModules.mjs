// `node --import tsx --import ./test/support/recordModules.mjs SCRIPT`: records the URL of
// every module the process resolves (ESM imports, static and dynamic) in
// globalThis.__loadedModules, so a test can assert what a process really loaded.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
globalThis.__loadedModules = [];
port1.on('message', (url) => globalThis.__loadedModules.push(url));
port1.unref();
register('./recordModulesHooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
