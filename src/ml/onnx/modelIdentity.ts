// Content hashes of what a trained model adds to its base (LoRA factors, head), so cached ONNX
// graphs are keyed by values and a retrained adapter never reuses a stale export.
import { createHash } from 'node:crypto';
import type * as tf from '@tensorflow/tfjs-core';
import type { LoraAdapter } from '../adapters/loraAdapter';
import type { LinearHead } from '../adapters/linearHead';

function hashTensors(label: string, meta: unknown, tensors: tf.Tensor[]): string {
  const h = createHash('sha256').update(label).update(JSON.stringify(meta));
  for (const t of tensors) {
    const d = t.dataSync() as Float32Array;
    h.update(JSON.stringify(t.shape)).update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}

export function adapterHash(adapter: LoraAdapter): string {
  const layers = [...adapter.layers.values()];
  return hashTensors(
    'lora',
    { spec: adapter.spec, layers: layers.map((l) => [l.block, l.name]) },
    layers.flatMap((l) => [l.aT, l.bT]),
  );
}

export function headHash(head: LinearHead): string {
  return hashTensors('head', { inputDim: head.inputDim, numClasses: head.numClasses }, [head.w, head.b]);
}
