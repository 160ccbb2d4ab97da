// The ring of batch slots behind batch classification: fills run while the engine runs, a slot
// is never refilled while the engine reads it, results come in batch order, and cancelling or a
// failed fill stops the loop only after every fill in flight has settled.
import { describe, expect, it } from 'vitest';
import { runOverlapped } from '../../../../src/ml/inference/overlapQueue';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake engine and filler over `slots` shared arrays that record who touches what, and when. */
function harness(slots: number, fillMs = 5, inferMs = 10) {
  const slotOwner: (number | null)[] = new Array(slots).fill(null); // batch the engine reads now
  const content: number[] = new Array(slots).fill(-1); // batch each slot holds
  const log: string[] = [];
  let filling = 0;
  let maxOverlap = 0;
  return {
    log,
    get maxOverlap() {
      return maxOverlap;
    },
    fill: async (slot: number, batch: number) => {
      if (slotOwner[slot] !== null) throw new Error(`slot ${slot} refilled while batch ${slotOwner[slot]} runs`);
      filling++;
      log.push(`fill ${batch}`);
      await tick(fillMs);
      content[slot] = batch;
      filling--;
    },
    infer: async (slot: number, batch: number) => {
      if (content[slot] !== batch) throw new Error(`batch ${batch} found slot ${slot} holding ${content[slot]}`);
      slotOwner[slot] = batch;
      maxOverlap = Math.max(maxOverlap, filling);
      await tick(inferMs);
      // The slot must still hold this batch when the engine is done reading it.
      if (content[slot] !== batch) throw new Error(`slot ${slot} overwritten during batch ${batch}`);
      slotOwner[slot] = null;
      return batch * 10;
    },
  };
}

describe('runOverlapped', () => {
  it.each([2, 3])('with %i slots: every batch once, in order, fills overlapping the engine, no slot reused early', async (slots) => {
    const h = harness(slots);
    const results: [number, number][] = [];
    const times = await runOverlapped({ batches: 9, slots, fill: h.fill, infer: h.infer, onResult: (b, r) => void results.push([b, r]) });
    // The engine ran 9 x 10 ms; it waited only for the first fill, the rest were ready in time.
    expect(times.inferSeconds).toBeGreaterThanOrEqual(0.085);
    expect(times.waitSeconds).toBeLessThan(times.inferSeconds / 2);
    expect(results).toEqual(Array.from({ length: 9 }, (_, b) => [b, b * 10]));
    expect(h.log.filter((l) => l.startsWith('fill'))).toHaveLength(9);
    // The next batch was being prepared while the engine ran one.
    expect(h.maxOverlap).toBeGreaterThanOrEqual(1);
  });

  it('fills ahead by at most slots - 1 batches', async () => {
    const started: number[] = [];
    const inferred: number[] = [];
    await runOverlapped({
      batches: 6,
      slots: 3,
      fill: async (_slot, b) => {
        // Batch b may start only once batch b - 3 (the slot's previous tenant) is done.
        started.push(b);
        expect(b - inferred.length).toBeLessThan(3);
      },
      infer: async (_slot, b) => {
        await tick(2);
        inferred.push(b);
        return b;
      },
      onResult: () => {},
    });
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('zero batches: nothing runs', async () => {
    const h = harness(2);
    await runOverlapped({ batches: 0, slots: 2, fill: h.fill, infer: h.infer, onResult: () => expect.unreachable() });
    expect(h.log).toEqual([]);
  });

  it('cancelling stops before the next batch and waits for the fills in flight', async () => {
    const controller = new AbortController();
    let fillsRunning = 0;
    const done: number[] = [];
    const run = runOverlapped({
      batches: 20,
      slots: 3,
      signal: controller.signal,
      fill: async () => {
        fillsRunning++;
        await tick(15);
        fillsRunning--;
      },
      infer: async (_s, b) => b,
      onResult: (b) => {
        done.push(b);
        if (b === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(done).toEqual([0, 1, 2]);
    expect(fillsRunning).toBe(0);
  });

  it('a failed fill fails the loop with its error, after the other fills settled', async () => {
    let fillsRunning = 0;
    const run = runOverlapped({
      batches: 5,
      slots: 3,
      fill: async (_s, b) => {
        fillsRunning++;
        await tick(b === 1 ? 1 : 20);
        fillsRunning--;
        if (b === 1) throw Object.assign(new Error('label 7 (a.tiff): unreadable'), { kind: 'invalid-input' });
      },
      infer: async (_s, b) => b,
      onResult: () => {},
    });
    await expect(run).rejects.toMatchObject({ kind: 'invalid-input', message: 'label 7 (a.tiff): unreadable' });
    expect(fillsRunning).toBe(0);
  });

  it('refuses a ring of one slot (the engine and the fill would share it)', async () => {
    await expect(runOverlapped({ batches: 1, slots: 1, fill: async () => {}, infer: async () => 0, onResult: () => {} })).rejects.toThrow(
      /slots must be an integer >= 2/,
    );
  });
});
