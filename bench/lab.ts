// A lab under load: label writes per second and job dispatch latency with 10 simulated
// workstations, on a throwaway PostgreSQL cluster (test/support/postgres.ts).
//   node --import tsx bench/lab.ts [--clients 10] [--seconds 8] [--jobs 40]
// Writes: each client is a lab user with its own HTTP client of one lab server, creating labels
// back to back; a write counts once the server answered (PostgreSQL committed). Dispatch: jobs
// queued through the lab project's LabJobQueue while the clients write, taken by two lab workers
// (startLabWorker) whose ML process is a stand-in that answers at once, so the figure is the
// queue's: from the commit of the queued job to the worker's ML process being told to start it.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres } from '../test/support/postgres';
import { labOverHttp } from '../test/support/servers';
import { herlevDir, repoRoot } from '../test/support/paths';
import { startLabWorker } from '../src/main/lab/labWorker';
import type { WorkerSpawner } from '../src/main/jobs/workerProcess';
import type { JobOutcome } from '../src/shared/jobs';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : def);
const CLIENTS = opt('--clients', 10);
const SECONDS = opt('--seconds', 8);
const JOBS = opt('--jobs', 40);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

const cluster = startPostgres();
try {
  const h = await labOverHttp(cluster);
  await h.client.call('project:create', { path: 'bench' });
  await h.client.call('import:run', { paths: [join(herlevDir, 'normal_columnar')] });
  const [image] = await h.client.call('images:list', { limit: 1 });
  const cls = await h.client.call('classes:create', { name: 'Abnormal' });

  // Two workers whose ML process answers every job at once: what is measured is the queue.
  const started = new Map<string, number>();
  const standIn: WorkerSpawner = (events) => {
    setTimeout(() => events.onMessage({ type: 'ready', pid: process.pid }), 0);
    return {
      pid: process.pid,
      kill: () => {},
      send: (m) => {
        if (m.type !== 'start') return;
        started.set(m.jobId, performance.now());
        const outcome = { kind: 'experiment', result: {} } as unknown as JobOutcome;
        setImmediate(() => events.onMessage({ type: 'result', jobId: m.jobId, outcome }));
      },
    };
  };
  const workers = [
    await startLabWorker({ url: h.lab.url, name: 'bench-w1', spawn: standIn }),
    await startLabWorker({ url: h.lab.url, name: 'bench-w2', spawn: standIn }),
  ];
  const compute = h.workspace.requireCompute();

  const clients = Array.from({ length: CLIENTS }, (_, i) => (i === 0 ? h.client : h.clientAs(`user${i}`)));
  const latencies: number[] = [];
  let writes = 0;
  const end = performance.now() + SECONDS * 1000;
  const writer = async (client: (typeof clients)[number], i: number) => {
    for (let n = 0; performance.now() < end; n++) {
      const t0 = performance.now();
      await client.call('annotations:create', { imageId: image.id, classId: cls.id, box: { x: (n + i) % 20, y: 1, w: 8, h: 8 } });
      latencies.push(performance.now() - t0);
      writes++;
    }
  };
  const queued = new Map<number, number>();
  const submitter = async () => {
    for (let j = 0; j < JOBS; j++) {
      const job = compute.jobs.submit({ kind: 'experiment', spec: { options: {} as never } }, null);
      queued.set(job.id, performance.now());
      await new Promise((r) => setTimeout(r, (SECONDS * 1000) / JOBS));
    }
  };
  const t0 = performance.now();
  await Promise.all([...clients.map(writer), submitter()]);
  const elapsed = (performance.now() - t0) / 1000;
  const deadline = performance.now() + 30_000;
  while (started.size < queued.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const dispatch = [...queued].filter(([id]) => started.has(String(id))).map(([id, t]) => started.get(String(id))! - t);
  const rows = (await h.client.call('annotations:list', { imageId: image.id })).length;

  const result = {
    clients: CLIENTS,
    seconds: Math.round(elapsed * 10) / 10,
    labelWrites: writes,
    labelRows: rows,
    labelWritesPerSecond: Math.round(writes / elapsed),
    writeLatencyMs: { p50: Math.round(quantile(latencies, 0.5) * 10) / 10, p95: Math.round(quantile(latencies, 0.95) * 10) / 10 },
    jobs: queued.size,
    jobsDispatched: dispatch.length,
    dispatchLatencyMs: {
      p50: Math.round(quantile(dispatch, 0.5)),
      p95: Math.round(quantile(dispatch, 0.95)),
      max: Math.round(Math.max(...dispatch)),
    },
    note: 'lab server, 2 workers and PostgreSQL on one machine; workers poll pg-boss every 0.5 s',
  };
  console.table({
    'label writes/s': result.labelWritesPerSecond,
    'write p50 ms': result.writeLatencyMs.p50,
    'write p95 ms': result.writeLatencyMs.p95,
    'acks = rows': writes === rows,
    'dispatch p50 ms': result.dispatchLatencyMs.p50,
    'dispatch p95 ms': result.dispatchLatencyMs.p95,
  });
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench/results/lab.json'), JSON.stringify(result, null, 2) + '\n');
  for (const w of workers) await w.stop();
  await h.close();
} finally {
  cluster.stop();
}
