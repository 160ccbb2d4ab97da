// A preprocessing thread of batch classification (prepPool.ts): fills its share of a batch slot,
// a SharedArrayBuffer the job's thread hands to the engine once every share is in.
import { parentPort, workerData } from 'node:worker_threads';
import type { PipelineOptions } from '../data/imagePipeline';
import { PatchPreparer } from './patchPrep';
import type { PrepReply, PrepRequest } from './prepPool';

const init = workerData as { pipeline: PipelineOptions; slots: SharedArrayBuffer[] };
const slots = init.slots.map((b) => new Float32Array(b));
const preparer = new PatchPreparer(init.pipeline);
const port = parentPort!;

port.on('message', async (m: PrepRequest) => {
  if (m.type === 'close') {
    await preparer.close();
    port.close();
    return;
  }
  let reply: PrepReply;
  try {
    await preparer.prepare(m.items, slots[m.slot], m.first);
    reply = { type: 'filled', id: m.id };
  } catch (err) {
    const e = err as Error & { kind?: string };
    reply = { type: 'failed', id: m.id, message: e.message ?? String(err), kind: e.kind };
  }
  port.postMessage(reply);
});
