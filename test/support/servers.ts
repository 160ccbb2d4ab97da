import { hostname } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { ApiClient } from '../../src/shared/api';
import { createHttpClient, type HttpApiClient } from '../../src/shared/httpClient';
import { createInProcessClient } from '../../src/main/api/inProcessClient';
import { Workspace } from '../../src/main/api/workspace';
import { startServer, type RunningServer } from '../../src/main/server/httpServer';
import type { WorkerEvents, WorkerSpawner } from '../../src/main/jobs/workerProcess';
import type { JobOutcome, JobStart, PatchPrediction, ToWorker, TrainJobSpec, WorkerProgress } from '../../src/shared/jobs';
import { Lab } from '../../src/main/lab/lab';
import { installQueues } from '../../src/main/lab/labJobs';
import { repoRoot, tempDir } from './paths';
import type { PgCluster } from './postgres';

export interface Harness {
  name: string;
  client: ApiClient;
  workspace: Workspace;
  server?: RunningServer;
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function inProcess(): Harness {
  const workspace = new Workspace();
  return {
    name: 'in-process core',
    client: createInProcessClient(workspace),
    workspace,
    ready: async () => {},
    close: async () => workspace.close(),
  };
}

export async function overHttp(projectPath?: string, options: HarnessOptions = {}): Promise<Harness> {
  const workspace = new Workspace({ projectPath, spawnWorker: options.spawnWorker });
  const server = await startServer({ workspace, rendererDir: join(repoRoot, 'out/renderer') });
  const client = createHttpClient({
    baseUrl: `http://127.0.0.1:${server.port}`,
    token: server.token,
    openSocket: (url) => new WebSocket(url) as never,
  });
  return {
    name: 'HTTP + WebSocket',
    client,
    workspace,
    server,
    ready: () => client.eventsReady(),
    close: async () => {
      client.close();
      await server.close();
      workspace.close();
    },
  };
}

/** A lab user's workstation: the HTTP/WebSocket client of a lab server over a fresh lab database. */
export interface LabHarness extends Harness {
  lab: Lab;
  /** Another workstation of the same lab, as user `name`. */
  clientAs(name: string): HttpApiClient;
}

export async function labOverHttp(cluster: PgCluster, options: HarnessOptions = {}): Promise<LabHarness> {
  const url = await cluster.createDatabase();
  const lab = Lab.init(url, { dataDir: tempDir('cytotune-lab-'), slideRoot: null });
  await installQueues(url);
  const workspace = new Workspace({ lab, spawnWorker: options.spawnWorker });
  const server = await startServer({
    workspace,
    rendererDir: join(repoRoot, 'out/renderer'),
    authenticate: (token) => lab.userForToken(token),
  });
  const clients: HttpApiClient[] = [];
  const clientAs = (name: string) => {
    const client = createHttpClient({
      baseUrl: `http://127.0.0.1:${server.port}`,
      token: lab.addUser(name),
      openSocket: (url) => new WebSocket(url) as never,
    });
    clients.push(client);
    return client;
  };
  const client = clientAs('ana');
  return {
    name: 'lab project (PostgreSQL)',
    client,
    workspace,
    server,
    lab,
    clientAs,
    ready: () => client.eventsReady(),
    close: async () => {
      clients.forEach((c) => c.close());
      await server.close();
      workspace.close();
      lab.close();
    },
  };
}

/** Options of the workspace behind a harness (a scripted worker instead of the real one). */
export interface HarnessOptions {
  spawnWorker?: WorkerSpawner;
}

/** A job the scripted worker was asked to start. */
export interface StartedJob {
  jobId: string;
  job: JobStart;
}

/**
 * A stand-in for the ML worker process that the test drives: it records every job it is asked
 * to start and sends exactly the progress, results, errors and crashes the test asks for, so UI
 * tests can hold a run in any state (training, cancelling, crashed) as long as they need.
 * A cancel is answered after `cancelDelayMs` with the worker's "Cancelled at step N." error.
 * Speed checks (the Train screen starts one by itself) are answered at once with
 * `speedImagesPerSecond` and not counted among the started jobs the test drives.
 */
export class ScriptedWorker {
  readonly started: StartedJob[] = [];
  readonly cancels: string[] = [];
  cancelDelayMs = 1500;
  speedImagesPerSecond = 20;
  private events: WorkerEvents | null = null;
  private waiters: (() => void)[] = [];
  private lastStep = new Map<string, number>();

