// Keeps the engine busy: while batch b runs through the engine, the next batches are read and
// preprocessed into the other slots of a small ring of preallocated buffers. Batch b lives in
// slot b % slots; a slot is filled again only after the engine has finished with the batch in it
// (ONNX Runtime reads its input until `run` resolves), so no batch buffer is allocated per batch
// and none is overwritten while in use.
//
//   slots = 2:  fill 0 | fill 1 ......... | fill 2 (slot 0) ...
//                      | infer 0 (slot 0) | infer 1 (slot 1) | infer 2 (slot 0)
export interface OverlapOptions<R> {
  batches: number;
  /** Ring size, >= 2: how many batches may be filled ahead of the one the engine runs, plus one. */
  slots: number;
  /** Writes batch `batch` into slot `slot`. Several fills may run at once (in different slots). */
  fill(slot: number, batch: number): Promise<void>;
  /** Runs the batch in `slot` through the engine; one at a time, in batch order. */
  infer(slot: number, batch: number): Promise<R>;
  /** Each batch's result, in batch order, after its slot was handed back to the fills. */
  onResult(batch: number, result: R): void | Promise<void>;
  /** Checked before each batch: aborting throws an AbortError once the running batch is done. */
  signal?: AbortSignal;
}

/** Where the time went: the engine running, and the engine waiting for a batch to be filled. */
export interface OverlapTimes {
  inferSeconds: number;
  waitSeconds: number;
}

export async function runOverlapped<R>(o: OverlapOptions<R>): Promise<OverlapTimes> {
  if (!(Number.isInteger(o.slots) && o.slots >= 2)) throw new Error(`runOverlapped: slots must be an integer >= 2, got ${o.slots}`);
  const fills = new Map<number, Promise<void>>();
  let next = 0;
  let released = 0;
  const times: OverlapTimes = { inferSeconds: 0, waitSeconds: 0 };
  // Starts every fill whose slot is free: batch f may use slot f % slots once batch f - slots is done.
  const topUp = () => {
    for (; next < o.batches && next < released + o.slots; next++) {
      const p = o.fill(next % o.slots, next);
      p.catch(() => {}); // observed when awaited below; never an unhandled rejection meanwhile
      fills.set(next, p);
    }
  };
  try {
    topUp();
    for (let b = 0; b < o.batches; b++) {
      if (o.signal?.aborted) throw new DOMException('inference cancelled', 'AbortError');
      let t = performance.now();
      await fills.get(b);
      fills.delete(b);
      times.waitSeconds += (performance.now() - t) / 1000;
      t = performance.now();
      const result = await o.infer(b % o.slots, b);
      times.inferSeconds += (performance.now() - t) / 1000;
      released = b + 1;
      topUp();
      await o.onResult(b, result);
    }
    return times;
  } finally {
    // Nothing may still be writing into the buffers when the caller reuses or frees them.
    await Promise.allSettled(fills.values());
  }
}
