// The int8 export (quantize.ts, int8Attention.ts): per-channel weight codes and scales, the CPU
// check that picks the weight range, and the graph itself: every
// block projection is a MatMulInteger on an int8 weight, no float MatMul with a constant
// weight is left except the per-image projection and head (kept fp32 by design), attention
// is float32 MultiHeadAttention, and ONNX Runtime fuses each projection into its int8 kernels.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEncoder } from '../../../../src/ml/models/loadEncoder';
import { buildVitModel } from '../../../../src/ml/onnx/exportVit';
import { hostHead, hostWeightsOf } from '../../../../src/ml/onnx/hostWeights';
import { loadOnnxRuntime } from '../../../../src/ml/inference/ortRuntime';
import { cpuHasSaturationFreeInt8, int8GraphKey, quantizeColumns, type Int8Options } from '../../../../src/ml/onnx/quantize';
import { LinearHead } from '../../../../src/ml/adapters/linearHead';
import { fixturePath, manifest } from '../../../support/encoderFixtures';
import { readOnnxModel, type OnnxGraph } from '../../../support/onnxGraphReader';

const dir = mkdtempSync(join(tmpdir(), 'int8-graph-'));
const families = manifest.fixtures.filter((f, i, a) => a.findIndex((g) => g.family === f.family) === i);
const FLOAT = 1;
const INT8 = 3;

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opCount = (g: OnnxGraph, op: string) => g.nodes.filter((n) => n.op === op).length;

describe('per-channel weight quantization', () => {
  it('codes * scale reproduce each column within half a step, use the full range, and survive an all-zero column', () => {
    const [rows, cols] = [20, 7];
    const w = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 1.7) * (1 + (i % cols))); // column j ~ (1 + j)
    for (let r = 0; r < rows; r++) w[r * cols + 3] = 0;
    for (const weightMax of [127, 63]) {
      const { q, scales } = quantizeColumns(w, rows, cols, weightMax);
      expect(scales[3]).toBe(1);
      for (let j = 0; j < cols; j++) {
        let maxCode = 0;
        for (let r = 0; r < rows; r++) {
          const i = r * cols + j;
          expect(Math.abs(q[i] * scales[j] - w[i])).toBeLessThanOrEqual(scales[j] / 2 + 1e-6);
          maxCode = Math.max(maxCode, Math.abs(q[i]));
        }
        expect(maxCode).toBe(j === 3 ? 0 : weightMax);
      }
    }
    expect(() => quantizeColumns(w, rows, cols + 1)).toThrow(/140 values for \[20, 8\]/);
  });

  it('keeps the full int8 range only where the CPU cannot saturate (x86 VNNI/AMX, or not x86)', () => {
    expect(cpuHasSaturationFreeInt8('x64', () => 'flags\t: fpu avx2 avx512f avx512_vnni')).toBe(true);
    expect(cpuHasSaturationFreeInt8('x64', () => 'flags\t: fpu avx2 avx_vnni')).toBe(true);
    expect(cpuHasSaturationFreeInt8('x64', () => 'flags\t: fpu avx2 avx512bw')).toBe(false);
    expect(
      cpuHasSaturationFreeInt8('x64', () => {
        throw new Error('no /proc');
      }),
    ).toBe(false);
    expect(cpuHasSaturationFreeInt8('arm64', () => '')).toBe(true);
  });
});

