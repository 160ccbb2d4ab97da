// The one Port the worker talks through, whether it runs as Electron's utilityProcess
// (process.parentPort) or as a plain Node child process (process.send / 'message').
import type { FromWorker, ToWorker } from '../shared/jobs';

export interface Port {
  send(message: FromWorker): void;
  onMessage(listener: (message: ToWorker) => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

export function processPort(): Port {
  const parentPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (m) => parentPort.postMessage(m),
      onMessage: (listener) => parentPort.on('message', (e) => listener(e.data as ToWorker)),
    };
  }
  if (!process.send) throw new Error('The ML worker must be started by CytoTune (no IPC channel to a parent).');
  // The parent is gone (killed with -9, say): nobody can take this job's results, and a lab
  // retries it on another worker from its checkpoint, which this process must not race on.
  process.once('disconnect', () => process.exit(1));
  return {
    send: (m) => process.send!(m),
    onMessage: (listener) => process.on('message', (m) => listener(m as ToWorker)),
  };
}
