// Where training starts (`cytotune train --init-adapter FILE --init-head FILE`): a LoRA adapter
// and a linear head read from files instead of drawn from the seed, so another implementation
// can start from exactly the same values (scripts/training-equality; `--steps 0` writes them).
// CytoTune adapter and head files are checked against the base model; plain safetensors files
// holding only the tensors (blocks.{i}.{q|k|v|o}.lora_A [r, in] / lora_B [out, r], head.weight
// [C, D], head.bias [C], PyTorch layout) are accepted too. The run's LoRA spec decides which
// tensors are needed: a file with fewer or more of them is refused, never silently mixed.
import { ADAPTER_FORMAT, AdapterError, checkSameBase, parseBaseMetadata, type BaseModelInfo } from '../adapters/adapterFile';
import { HEAD_FORMAT } from '../adapters/headFile';
import { LinearHead } from '../adapters/linearHead';
import { LoraAdapter } from '../adapters/loraAdapter';
import type { LoraSpec } from '../adapters/loraConfig';
import { readWeightsFile } from '../adapters/safetensorsIo';

export interface InitialStateRequest {
  adapterPath?: string;
  headPath?: string;
  base: BaseModelInfo & { outputDim: number };
  /** The run's LoRA spec (null for a linear probe, which has no adapter). */
  spec: LoraSpec | null;
  numClasses: number;
}

export interface InitialState {
  /** Owned by the caller (handed to the trainer, which disposes what it trains). */
  adapter: LoraAdapter | null;
  head: LinearHead | null;
}

export async function loadInitialState(r: InitialStateRequest): Promise<InitialState> {
  if (r.adapterPath && !r.spec) throw new AdapterError('adapter-invalid', '--init-adapter is for LoRA runs; a linear probe has no adapter');
  const adapter = r.adapterPath ? await readAdapter(r.adapterPath, r.base, r.spec!) : null;
  try {
    const head = r.headPath ? await readHead(r.headPath, r.base, r.numClasses) : null;
    return { adapter, head };
  } catch (err) {
    adapter?.dispose();
    throw err;
  }
}

async function readAdapter(path: string, base: BaseModelInfo, spec: LoraSpec): Promise<LoraAdapter> {
  const { tensors, metadata } = await readWeightsFile(path);
  if (metadata.format !== undefined && metadata.format !== ADAPTER_FORMAT)
    throw new AdapterError('adapter-invalid', `${path}: not a LoRA adapter (format "${metadata.format}")`);
  if (metadata.format === ADAPTER_FORMAT) checkSameBase(path, parseBaseMetadata(path, metadata), base);
  const loraNames = [...tensors.keys()].filter((n) => /^blocks\.\d+\.[qkvo]\.lora_[AB]$/.test(n));
  const wanted = spec.blocks.length * spec.targets.length * 2;
  if (loraNames.length !== wanted) {
    const found = [...new Set(loraNames.map((n) => n.split('.')[2]))].sort().join(',') || 'none';
    throw new AdapterError(
      'adapter-invalid',
      `${path}: holds ${loraNames.length} LoRA tensors (targets ${found}) but this run adapts ${spec.targets.join(',')} of ${spec.blocks.length} blocks (${wanted} tensors); ` +
        'give the --targets and --rank the file was made with',
    );
  }
  try {
    return LoraAdapter.fromHostTensors(spec, tensors, base.width);
  } catch (err) {
    throw new AdapterError(
      'adapter-invalid',
      `${path}: ${(err as Error).message} (this run uses rank ${spec.rank}; give the file's --rank)`,
    );
  }
}

async function readHead(path: string, base: BaseModelInfo & { outputDim: number }, numClasses: number): Promise<LinearHead> {
  const { tensors, metadata } = await readWeightsFile(path);
  if (metadata.format !== undefined && metadata.format !== HEAD_FORMAT)
    throw new AdapterError('adapter-invalid', `${path}: not a linear head (format "${metadata.format}")`);
  if (metadata.format === HEAD_FORMAT) checkSameBase(path, parseBaseMetadata(path, metadata), base);
  const w = tensors.get('head.weight');
  const b = tensors.get('head.bias');
  if (!w || !b || w.shape.length !== 2 || w.shape[0] !== numClasses || w.shape[1] !== base.outputDim || b.shape[0] !== numClasses) {
    throw new AdapterError(
      'adapter-invalid',
      `${path}: needs head.weight [${numClasses}, ${base.outputDim}] and head.bias [${numClasses}] for ${numClasses} classes on this model, ` +
        `got [${w?.shape ?? 'missing'}] and [${b?.shape ?? 'missing'}]`,
    );
  }
  return LinearHead.fromHostTensors(tensors);
}
