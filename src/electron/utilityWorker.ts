// The ML worker as Electron's utilityProcess (the built src/worker/main.ts), behind the same
// spawner interface as the Node child process used in browser mode and headless.
import { utilityProcess } from 'electron';
import type { FromWorker } from '../shared/jobs';
import type { WorkerSpawner } from '../main/jobs/workerProcess';

export function utilityWorkerSpawner(entry: string): WorkerSpawner {
  return (events) => {
    const child = utilityProcess.fork(entry, [], { stdio: 'pipe', serviceName: 'CytoTune ML worker' });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-4000);
    });
    child.on('message', (m) => events.onMessage(m as FromWorker));
    child.on('exit', (code) => events.onExit(`exited with code ${code}`, stderr.trim()));
    return {
      send: (m) => child.postMessage(m),
      kill: () => void child.kill(),
      get pid() {
        return child.pid;
      },
    };
  };
}
