// Test helper: pick a tfjs backend by name (wasm needs the path of its .wasm binaries in Node).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { resolve } from 'node:path';

export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (name === 'wasm') setWasmPaths(resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
}