  readonly spawner: WorkerSpawner = (events) => {
    this.events = events;
    setTimeout(() => events.onMessage({ type: 'ready', pid: 4242 }), 10);
    let alive = true;
    return {
      pid: 4242,
      kill: () => {
        alive = false;
      },
      send: (m: ToWorker) => {
        if (!alive) return;
        if (m.type === 'start' && m.job.kind === 'speed') {
          const { modelId, settings } = m.job.spec;
          const result = { modelId, method: settings.method ?? 'lora', imagesPerSecond: this.speedImagesPerSecond, images: 16 };
          const outcome: JobOutcome = {
            kind: 'speed',
            result: { ...result, seconds: 16 / result.imagesPerSecond, host: hostname(), backend: 'wasm' },
          };
          setTimeout(() => alive && events.onMessage({ type: 'result', jobId: m.jobId, outcome }), 10);
        } else if (m.type === 'start') {
          this.started.push({ jobId: m.jobId, job: m.job });
          this.waiters.splice(0).forEach((w) => w());
        } else {
          this.cancels.push(m.jobId);
          setTimeout(() => {
            if (!alive) return;
            const step = this.lastStep.get(m.jobId) ?? 0;
            events.onMessage({ type: 'error', jobId: m.jobId, error: { kind: 'cancelled', message: `Cancelled at step ${step}.` } });
          }, this.cancelDelayMs);
        }
      },
    };
  };

  /** Resolves with the n-th started job (1-based) once the job manager has sent it. */
  async nthStart(n: number, timeoutMs = 30_000): Promise<StartedJob> {
    const end = Date.now() + timeoutMs;
    while (this.started.length < n) {
      if (Date.now() > end) throw new Error(`the scripted worker got ${this.started.length} jobs, expected ${n}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.started[n - 1];
  }

  progress(jobId: string, progress: WorkerProgress): void {
    this.lastStep.set(jobId, progress.step);
    this.events!.onMessage({ type: 'progress', jobId, progress });
  }

  /** Training progress for each step of `steps` (loss `loss`, constant learning rate). */
  trainSteps(jobId: string, steps: number[], total: number, loss: number): void {
    for (const step of steps)
      this.progress(jobId, {
        step,
        total,
        phase: 'training',
        loss,
        lr: 1e-3,
        accuracy: 0.5,
        imagesPerSecond: 12,
        etaSeconds: total - step,
      });
  }

  /** A classify job's next chunk of predictions (main stores each in one transaction). */
  predictions(jobId: string, predictions: PatchPrediction[]): void {
    this.events!.onMessage({ type: 'predictions', jobId, predictions });
  }

  result(jobId: string, outcome: JobOutcome): void {
    this.events!.onMessage({ type: 'result', jobId, outcome });
  }

  /** The worker process dies (as a SIGKILL or an out-of-memory kill would end it). */
  crash(): void {
    const events = this.events!;
    this.events = null;
    events.onExit('killed by SIGKILL', '');
  }
}

/** A completed training job's result for `spec`: every validation label predicted as `predict(label)`. */
export function trainResult(spec: TrainJobSpec, steps: number, predict: (label: number) => number = (l) => l): JobOutcome {
  const n = spec.classNames.length;
  const validation = spec.val.map((v) => ({ key: v.key, label: v.label, predicted: predict(v.label) }));
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const v of validation) confusion[v.label][v.predicted]++;
  const right = validation.filter((v) => v.label === v.predicted).length;
  const val = {
    count: validation.length,
    top1: validation.length ? right / validation.length : 0,
    balancedAccuracy: validation.length ? right / validation.length : 0,
    perClassRecall: new Array(n).fill(null),
    confusion,
    loss: null,
  };
  return {
    kind: 'train',
    result: {
      status: 'completed',
      runDir: spec.runDir,
      steps,
      validation,
      metrics: {
        classNames: spec.classNames,
        steps,
        seconds: 12,
        finalTrainLoss: 0.3,
        trainableParameters: 1090,
        train: val,
        val,
        test: null,
        valPredicted: validation.map((v) => v.predicted),
      },
    },
  };
}
