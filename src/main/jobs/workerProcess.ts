// Starts the ML worker as a separate process and watches it. In Electron the shell passes
// a spawner for utilityProcess; headless and browser mode use a Node child process that
// runs the TypeScript entry through tsx. The last lines of its error output are kept, so
// a crash can be reported with its reason.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FromWorker, ToWorker } from '../../shared/jobs';
import { repoRoot } from '../paths';

export interface WorkerHandle {
  send(message: ToWorker): void;
  kill(): void;
  readonly pid: number | undefined;
}

export interface WorkerEvents {
  onMessage(message: FromWorker): void;
  /** The process ended; `reason` names the exit code or signal. */
  onExit(reason: string, stderrTail: string): void;
}

export type WorkerSpawner = (events: WorkerEvents) => WorkerHandle;

const tailBytes = 4000;

export const nodeWorkerSpawner: WorkerSpawner = (events) => {
  const child: ChildProcess = fork(join(repoRoot, 'src/worker/main.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, CYTOTUNE_WORKER: '1' },
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-tailBytes);
  });
  child.on('message', (m) => events.onMessage(m as FromWorker));
  child.on('exit', (code, signal) => events.onExit(signal ? `killed by ${signal}` : `exited with code ${code}`, stderr.trim()));
  child.on('error', (err) => events.onExit(`could not start: ${err.message}`, stderr.trim()));
  return {
    send: (m) => child.connected && child.send(m),
    kill: () => child.kill('SIGKILL'),
    get pid() {
      return child.pid;
    },
  };
};
