// Kernel fixes for tfjs-backend-wasm 4.22 that keep results bit-identical and only change speed
// and memory.
//
// Slice: the stock kernel starts with `backend.readSync(x)`, which copies the WHOLE input out of
// the wasm heap (HEAPU8.slice) before taking the slice. Taking the 96 per-head [197, 197] blocks
// of a batch-8 ViT-B attention matrix [96 * 197, 197] that way copies 96 x 15 MB = 1.4 GB per
// layer (tfjs-wasm's unstack is slow: bench/train-step.ts). This
// kernel reads heap views instead, so a slice costs only the bytes it returns.
//
// Identity: tfjs-core clones every tensor it saves for the backward pass (engine
// saveTensorsForBackwardMode -> clone -> Identity kernel), and the stock wasm kernel copies the
// data, so under a gradient tape most activations exist twice while their block runs (1 127
// copies per ViT-B training image). tfjs tensors are immutable (variables get new data on
// assign), and the cpu backend's Identity shares the data with a reference count: so does this
// one, as the wasm backend's own Reshape does.
import * as tf from '@tensorflow/tfjs-core';
import { slice_util, util } from '@tensorflow/tfjs-core';

interface WasmTensorInfo {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}
/** The parts of tfjs-backend-wasm's BackendWasm this file uses (not exported as a type we can import without the backend). */
interface WasmBackendLike {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): WasmTensorInfo;
  typedArrayFromHeap(t: WasmTensorInfo): Float32Array | Int32Array | Uint8Array;
}

type KernelFunc = tf.KernelConfig['kernelFunc'];

let installed = false;

/** Replaces the wasm backend's Slice and Identity kernels with copy-free ones; idempotent. Needs the wasm backend registered. */
export function installWasmKernelFixes(): void {
  if (installed) return;
  const slice = tf.getKernel('Slice', 'wasm');
  const identity = tf.getKernel('Identity', 'wasm');
  if (!slice || !identity) return; // wasm backend not imported: nothing to fix
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ ...slice, kernelFunc: viewSlice(slice.kernelFunc) });
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ ...identity, kernelFunc: sharedIdentity(identity.kernelFunc) });
  installed = true;
}

function sharedIdentity(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend } = args as unknown as { inputs: { x: WasmTensorInfo }; backend: WasmBackendLike };
    const x = inputs.x;
    if (x.dtype === 'string') return fallback(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype } as unknown as tf.TensorInfo;
  };
}

export function wasmKernelFixesInstalled(): boolean {
  return installed;
}

function viewSlice(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs, backend } = args as unknown as {
      inputs: { x: WasmTensorInfo };
      attrs: { begin: number[] | number; size: number[] | number };
      backend: WasmBackendLike;
    };
    const x = inputs.x;
    if (x.dtype === 'string' || x.shape.length > 4) return fallback(args);
    const [begin, size] = slice_util.parseSliceParams(x as unknown as tf.TensorInfo, attrs.begin, attrs.size);
    // Allocate first: makeOutput may grow the heap, which detaches earlier views.
    const out = backend.makeOutput(size, x.dtype);
    const outVals = backend.typedArrayFromHeap(out);
    const xVals = backend.typedArrayFromHeap(x);
    const strides = util.computeStrides(x.shape);
    if (slice_util.isSliceContinous(x.shape, begin, size)) {
      const offset = slice_util.computeFlatOffset(begin, strides);
      outVals.set(xVals.subarray(offset, offset + util.sizeFromShape(size)));
      return out;
    }
    copyRows(xVals, strides, outVals, begin, size);
    return out;
  };
}

/** Copies the box [begin, begin + size) of a row-major array of rank 1-4 row by row (innermost axis contiguous). */
function copyRows(
  x: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> },
  strides: number[],
  out: { set(a: ArrayLike<number>, o: number): void },
  begin: number[],
  size: number[],
): void {
  const rank = size.length;
  // Pad to rank 4 so one loop nest serves every rank.
  const b = [0, 0, 0, 0];
  const s = [1, 1, 1, 1];
  const st = [0, 0, 0, 1];
  for (let i = 0; i < rank; i++) {
    b[4 - rank + i] = begin[i];
    s[4 - rank + i] = size[i];
  }
  for (let i = 0; i < rank - 1; i++) st[4 - rank + i] = strides[i];
  let o = 0;
  for (let i = 0; i < s[0]; i++) {
    for (let j = 0; j < s[1]; j++) {
      for (let k = 0; k < s[2]; k++) {
        const start = (b[0] + i) * st[0] + (b[1] + j) * st[1] + (b[2] + k) * st[2] + b[3];
        out.set(x.subarray(start, start + s[3]), o);
        o += s[3];
      }
    }
  }
}