describe('the int8 graph', () => {
  for (const fx of families) {
    it(`${fx.family}: MatMulInteger on int8 weights for q, k, v, o, fc1, fc2; float MatMul only for proj/head; fused by ONNX Runtime`, async () => {
      const enc = loadEncoder(fixturePath(fx.file), { heads: manifest.config.heads });
      const head = LinearHead.create(enc.config.outputDim, 4, 1);
      try {
        const depth = enc.config.depth;
        const opts = { head: hostHead(head) };
        const fp32 = readOnnxModel(buildVitModel(enc.config, hostWeightsOf(enc), opts).toBytes());
        const bytes = buildVitModel(enc.config, hostWeightsOf(enc), { ...opts, int8: { weightMax: 127 } }).toBytes();
        const int8 = readOnnxModel(bytes);
        const init = int8.initializers;

        expect(opCount(fp32, 'MatMulInteger')).toBe(0);
        expect(opCount(int8, 'MatMulInteger')).toBe(6 * depth);
        for (const n of int8.nodes.filter((m) => m.op === 'MatMulInteger')) {
          const w = init.get(n.inputs[1]);
          expect(w?.dataType, n.name).toBe(INT8);
          expect(w!.dims).toHaveLength(2);
        }
        // Float MatMuls that read a constant weight: only the one-row-per-image layers.
        const constFloat = int8.nodes.filter((n) => n.op === 'MatMul' && n.inputs.some((i) => init.get(i)?.dataType === FLOAT));
        const wantFloat = ['head_mm', ...(enc.config.family.includes('clip') ? ['proj_mm'] : [])].sort();
        expect(constFloat.map((n) => n.outputs[0]).sort()).toEqual(wantFloat);
        expect(opCount(int8, 'MatMul')).toBe(wantFloat.length); // attention is MultiHeadAttention, no MatMul
        const mha = int8.nodes.filter((n) => n.op === 'MultiHeadAttention');
        expect(mha).toHaveLength(depth);
        expect(mha.every((n) => n.domain === 'com.microsoft')).toBe(true);
        expect(int8.opsets.get('com.microsoft')).toBe(1);
        expect(opCount(int8, 'LayerNormalization')).toBe(opCount(fp32, 'LayerNormalization'));
        expect(opCount(int8, 'Conv')).toBe(1); // patch embedding stays float32 (about 2 % of the int8 time)
        // One activation quantization for q, k and v, one each for o, fc1 and fc2.
        expect(opCount(int8, 'DynamicQuantizeLinear')).toBe(4 * depth);
        expect(bytes.length).toBeLessThan(readFileSync(fixturePath(fx.file)).length);

        // What ONNX Runtime runs: every projection in an int8 kernel, no MatMulInteger left over.
        const loaded = await loadOnnxRuntime();
        if (!loaded.ok) throw new Error(loaded.reason);
        const out = join(dir, `${fx.family}.opt.onnx`);
        const create = loaded.ort.InferenceSession.create as (
          m: Uint8Array,
          o: Record<string, unknown>,
        ) => Promise<{ release(): Promise<void> }>;
        const s = await create(bytes, {
          graphOptimizationLevel: 'extended',
          optimizedModelFilePath: out,
          intraOpNumThreads: 1,
          logSeverityLevel: 3,
        });
        await s.release();
        const opt = readOnnxModel(readFileSync(out));
        expect(opCount(opt, 'MatMulInteger')).toBe(0);
        expect(opCount(opt, 'DynamicQuantizeMatMul') + opCount(opt, 'MatMulIntegerToFloat')).toBe(6 * depth);
      } finally {
        head.dispose();
        enc.dispose();
      }
    });
  }
});

describe('int8 options the agreement bench measures (bench/int8-agreement.ts)', () => {
  it('float32 projections or blocks, and per-token scales, change exactly those layers and the cache key', () => {
    const enc = loadEncoder(fixturePath(families[0].file), { heads: manifest.config.heads });
    try {
      const depth = enc.config.depth;
      const graph = (int8: Int8Options) => readOnnxModel(buildVitModel(enc.config, hostWeightsOf(enc), { int8 }).toBytes());
      const noFc2 = graph({ weightMax: 127, float32: ['fc2'] });
      expect(opCount(noFc2, 'MatMulInteger')).toBe(5 * depth);
      expect(noFc2.nodes.filter((n) => n.op === 'MatMul').map((n) => n.outputs[0])).toContain('blocks.0.fc2_mm');
      const lastFloat = graph({ weightMax: 127, float32Blocks: [-1] });
      expect(opCount(lastFloat, 'MatMulInteger')).toBe(6 * (depth - 1));
      expect(opCount(lastFloat, 'MultiHeadAttention')).toBe(depth - 1); // the float block keeps the float attention
      // Per token: q, k, v share one scale per row, o and fc1 one each; fc2 (after GELU) stays per tensor.
      const rows = graph({ weightMax: 127, activations: 'row' });
      expect(opCount(rows, 'ReduceMax')).toBe(3 * depth);
      expect(opCount(rows, 'DynamicQuantizeLinear')).toBe(depth);
      expect(opCount(rows, 'MatMulInteger')).toBe(6 * depth);
      expect(int8GraphKey({ weightMax: 127 })).toEqual({ weightMax: 127 });
      expect(int8GraphKey({ weightMax: 127, float32: ['fc2', 'o'], float32Blocks: [3, -1], activations: 'row' })).toEqual({
        weightMax: 127,
        float32: ['fc2', 'o'],
        float32Blocks: [-1, 3],
        activations: 'row',
      });
    } finally {
      enc.dispose();
    }
  });
});
