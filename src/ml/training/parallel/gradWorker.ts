// Entry of a gradient worker process (started by gradientPool.ts). One tfjs backend, one frozen
// encoder loaded from its own source, one request at a time. Errors go back as values with a
// kind; after a wasm heap abort the worker reports it and exits (that instance cannot run again).
import { selectBackend } from '../../backend/selectBackend';
import { LoraReplica } from './loraReplica';
import type { FromWorker, ToWorker } from './protocol';
import { peakRssBytes } from './rss';

let replica: LoraReplica | null = null;

function send(m: FromWorker): void {
  process.send?.(m);
}

/** A wasm heap exhaustion surfaces as one of these; the wasm instance is unusable afterwards. */
const OUT_OF_HEAP = /Aborted\(\)|memory access out of bounds|Cannot enlarge memory/;

function failure(err: unknown, id?: number): FromWorker {
  const e = err as Error & { kind?: string };
  const message = e.message ?? String(err);
  if (OUT_OF_HEAP.test(message)) {
    return {
      type: 'error',
      id,
      kind: 'training-worker-out-of-memory',
      message: `a training worker ran out of its 4 GiB wasm heap (${message.split('\n')[0]}); lower the micro-batch size`,
    };
  }
  return { type: 'error', id, kind: e.kind ?? 'internal', message };
}

process.on('message', async (raw) => {
  const m = raw as ToWorker;
  if (m.type === 'exit') {
    replica?.dispose();
    process.exit(0);
  }
  if (m.type === 'init') {
    try {
      // Each worker gets its share of the cores for BLAS matMuls (the others run the other workers).
      const choice = await selectBackend({ only: m.backend, blasThreads: m.blasThreads });
      replica = new LoraReplica(m);
      send({ type: 'ready', pid: process.pid, backend: choice.backend });
    } catch (err) {
      send(failure(err));
    }
    return;
  }
  if (m.type === 'grads') {
    if (!replica) return send({ type: 'error', id: m.id, kind: 'internal', message: 'gradient request before init' });
    const t0 = performance.now();
    try {
      const r = replica.grads(m);
      send({ type: 'grads', id: m.id, ...r, peakRssBytes: peakRssBytes(), seconds: (performance.now() - t0) / 1000 });
    } catch (err) {
      const f = failure(err, m.id);
      // After a heap abort this wasm instance cannot run again: report, then leave.
      if (f.type === 'error' && f.kind === 'training-worker-out-of-memory') process.send?.(f, () => process.exit(1));
      else send(f);
    }
  }
});

send({ type: 'up' });

// The parent going away (crash, SIGKILL) closes the channel: do not linger as an orphan.
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group: the trainer finishes its step, saves a
// checkpoint and then stops its workers, so they must not die on the signal mid-step.
process.on('SIGINT', () => {});
