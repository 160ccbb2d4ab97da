// NumPy .npy (format 1.0-3.0) reader and writer for float32 arrays: the exchange format of
// `cytotune embed --tensor X.npy --output OUT.npy` and of the parity fixtures.

export class NpyError extends Error {
  readonly kind = 'bad-npy';
}

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function parseNpy(bytes: Uint8Array, what = 'array'): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw new NpyError(`${what}: not a .npy file`);
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLen;
  if (start > bytes.length) throw new NpyError(`${what}: truncated .npy header`);
  const header = new TextDecoder().decode(bytes.subarray(major === 1 ? 10 : 12, start));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new NpyError(`${what}: malformed .npy header`);
  if (fortran) throw new NpyError(`${what}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(start);
  const data = new Float32Array(count);
  const bd = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const little = descr[0] !== '>';
  const kind = descr.replace(/^[<>|=]/, '');
  const size = { f4: 4, f8: 8, f2: 2 }[kind as 'f4' | 'f8' | 'f2'];
  if (!size) throw new NpyError(`${what}: dtype ${descr} is not supported; save as float32`);
  if (body.length < count * size) throw new NpyError(`${what}: truncated .npy data (${body.length} of ${count * size} bytes)`);
  for (let i = 0; i < count; i++) {
    if (kind === 'f4') data[i] = bd.getFloat32(i * 4, little);
    else if (kind === 'f8') data[i] = bd.getFloat64(i * 8, little);
    else data[i] = halfToFloat(bd.getUint16(i * 2, little));
  }
  return { shape, data };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Serialises a float32 array as .npy version 1.0, little-endian, C order. */
export function formatNpy(arr: NpyArray): Uint8Array {
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + arr.data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const dv = new DataView(out.buffer, 10 + header.length);
  arr.data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return out;
}
