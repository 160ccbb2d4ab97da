// A PostgreSQL connection that answers synchronously, so the repositories (written for
// better-sqlite3's synchronous API) run unchanged on a lab project. The pg client lives in a
// worker thread; each query is posted to it and this thread blocks on Atomics.wait until the
// answer is posted back (what synckit does, in 60 lines and without a loader for the worker's
// source). One connection per project: the transaction state is that connection's.
//
// Blocking the event loop is the price of keeping one synchronous core: a query over the lab's
// socket takes ~0.1-1 ms, the same order as a SQLite write with its fsync.
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

export interface QueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** An error PostgreSQL reported, with its SQLSTATE (23505 unique violation, P0001 a trigger's RAISE...). */
export class PgError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'PgError';
  }
}

// The worker's source: plain CommonJS evaluated by Node, so it runs the same under tsx, vitest
// and the esbuild bundle. bigint and numeric come back as numbers (COUNT(*) is bigint in
// PostgreSQL, an integer in SQLite; ids and counts stay far below 2^53).
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { Client, types } = require(workerData.pgPath);
types.setTypeParser(20, Number);
types.setTypeParser(1700, Number);
const { port, flag, url } = workerData;
const client = new Client({ connectionString: url, application_name: workerData.name });
let broken = null;
client.on('error', (e) => { broken = e; });
const ready = client.connect();
const reply = (message) => { port.postMessage(message); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
port.on('message', async (m) => {
  if (m.close) { try { await client.end(); } catch {} reply({ ok: true, rows: [], rowCount: 0 }); return; }
  try {
    await ready;
    if (broken) throw broken;
    const values = m.params && m.params.map((v) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
    const r = await client.query(values ? { text: m.sql, values } : m.sql);
    const last = Array.isArray(r) ? r[r.length - 1] : r;
    reply({ ok: true, rows: (last && last.rows) || [], rowCount: (last && last.rowCount) || 0 });
  } catch (e) {
    reply({ ok: false, message: e.message, code: e.code || 'CONNECTION', detail: e.detail });
  }
});
`;

export class SyncPgClient {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private closed = false;

  constructor(
    url: string,
    private readonly timeoutMs = 60_000,
    name = 'cytotune',
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const pgPath = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: port2, flag: this.flag, url, pgPath, name },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
  }

  /** Runs one statement (with `$n` parameters) or, without params, a script of several. */
  query(sql: string, params?: readonly unknown[]): QueryResult {
    if (this.closed) throw new PgError('The lab connection is closed.', 'CLOSED');
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ sql, params: params ? [...params] : undefined });
    if (Atomics.wait(this.flag, 0, 0, this.timeoutMs) === 'timed-out') {
      throw new PgError(`The lab database did not answer within ${this.timeoutMs / 1000} s.`, 'TIMEOUT');
    }
    const answer = receiveMessageOnPort(this.port)?.message as
      | { ok: true; rows: Record<string, unknown>[]; rowCount: number }
      | { ok: false; message: string; code: string; detail?: string }
      | undefined;
    if (!answer) throw new PgError('The lab connection dropped an answer.', 'CONNECTION');
    if (!answer.ok) throw new PgError(answer.message, answer.code, answer.detail);
    for (const row of answer.rows)
      for (const [k, v] of Object.entries(row)) if (v instanceof Uint8Array) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    return { rows: answer.rows, rowCount: answer.rowCount };
  }

  close(): void {
    if (this.closed) return;
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage({ close: true });
    Atomics.wait(this.flag, 0, 0, 5000);
    receiveMessageOnPort(this.port);
    this.closed = true;
    this.port.close();
    void this.worker.terminate();
  }
}
