// Little-endian raw bytes -> Float32Array for the float dtypes checkpoints use.
import { CheckpointError } from './errors';
import type { TensorDtype } from './types';

export const DTYPE_BYTES: Record<TensorDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

// IEEE half -> float via a 65536-entry table built once (fast, exact).
let halfTable: Float32Array | null = null;
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  halfTable = t;
  return t;
}

/** Converts `count` elements of `dtype` stored little-endian in `bytes` to float32. */
export function toFloat32(bytes: Uint8Array, dtype: TensorDtype, count: number, what: string): Float32Array {
  const need = count * DTYPE_BYTES[dtype];
  if (bytes.byteLength < need) throw new CheckpointError('truncated', `${what}: expected ${need} bytes, found ${bytes.byteLength}`);
  const out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, need);
  switch (dtype) {
    case 'F32':
      if (bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, count));
      else for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
      return out;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    case 'F16': {
      const t = halfToFloatTable();
      for (let i = 0; i < count; i++) out[i] = t[dv.getUint16(i * 2, true)];
      return out;
    }
    case 'BF16': {
      // bf16 is the top half of a float32: shift into place.
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      return out;
    }
    default:
      throw new CheckpointError(
        'unsupported-dtype',
        `${what}: dtype ${dtype} is not a floating-point weight (F32, F16, BF16 are supported)`,
      );
  }
}
