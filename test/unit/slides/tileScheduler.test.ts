import { describe, expect, it } from 'vitest';
import { TileAbortedError, TileScheduler } from '../../../src/slides/tileScheduler';

/** A task that runs only when released, recording that it started. */
function gate(log: string[], name: string) {
  let release!: (v: string) => void;
  const done = new Promise<string>((r) => (release = r));
  return {
    task: () => {
      log.push(name);
      return done;
    },
    release: () => release(name),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('TileScheduler', () => {
  it('runs at most `concurrency` renders, requests before guesses, in order', async () => {
    const log: string[] = [];
    const q = new TileScheduler({ concurrency: 2 });
    const g = Object.fromEntries(['a', 'b', 'guess', 'c'].map((n) => [n, gate(log, n)]));
    const a = q.run('a', g.a.task);
    const b = q.run('b', g.b.task);
    q.speculate('guess', g.guess.task);
    const c = q.run('c', g.c.task);
    await tick();
    expect(log).toEqual(['a', 'b']);
    expect(q.stats()).toMatchObject({ running: 2, queued: 1, speculativeQueued: 1 });
    g.a.release();
    await a;
    await tick();
    expect(log).toEqual(['a', 'b', 'c']);
    g.b.release();
    g.c.release();
    await Promise.all([b, c]);
    await tick();
    expect(log).toEqual(['a', 'b', 'c', 'guess']);
    g.guess.release();
  });

  it('drops an abandoned request before it starts: its task never runs', async () => {
    const log: string[] = [];
    const q = new TileScheduler({ concurrency: 1 });
    const busy = gate(log, 'busy');
    const queued = gate(log, 'queued');
    const first = q.run('busy', busy.task);
    const viewer = new AbortController();
    const abandoned = q.run('queued', queued.task, viewer.signal);
    viewer.abort();
    await expect(abandoned).rejects.toBeInstanceOf(TileAbortedError);
    expect(q.stats()).toMatchObject({ queued: 0, dropped: 1 });
    expect(q.has('queued')).toBe(false);
    busy.release();
    await first;
    await tick();
    expect(log).toEqual(['busy']);
    // An already aborted signal never queues anything.
    await expect(q.run('late', queued.task, AbortSignal.abort())).rejects.toBeInstanceOf(TileAbortedError);
    expect(log).toEqual(['busy']);
  });

  it('keeps a shared render while another requester still waits, and finishes a started one', async () => {
    const log: string[] = [];
    const q = new TileScheduler({ concurrency: 1 });
    const busy = gate(log, 'busy');
    const shared = gate(log, 'shared');
    const first = q.run('busy', busy.task);
    const gone = new AbortController();
    const leaving = q.run('shared', shared.task, gone.signal);
    const staying = q.run('shared', shared.task);
    gone.abort();
    await expect(leaving).rejects.toBeInstanceOf(TileAbortedError);
    busy.release();
    await first;
    await tick();
    shared.release();
    await expect(staying).resolves.toBe('shared');
    expect(log).toEqual(['busy', 'shared']);

    // Abandoned after it started: the requester is answered at once, the render runs to the end.
    const running = gate(log, 'running');
    const client = new AbortController();
    const p = q.run('running', running.task, client.signal);
    await tick();
    client.abort();
    await expect(p).rejects.toBeInstanceOf(TileAbortedError);
    expect(q.stats().running).toBe(1);
    running.release();
    await tick();
    expect(q.stats()).toMatchObject({ running: 0, dropped: 0 });
  });

  it('a request promotes a queued guess; old guesses are dropped beyond the cap', async () => {
    const log: string[] = [];
    const q = new TileScheduler({ concurrency: 1, maxSpeculative: 2 });
    const busy = gate(log, 'busy');
    const first = q.run('busy', busy.task);
    const guesses = ['g1', 'g2', 'g3'].map((n) => gate(log, n));
    guesses.forEach((g, i) => expect(q.speculate(`g${i + 1}`, g.task)).toBe(true));
    expect(q.stats()).toMatchObject({ speculativeQueued: 2, dropped: 1 });
    expect(q.has('g1')).toBe(false);
    expect(q.speculate('g2', guesses[1].task)).toBe(false);
    expect(q.speculate('g4', guesses[2].task, { ifRoom: true })).toBe(false);
    const wanted = q.run('g3', guesses[2].task);
    expect(q.stats()).toMatchObject({ queued: 1, speculativeQueued: 1 });
    busy.release();
    await first;
    await tick();
    expect(log).toEqual(['busy', 'g3']);
    guesses[2].release();
    await expect(wanted).resolves.toBe('g3');
    await tick();
    expect(log).toEqual(['busy', 'g3', 'g2']);
    guesses[1].release();
  });

  it('cancelQueued answers every waiting requester and runs nothing more', async () => {
    const log: string[] = [];
    const q = new TileScheduler({ concurrency: 1 });
    const busy = gate(log, 'busy');
    const first = q.run('busy', busy.task);
    const waiting = q.run('w', gate(log, 'w').task);
    q.speculate('s', gate(log, 's').task);
    q.cancelQueued();
    await expect(waiting).rejects.toBeInstanceOf(TileAbortedError);
    busy.release();
    await first;
    await tick();
    expect(log).toEqual(['busy']);
    expect(q.stats()).toMatchObject({ queued: 0, speculativeQueued: 0, dropped: 2 });
  });
});
