// A worker_threads Worker whose entry may be TypeScript source. A built .js entry runs as it is;
// a .ts entry (development and tests, where the app runs under tsx) loads through tsx's ESM
// loader, registered inside the thread: Node 20 does not apply the parent's `--import tsx` to
// workers. Used by the threads that read slides beside the main loop and the engine (the cell
// preview's detector, batch classification's preprocessing).
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorkerThread(entry: string, options: WorkerOptions = {}): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry, options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const url = JSON.stringify(pathToFileURL(entry).href);
  return new Worker(`import(${tsx}).then((m) => { m.register(); return import(${url}); });`, { ...options, eval: true });
}
