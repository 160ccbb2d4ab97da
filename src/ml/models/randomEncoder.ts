// Tiny (or real-size) random models in any family's checkpoint layout, for tests, the training
// engineer's unit tests and benchmarks (no pretrained weights can be downloaded here). They go
// through the same loader as real checkpoints, so the names and layouts are exercised too.
import { writeFileSync } from 'node:fs';
import type { Checkpoint, TensorInfo } from '../checkpoint/types';
import { Xoshiro128, type SeededRandom } from '../random';
import type { FamilyName } from './encoder';
import { encoderFromCheckpoint } from './loadEncoder';
import { familyByName } from './registry';
import type { VitEncoder } from './vit';

export interface RandomModelSpec {
  family: FamilyName;
  imageSize: number;
  patchSize: number;
  width: number;
  depth: number;
  /** Default width / 64 when width is a multiple of 64, else 2. */
  heads?: number;
  /** Default 4 * width. */
  mlpDim?: number;
  /** Projection size for CLIP families (default width / 2); ViTs output width. */
  outputDim?: number;
  /** timm-vit and open-clip-timm only: add LayerScale gammas (UNI). */
  layerScale?: boolean;
}

export type StateDict = Map<string, { shape: number[]; data: Float32Array }>;

/** What a family's `randomStateDict` fills a state dict with; draws come from one seeded stream, in call order. */
export interface StateDictBuilder {
  readonly rng: SeededRandom;
  /** width, MLP size, output size, position rows (grid^2 + 1) of the spec. */
  readonly dims: { width: number; mlp: number; out: number; tokens: number };
  fill(name: string, shape: number[], f: () => number): void;
  /** N(0, scale^2) values. */
  randn(name: string, shape: number[], scale: number): void;
  /** torch Linear: weight [o, i] ~ N(0, 1/i), bias [o] ~ N(0, 0.02^2). */
  linear(name: string, o: number, i: number, bias?: boolean): void;
  /** LayerNorm over width: gamma ~ 1 + 0.1 N(0, 1), beta ~ N(0, 0.02^2). */
  layerNorm(name: string, gamma?: string, beta?: string): void;
  /** Conv2d(3, width, p, stride p): weight [width, 3, p, p] (+ bias [width]). */
  conv(name: string, bias: boolean): void;
}

/** A random state dict with `spec.family`'s tensor names and torch shapes ([out, in] linears). */
export function randomStateDict(spec: RandomModelSpec, seed: number): StateDict {
  const rng = new Xoshiro128(seed);
  const { width: w, patchSize: p } = spec;
  const dims = { width: w, mlp: spec.mlpDim ?? 4 * w, out: spec.outputDim ?? Math.max(1, w / 2), tokens: (spec.imageSize / p) ** 2 + 1 };
  const sd: StateDict = new Map();
  const fill = (name: string, shape: number[], f: () => number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = f();
    sd.set(name, { shape, data });
  };
  const randn = (name: string, shape: number[], scale: number) => fill(name, shape, () => scale * rng.normal());
  const builder: StateDictBuilder = {
    rng,
    dims,
    fill,
    randn,
    linear: (name, o, i, bias = true) => {
      randn(`${name}.weight`, [o, i], 1 / Math.sqrt(i));
      if (bias) randn(`${name}.bias`, [o], 0.02);
    },
    layerNorm: (name, g = 'weight', b = 'bias') => {
      fill(`${name}.${g}`, [w], () => 1 + 0.1 * rng.normal());
      randn(`${name}.${b}`, [w], 0.02);
    },
    conv: (name, bias) => {
      randn(`${name}.weight`, [w, 3, p, p], 1 / Math.sqrt(3 * p * p));
      if (bias) randn(`${name}.bias`, [w], 0.02);
    },
  };
  familyByName(spec.family).randomStateDict(builder, spec);
  return sd;
}

/** A Checkpoint over an in-memory state dict (same interface as the file readers). */
export function memoryCheckpoint(sd: StateDict, path = '<memory>'): Checkpoint {
  const tensors = new Map<string, TensorInfo>();
  for (const [k, v] of sd) tensors.set(k, { shape: v.shape, dtype: 'F32' });
  return {
    format: 'memory',
    path,
    tensors,
    read: (name) => {
      const t = sd.get(name);
      if (!t) throw new Error(`no tensor ${name}`);
      return t.data.slice();
    },
    close: () => {},
  };
}

function defaultHeads(spec: RandomModelSpec): number {
  return spec.heads ?? (spec.width % 64 === 0 ? spec.width / 64 : 2);
}

/**
 * A random encoder of any family, e.g. createRandomEncoder({family: 'timm-vit', imageSize: 32,
 * patchSize: 8, width: 32, depth: 2, heads: 2}, 0). Same seed, same weights.
 */
export function createRandomEncoder(spec: RandomModelSpec, seed = 0): VitEncoder {
  return encoderFromCheckpoint(memoryCheckpoint(randomStateDict(spec, seed)), { family: spec.family, heads: defaultHeads(spec) });
}

/** Writes a state dict as an F32 safetensors file (little-endian, 8-byte aligned header). */
export function writeSafetensors(path: string, sd: StateDict, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [k, v] of sd) {
    header[k] = { dtype: 'F32', shape: v.shape, data_offsets: [offset, offset + v.data.byteLength] };
    offset += v.data.byteLength;
  }
  if (metadata) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const buf = new Uint8Array(8 + head.length + offset);
  new DataView(buf.buffer).setBigUint64(0, BigInt(head.length), true);
  buf.set(head, 8);
  let p = 8 + head.length;
  for (const v of sd.values()) {
    buf.set(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength), p);
    p += v.data.byteLength;
  }
  writeFileSync(path, buf);
}
