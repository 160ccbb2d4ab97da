// One interface over every checkpoint format: names, shapes and dtypes are known after opening;
// the bytes of a tensor are read only when asked for, so loading a 1.2 GB ViT-L checkpoint keeps
// at most one tensor (plus the tfjs copy being built) in JS memory at a time.

export type TensorDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface TensorInfo {
  shape: number[];
  dtype: TensorDtype;
}

export interface Checkpoint {
  /** 'safetensors' | 'torch-zip' | 'torchscript'. */
  readonly format: string;
  readonly path: string;
  /** Every tensor in the file, by its (prefix-stripped) state-dict name. */
  readonly tensors: Map<string, TensorInfo>;
  /** Reads one tensor, converted to float32, in row-major (C) order. */
  read(name: string): Float32Array;
  close(): void;
}

export const FLOAT_DTYPES: ReadonlySet<TensorDtype> = new Set(['F64', 'F32', 'F16', 'BF16']);

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
