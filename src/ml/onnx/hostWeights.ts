// Host (Float32Array) views of what the ONNX exporter needs: the encoder's weights in our
// [in, out] layout, LoRA-merged projections (W' = W + s (BA)^T, the same tfjs maths as
// MergedLora), and the linear head. Encoder weights are read lazily, one tensor at a time while
// the graph is written (on wasm each read is a copy out of the heap; reading all at once would
// hold a second copy of a 1.2 GB ViT-L), so the encoder and adapter must outlive the write.
// The exporter itself stays free of tfjs.
import * as tf from '@tensorflow/tfjs-core';
import { mergeDense } from '../adapters/merge';
import type { LoraAdapter } from '../adapters/loraAdapter';
import { layerKey } from '../adapters/loraConfig';
import type { Dense } from '../models/encoder';
import type { LayerNormWeights } from '../models/layers';
import type { VitEncoder, VitWeights } from '../models/vit';
import type { LinearHead } from '../adapters/linearHead';
import type { F32Source } from './onnxProto';

export type { F32Source };

/** The data of a source (reads it now if it is lazy). */
export function readSource(s: F32Source): Float32Array {
  return typeof s === 'function' ? s() : s;
}

/** y = x @ w + b with w row-major [inDim, outDim]. */
export interface HostDense {
  w: F32Source;
  inDim: number;
  outDim: number;
  b: F32Source | null;
}

export interface HostLayerNorm {
  gamma: F32Source;
  beta: F32Source;
  eps: number;
}

export interface HostBlock {
  ln1: HostLayerNorm;
  q: HostDense;
  k: HostDense;
  v: HostDense;
  o: HostDense;
  ln2: HostLayerNorm;
  fc1: HostDense;
  fc2: HostDense;
  ls1: F32Source | null;
  ls2: F32Source | null;
}

export interface HostVitWeights {
  patch: HostDense; // [3*p*p, width], rows in (channel, ky, kx) order
  cls: F32Source; // [width]
  pos: F32Source; // [posTokens, width]
  posTokens: number;
  posHasCls: boolean;
  lnPre: HostLayerNorm | null;
  blocks: HostBlock[];
  lnPost: HostLayerNorm;
  proj: HostDense | null; // [width, outputDim], no bias
}

/** Per block and projection ('3.v'), a replacement of the frozen Dense (merged LoRA). */
export type ProjectionOverrides = Map<string, HostDense>;

export interface HostHead {
  w: Float32Array; // [inputDim, numClasses]
  b: Float32Array; // [numClasses]
  inputDim: number;
  numClasses: number;
}

const f32 = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;
const lazy =
  (t: tf.Tensor): F32Source =>
  () =>
    f32(t);

function dense(d: Dense): HostDense {
  return { w: lazy(d.w), inDim: d.w.shape[0], outDim: d.w.shape[1], b: d.b ? lazy(d.b) : null };
}

function layerNorm(l: LayerNormWeights): HostLayerNorm {
  return { gamma: lazy(l.gamma), beta: lazy(l.beta), eps: l.eps };
}

/**
 * Lazy readers of every weight of `encoder` (read-only views or copies, depending on the tfjs
 * backend).
 * VitEncoder keeps its weights private; this is the one place that reaches them, because an
 * exporter needs all of them and vit.ts is the model definition we export from.
 */
export function hostWeightsOf(encoder: VitEncoder): HostVitWeights {
  const W = (encoder as unknown as { weights?: VitWeights }).weights;
  if (!W || !Array.isArray(W.blocks)) throw new Error('hostWeightsOf: not a VitEncoder (no weights to export)');
  return {
    patch: dense(W.patch),
    cls: lazy(W.cls),
    pos: lazy(W.pos),
    posTokens: W.pos.shape[0],
    posHasCls: W.posHasCls,
    lnPre: W.lnPre ? layerNorm(W.lnPre) : null,
    blocks: W.blocks.map((B) => ({
      ln1: layerNorm(B.ln1),
      q: dense(B.q),
      k: dense(B.k),
      v: dense(B.v),
      o: dense(B.o),
      ln2: layerNorm(B.ln2),
      fc1: dense(B.fc1),
      fc2: dense(B.fc2),
      ls1: B.ls1 ? lazy(B.ls1) : null,
      ls2: B.ls2 ? lazy(B.ls2) : null,
    })),
    lnPost: layerNorm(W.lnPost),
    proj: W.proj ? { w: lazy(W.proj), inDim: W.proj.shape[0], outDim: W.proj.shape[1], b: null } : null,
  };
}

/** The adapter's projections merged into the encoder's base weights (merged when written). */
export function mergedOverrides(encoder: VitEncoder, adapter: LoraAdapter): ProjectionOverrides {
  const out: ProjectionOverrides = new Map();
  const scale = adapter.spec.scale;
  for (const layer of adapter.layers.values()) {
    const base = encoder.baseProjection(layer.block, layer.name);
    const w = () => {
      const merged = mergeDense(base, layer, scale);
      try {
        return f32(merged.w).slice();
      } finally {
        merged.w.dispose();
      }
    };
    out.set(layerKey(layer.block, layer.name), { w, inDim: base.w.shape[0], outDim: base.w.shape[1], b: base.b ? lazy(base.b) : null });
  }
  return out;
}

export function hostHead(head: LinearHead): HostHead {
  return { w: f32(head.w).slice(), b: f32(head.b).slice(), inputDim: head.inputDim, numClasses: head.numClasses };
}
