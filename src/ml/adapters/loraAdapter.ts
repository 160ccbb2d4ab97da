// The trainable LoRA factors of one model. Stored transposed with respect to PyTorch
// (aT = A^T: [in, r], bT = B^T: [r, out]) so the branch is two non-transposed 2-D matMuls,
// x @ aT @ bT, the fast path of the wasm backend; files keep PyTorch's A [r, in], B [out, r].
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderConfig } from '../models/encoder';
import { hashSeed, Rng } from '../random';
import type { HostTensor } from './safetensorsIo';
import { layerKey, type LoraSpec } from './loraConfig';
import type { ProjectionName } from '../../shared/training';

export interface LoraLayer {
  block: number;
  name: ProjectionName;
  /** A^T, [in, r]. */
  aT: tf.Variable<tf.Rank.R2>;
  /** B^T, [r, out]. */
  bT: tf.Variable<tf.Rank.R2>;
}

/** Named host copy of a tensor in PyTorch layout (for files and checkpoints). */
export class LoraAdapter {
  private constructor(
    readonly spec: LoraSpec,
    readonly layers: Map<string, LoraLayer>,
  ) {}

  /**
   * A ~ kaiming_uniform_(a=sqrt(5)) on [r, in]: bound = sqrt(6 / ((1 + a^2) fan_in)) = 1/sqrt(in);
   * B = 0, so the adapted model starts equal to the base model.
   * All q,k,v,o projections of the families we support are width -> width.
   */
  static create(config: Pick<EncoderConfig, 'width'>, spec: LoraSpec, seed: number): LoraAdapter {
    const inDim = config.width;
    const outDim = config.width;
    const bound = 1 / Math.sqrt(inDim);
    const layers = new Map<string, LoraLayer>();
    for (const block of spec.blocks) {
      for (const name of spec.targets) {
        const rng = new Rng(hashSeed(seed, 'lora-init', block, name));
        // Drawn in PyTorch's A [r, in] row order, then transposed, so a seed means the same A.
        const a = rng.uniformArray(spec.rank * inDim, -bound, bound);
        layers.set(layerKey(block, name), makeLayer(block, name, a, new Float32Array(outDim * spec.rank), inDim, outDim, spec.rank));
      }
    }
    return new LoraAdapter(spec, layers);
  }

  /** Rebuilds an adapter from PyTorch-layout tensors named `blocks.{i}.{q|k|v|o}.lora_{A|B}`. */
  static fromHostTensors(spec: LoraSpec, tensors: Map<string, HostTensor>, width: number): LoraAdapter {
    const layers = new Map<string, LoraLayer>();
    for (const block of spec.blocks) {
      for (const name of spec.targets) {
        const a = tensors.get(`blocks.${block}.${name}.lora_A`);
        const b = tensors.get(`blocks.${block}.${name}.lora_B`);
        if (!a || !b) throw new Error(`missing LoRA tensors for block ${block} ${name}`);
        if (a.shape[0] !== spec.rank || a.shape[1] !== width || b.shape[0] !== width || b.shape[1] !== spec.rank) {
          throw new Error(
            `LoRA tensors for block ${block} ${name} have shapes ${a.shape}/${b.shape}, expected [${spec.rank},${width}]/[${width},${spec.rank}]`,
          );
        }
        layers.set(layerKey(block, name), makeLayer(block, name, a.data, b.data, width, width, spec.rank));
      }
    }
    return new LoraAdapter(spec, layers);
  }

  get(block: number, name: ProjectionName): LoraLayer | undefined {
    return this.layers.get(layerKey(block, name));
  }

  /** In a fixed order (blocks ascending, then q,k,v,o; A before B): the optimiser relies on it. */
  variables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const l of this.layers.values()) out.push(l.aT, l.bT);
    return out;
  }

  /** Trainable LoRA parameters: sum over layers of r * (in + out). */
  parameterCount(): number {
    let n = 0;
    for (const l of this.layers.values()) n += l.aT.size + l.bT.size;
    return n;
  }

  /** PyTorch layout: A [r, in], B [out, r]. */
  toHostTensors(): HostTensor[] {
    const out: HostTensor[] = [];
    for (const l of this.layers.values()) {
      const [a, b] = tf.tidy(() => [tf.transpose(l.aT), tf.transpose(l.bT)]);
      out.push({ name: `blocks.${l.block}.${l.name}.lora_A`, shape: a.shape, data: a.dataSync() as Float32Array });
      out.push({ name: `blocks.${l.block}.${l.name}.lora_B`, shape: b.shape, data: b.dataSync() as Float32Array });
      a.dispose();
      b.dispose();
    }
    return out;
  }

  dispose(): void {
    for (const l of this.layers.values()) {
      l.aT.dispose();
      l.bT.dispose();
    }
    this.layers.clear();
  }
}

function makeLayer(
  block: number,
  name: ProjectionName,
  a: Float32Array,
  b: Float32Array,
  inDim: number,
  outDim: number,
  r: number,
): LoraLayer {
  // a is A [r, in] and b is B [out, r] (row-major), transposed once here.
  const aT = tf.tidy(() => tf.transpose(tf.tensor2d(a, [r, inDim])));
  const bT = tf.tidy(() => tf.transpose(tf.tensor2d(b, [outDim, r])));
  const layer: LoraLayer = { block, name, aT: tf.variable(aT as tf.Tensor2D, true), bT: tf.variable(bT as tf.Tensor2D, true) };
  aT.dispose();
  bT.dispose();
  return layer;
}
